"""Processes that leave the run's process group: a helper started in a new session and a daemon
that double-forks and calls setsid. After --timeout, Ctrl-C or SIGTERM none of them is left;
after a normal exit the summary lists them and they are ended, or kept with --keep-leftovers.
Survivors are checked by pid and start time, so a reused pid is not mistaken for one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from harness.summary import find_runs, load
from tests.reliability.support import harness, read_records, start_ticks, survivors_by_start

# Each program appends "<pid> <start ticks>" of the process it leaves behind to argv[1].
RECORD = """
import os, sys
def record(path):
    raw = open(f"/proc/{os.getpid()}/stat", "rb").read()
    ticks = raw[raw.rfind(b")") + 2 :].split()[19].decode()
    with open(path, "a") as f:
        f.write(f"{os.getpid()} {ticks}\\n")
"""
ESCAPE = (
    RECORD
    + """
import subprocess, time
code = RECORD_SRC + f"record({sys.argv[1]!r})\\nimport time\\ntime.sleep(600)"
subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
while True:
    time.sleep(0.1)
"""
)
DFORK = (
    RECORD
    + """
import time
parent_s = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        record(sys.argv[1])
        time.sleep(600)
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(parent_s)
"""
)


def program(tmp_path: Path, name: str) -> Path:
    source = {"escape": ESCAPE, "dfork": DFORK}[name]
    script = tmp_path / f"{name}.py"
    script.write_text(f"RECORD_SRC = {RECORD!r}\n" + source)
    return script


def wait_for(records: Path, n: int = 1, seconds: float = 30) -> list[tuple[int, int]]:
    deadline = time.monotonic() + seconds
    while len(read_records(records)) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    found = read_records(records)
    assert len(found) >= n, "the program did not start its process: the test proves nothing"
    return found


@pytest.mark.parametrize(
    "name, tool", [("escape", "none"), ("escape", "py-spy"), ("dfork", "none")]
)
def test_timeout_leaves_no_process_outside_the_group(tmp_path, name, tool, ledger):
    script, records, out = program(tmp_path, name), tmp_path / "records", tmp_path / "profiles"
    args = [str(records), "30"] if name == "dfork" else [str(records)]
    proc = harness(
        "run", str(script), "--tool", tool, "--timeout", "2", "--grace", "5",
        "--out", str(out), "--", *args,
    )  # fmt: skip
    assert proc.returncode == 124, proc.stdout + proc.stderr
    found = wait_for(records, seconds=0)
    left = survivors_by_start(found)
    (run_dir,) = find_runs(out)
    summary = load(run_dir)
    assert summary.status == "timeout"
    assert any("had left its process group" in p for p in summary.problems), summary.problems
    if tool == "py-spy":  # the profiler's own processes still stop the usual way and write
        assert "flamegraph" in summary.artifacts
    ledger(
        f"{name}.py ({'new session' if name == 'escape' else 'double fork + setsid'}) under {tool}",
        faults="--timeout 2",
        orphans=len(left),
    ).record()
    assert left == []


@pytest.mark.parametrize("name", ["escape", "dfork"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_leaves_no_process(tmp_path, name, sig, ledger):
    script, records, out = program(tmp_path, name), tmp_path / "records", tmp_path / "profiles"
    args = [str(records), "30"] if name == "dfork" else [str(records)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(script), "--tool", "none",
         "--grace", "5", "--out", str(out), "--", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    found = wait_for(records)
    time.sleep(0.3)  # a scan of the run (every 0.1 s) has seen it
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    left = survivors_by_start(found)
    (run_dir,) = find_runs(out)
    assert load(run_dir).status == "interrupted"
    ledger(
        f"{name}.py, {signal.Signals(sig).name} to the harness",
        faults=f"{signal.Signals(sig).name} to the harness",
        orphans=len(left),
    ).record()
    assert left == []


def test_a_killed_harness_leaves_no_process_of_the_run(tmp_path, ledger):
    # SIGKILL (the OOM killer, a CI job's hard timeout): none of the harness's own clean-up
    # runs; its deadman ends the target and the helper that left its session.
    script, records, out = program(tmp_path, "escape"), tmp_path / "records", tmp_path / "profiles"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(script), "--tool", "none",
         "--out", str(out), "--", str(records)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    found = wait_for(records)
    time.sleep(0.3)  # a scan of the run (every 0.1 s) has listed it
    targets = [c for c in psutil.Process(proc.pid).children() if "escape.py" in c.cmdline()[-2]]
    assert len(targets) == 1, "the target is not the harness's child: the test proves nothing"
    run = [*found, (targets[0].pid, start_ticks(targets[0].pid))]

    proc.kill()
    proc.wait()
    (run_dir,) = find_runs(out)
    listing = run_dir / ".run-processes"
    deadline = time.monotonic() + 15
    while (survivors_by_start(run) or listing.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)

    left = survivors_by_start(run)
    assert load(run_dir).status == "running"  # as the harness left it: marked, not finished
    assert not listing.exists()  # the deadman's list goes with it
    ledger(
        "escape.py, SIGKILL to the harness",
        faults="SIGKILL to the harness",
        orphans=len(left),
    ).record()
    assert left == []


def test_normal_exit_lists_the_leftover_and_ends_it(tmp_path, ledger):
    script, records, out = program(tmp_path, "dfork"), tmp_path / "records", tmp_path / "profiles"
    proc = harness("run", str(script), "--tool", "none", "--out", str(out), "--", str(records))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ((pid, ticks),) = wait_for(records, seconds=0)
    (run_dir,) = find_runs(out)
    summary = load(run_dir)
    assert summary.status == "ok"
    (row,) = summary.leftovers
    assert row["pid"] == pid and "dfork.py" in row["cmdline"]
    assert row["ended_by"] == "SIGINT" and row["running_s"] >= 1.0
    assert f"leftover: pid {pid}" in proc.stdout
    left = survivors_by_start([(pid, ticks)])
    ledger(
        "dfork.py exits, its daemon runs on: listed, ended",
        faults="double fork + setsid",
        orphans=len(left),
    ).record()
    assert left == []


def test_keep_leftovers_keeps_and_lists_it(tmp_path):
    script, records, out = program(tmp_path, "dfork"), tmp_path / "records", tmp_path / "profiles"
    proc = harness(
        "run", str(script), "--tool", "none", "--keep-leftovers", "--out", str(out),
        "--", str(records),
    )  # fmt: skip
    ((pid, ticks),) = wait_for(records, seconds=0)
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (row,) = load(find_runs(out)[0]).leftovers
        assert row["pid"] == pid and row["ended_by"] == "kept"
        assert f"kill {pid}" in proc.stdout
        assert survivors_by_start([(pid, ticks)]) == [pid]
    finally:
        if survivors_by_start([(pid, ticks)]):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while survivors_by_start([(pid, ticks)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert survivors_by_start([(pid, ticks)]) == []
