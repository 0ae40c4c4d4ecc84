"""py-spy's GIL companion: `record --pid P --gil --nonblocking` beside the main recording, and
the share of time the GIL was held, read back from it.

The companion keeps per sampling round only the thread holding the GIL (nothing when none
does). It does not pause the target, so it does not fight the main recording, which does.
gil_held_fraction = GIL samples / sampling rounds, for the main Python process only (child
processes have GILs of their own). py-spy's closing "Samples: N" counts stacks written, not
rounds (with --gil: the GIL samples again), so rounds = rate x seconds sampled - failed rounds
("Errors: E"). The window runs from the companion's "Sampling process" line, seen by start(),
to the mtime of the file py-spy writes when it stops (kept in the meta file by the first
collect, so copies of the run directory keep it). Rounds come at random intervals averaging
1/rate, so the share is good to about 1/sqrt(rounds).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import stacks as st
from harness.files import write_json_atomic
from harness.tools.base import ToolResult

FOLDED = "pyspy-gil.folded"
META = "pyspy-gil.meta.json"
LOG = "pyspy-gil.log"
#: The meta file's format: 1, rate, target_pid, launched_at, sampling_started_at (or error),
#: and stopped_at once a collect has seen the companion's output.
META_SCHEMA = 1
_START_WAIT_S = 3.0
_MIN_ROUNDS = 50
_ERRORS = re.compile(r"Samples: \d+ Errors: (\d+)")


def start(executable: str, pid: int, rate: int, run_dir: Path) -> subprocess.Popen | None:
    """Start the companion on the Python at `pid`; None if it cannot start. Writes the meta
    file either way, so collect() can say what happened."""
    meta: dict[str, Any] = {"schema": META_SCHEMA, "rate": rate, "target_pid": pid}
    argv = [
        executable, "record", "--pid", str(pid), "--gil", "--nonblocking",
        "--format", "raw", "--rate", str(rate), "--output", str(run_dir / FOLDED),
    ]  # fmt: skip
    log_path = run_dir / LOG
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    except OSError as exc:
        meta["error"] = f"could not start the GIL companion: {exc}"
        write_json_atomic(run_dir / META, meta)
        return None
    meta["launched_at"] = time.time()
    meta["sampling_started_at"] = _wait_for_start(proc, log_path)
    write_json_atomic(run_dir / META, meta)
    return proc


def _wait_for_start(proc: subprocess.Popen, log_path: Path) -> float | None:
    deadline = time.monotonic() + _START_WAIT_S
    while time.monotonic() < deadline:
        if b"Sampling process" in log_path.read_bytes():
            return time.time()
        if proc.poll() is not None:
            return None
        time.sleep(0.005)
    return None


def read_meta(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / META).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def collect(
    run_dir: Path, meta: dict[str, Any], result: ToolResult, hint: Callable[[str], str | None]
) -> None:
    """gil_held_fraction (and gil_samples, gil_seconds) into `result`, or a problem saying
    why it is unknown."""
    result.metrics["gil_held_fraction"] = None
    path = run_dir / FOLDED
    log_path = run_dir / LOG
    log = log_path.read_text(errors="replace") if log_path.is_file() else ""
    if meta.get("error"):
        result.problems.append(f"GIL share unknown: {meta['error']}")
        return
    if not path.is_file():
        if not meta:
            result.problems.append("GIL share unknown: the GIL companion was not started")
            return
        why = hint(log) or (log.strip().splitlines() or ["no output"])[-1]
        result.problems.append(f"GIL share unknown: the GIL companion wrote nothing ({why})")
        return
    gil_samples = st.total_samples(st.parse_folded(path.read_text(errors="replace")))
    result.metrics["gil_samples"] = gil_samples
    if gil_samples == 0 and result.metrics.get("active_fraction", 0) > 0.5:
        result.problems.append(
            "the GIL companion never saw a GIL holder while threads ran: py-spy may not read "
            "the GIL of this Python, so gil_held_fraction 0 is doubtful"
        )
    if meta.get("stopped_at") is None and meta:
        meta["stopped_at"] = path.stat().st_mtime
        write_json_atomic(run_dir / META, meta)
    rate, stop = meta.get("rate"), meta.get("stopped_at")
    begin = meta.get("sampling_started_at") or meta.get("launched_at")
    if not rate or begin is None or stop is None:
        result.problems.append(f"GIL share unknown: no sampling window in {META}")
        return
    errors = int(match[1]) if (match := _ERRORS.search(log)) else 0
    rounds = rate * max(0.0, stop - begin) - errors
    if rounds <= 0:
        result.problems.append("GIL share unknown: the GIL companion sampled no rounds")
        return
    result.metrics["gil_held_fraction"] = round(min(1.0, gil_samples / rounds), 3)
    result.metrics["gil_seconds"] = round(stop - begin, 3)
    if meta.get("sampling_started_at") is None:
        result.problems.append(
            "GIL companion's start was not seen: its window counts from launch (share low)"
        )
    if rounds < _MIN_ROUNDS:
        result.problems.append(
            f"GIL share from only ~{rounds:.0f} sampling rounds: "
            f"good to about {100 / math.sqrt(rounds):.0f}% of its value"
        )
