"""How long `harness study --quick` takes, end to end."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.runs import PYTHON

TIMEOUT_S = 1800.0


def study(scratch: Path) -> dict[str, Any]:
    """Time one `harness study --quick` into a scratch root."""
    out = Path(tempfile.mkdtemp(prefix="study-", dir=scratch))
    t0 = time.perf_counter()
    try:
        done = subprocess.run(
            [PYTHON, "-m", "harness", "study", "--quick", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"section": "study", "status": "timeout", "seconds": TIMEOUT_S}
    seconds = time.perf_counter() - t0
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
    return {
        "section": "study",
        "status": "ok" if done.returncode == 0 else f"exit {done.returncode}",
        "seconds": round(seconds, 1),
        "last_line": tail[0][-300:],
    }
