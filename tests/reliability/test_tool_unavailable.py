"""A profiler that is missing or cannot attach: one line with the fix, exit 2, and
`--tool all` goes on with the other tools."""

from __future__ import annotations

import os

from harness.summary import find_runs, load
from tests.reliability.support import harness

# What py-spy prints when it may not ptrace the target (recorded from py-spy 0.4.3).
STAND_IN = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "py-spy 0.4.3"; exit 0; fi
echo "Permission Denied: Try running again with elevated permissions by going \\
'sudo env \\"PATH=\\$PATH\\" !!'" >&2
exit 1
"""


def _env_with_stand_in(tmp_path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "py-spy"
    fake.write_text(STAND_IN)
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def test_py_spy_without_ptrace_is_one_line_with_the_fix(tmp_path, ledger):
    out = tmp_path / "profiles"
    proc = harness(
        "run", "output", "--set", "items=200", "--out", str(out), env=_env_with_stand_in(tmp_path)
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "ptrace" in errors[0] and "SYS_PTRACE" in errors[0]
    (run_dir,) = find_runs(out)
    summary = load(run_dir)
    assert summary.status == "failed" and summary.error["tool_unavailable"]
    ledger("py-spy cannot attach (stand-in on PATH)", faults="ptrace denied", orphans=0).record()


def test_tool_all_goes_on_with_the_other_tools(tmp_path, ledger):
    out = tmp_path / "profiles"
    proc = harness(
        "run",
        "output",
        "--tool",
        "all",
        "--set",
        "items=300",
        "--out",
        str(out),
        env=_env_with_stand_in(tmp_path),
        timeout=600,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    by_tool = {load(d).tool: load(d) for d in find_runs(out)}
    assert set(by_tool) == {"py-spy", "scalene", "memray", "viztracer"}
    assert by_tool["py-spy"].status == "failed"
    assert all(by_tool[t].status == "ok" for t in ("scalene", "memray", "viztracer"))
    ledger("--tool all with py-spy unable to attach", faults="ptrace denied", orphans=0).record()
