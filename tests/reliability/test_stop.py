"""--timeout and Ctrl-C stop the whole process group (pool workers included), keep what was
collected, and say how the run ended."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from harness.summary import find_runs, load
from tests.reliability.support import harness, survivors

POOL_FOREVER = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor

def spin(n):
    with open(sys.argv[1], "a") as f:
        f.write(f"{os.getpid()}\\n")
    while True:
        sum(range(10_000))

if __name__ == "__main__":
    with open(sys.argv[1], "a") as f:
        f.write(f"{os.getpid()}\\n")
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(spin, range(2)))
"""


def _pids(path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("tool", ["py-spy", "none"])
def test_timeout_stops_the_group_and_keeps_the_profile(tmp_path, tool, ledger):
    script, pids = tmp_path / "pool_forever.py", tmp_path / "pids"
    script.write_text(POOL_FOREVER)
    out = tmp_path / "profiles"
    started = time.monotonic()
    proc = harness(
        "run",
        str(script),
        "--tool",
        tool,
        "--timeout",
        "4",
        "--grace",
        "5",
        "--out",
        str(out),
        "--",
        str(pids),
    )
    assert time.monotonic() - started < 40
    assert proc.returncode == 124, proc.stdout + proc.stderr
    (run_dir,) = find_runs(out)
    summary = load(run_dir)
    assert summary.status == "timeout"
    assert len(_pids(pids)) == 3, "the pool did not start: the test proves nothing"
    left = survivors(_pids(pids))
    assert left == []
    if tool == "py-spy":
        assert "flamegraph" in summary.artifacts
        assert "spin" in (run_dir / "pyspy.folded").read_text()
    ledger(
        f"timeout of a 2-worker pool under {tool}", faults="--timeout 4", orphans=len(left)
    ).record()


def test_ctrl_c_on_the_harness_interrupts_and_collects(tmp_path, ledger):
    script, pids = tmp_path / "pool_forever.py", tmp_path / "pids"
    script.write_text(POOL_FOREVER)
    out = tmp_path / "profiles"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            str(script),
            "--tool",
            "py-spy",
            "--out",
            str(out),
            "--",
            str(pids),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while len(_pids(pids)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    (run_dir,) = find_runs(out)
    summary = load(run_dir)
    assert summary.status == "interrupted"
    left = survivors(_pids(pids))
    assert left == []
    assert "flamegraph" in summary.artifacts
    assert json.loads((run_dir / "manifest.json").read_text())["tool"] == "py-spy"
    ledger(
        "Ctrl-C on harness run (2-worker pool, py-spy)",
        faults="SIGINT to the harness",
        orphans=len(left),
    ).record()
