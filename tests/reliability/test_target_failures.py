"""A target that raises, exits non-zero or aborts: status failed, its exit code and stderr tail
in the summary and on the terminal, what was collected kept, the harness exits non-zero."""

from __future__ import annotations

import pytest

from harness.summary import find_runs, load
from tests.reliability.support import harness

WORK = "import time\nt = time.monotonic()\nwhile time.monotonic() - t < 1.0:\n    pass\n"
SCRIPTS = {
    "raises": (
        WORK + "raise RuntimeError('boom: the transform broke')\n",
        1,
        "RuntimeError: boom",
    ),
    "exits_3": (  # long enough for a profiler that attaches to a loaded machine to sample it
        WORK + "import sys\nprint('giving up', file=sys.stderr)\nsys.exit(3)\n",
        3,
        "giving up",
    ),
    "aborts": (WORK + "import os\nos.abort()\n", -6, "SIGABRT"),
}


@pytest.mark.parametrize("case", SCRIPTS)
@pytest.mark.parametrize("tool", ["none", "py-spy"])
def test_failed_target_is_reported_and_kept(tmp_path, case, tool, ledger):
    source, code, expected = SCRIPTS[case]
    script = tmp_path / f"{case}.py"
    script.write_text(source)
    out = tmp_path / "profiles"
    proc = harness("run", str(script), "--tool", tool, "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (run_dir,) = find_runs(out)
    summary = load(run_dir)
    assert summary.status == "failed"
    assert summary.exit_code == code
    assert expected in summary.error["message"] + summary.error["stderr_tail"]
    assert expected in proc.stderr or expected in proc.stdout
    if tool == "py-spy":
        assert (run_dir / "pyspy.folded").exists() and summary.artifacts.get("flamegraph")
    ledger(f"target {case} under {tool}", faults=f"exit {code}", orphans=0).record()
