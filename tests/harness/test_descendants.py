"""The descendant tracker: the subreaper setting, adoption of orphans, reaping, and signals
that never reach a process that merely reuses a pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from harness import descendants
from harness.descendants import Descendants, read_stat, send_signal
from harness.summary import find_runs, load

# Forks a daemon (setsid + second fork) whose middle process exits at once, prints its pid.
DOUBLE_FORK = """
import os, sys, time
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(w, f"{os.getpid()}\\n".encode())
        time.sleep(60)
        os._exit(0)
    os._exit(0)
print(os.read(r, 64).decode().strip(), flush=True)
time.sleep(float(sys.argv[1]))
"""


def _wait_until(check, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_subreaper_is_restored_after_the_block():
    before = descendants.is_subreaper()
    with descendants.subreaper() as accepted:
        assert accepted and descendants.is_subreaper()
    assert descendants.is_subreaper() == before


def test_a_wrong_start_time_is_never_signalled():
    child = subprocess.Popen(["sleep", "30"])
    try:
        ticks = read_stat(child.pid).start_ticks
        assert not send_signal(child.pid, ticks + 1, signal.SIGKILL)
        time.sleep(0.1)
        assert child.poll() is None, "a process with another start time was signalled"
        assert send_signal(child.pid, ticks, signal.SIGKILL)
        assert child.wait(timeout=5) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()


def test_an_orphaned_daemon_is_adopted_tracked_and_reaped():
    with descendants.subreaper():
        root = subprocess.Popen(
            [sys.executable, "-c", DOUBLE_FORK, "0.3"], stdout=subprocess.PIPE, text=True
        )
        tracker = Descendants(root.pid)
        daemon = int(root.stdout.readline())
        root.wait(timeout=10)
        assert _wait_until(lambda: read_stat(daemon).ppid == os.getpid()), "not re-parented"
        tracker.scan()
        member = tracker.members.get(daemon)
        assert member is not None and member.adopted
        assert [t.pid for t in tracker.alive()] == [daemon]
        assert tracker.send(member, signal.SIGKILL)
        # Ours to reap now: a scan does it, and no zombie is left behind.
        assert _wait_until(lambda: (tracker.scan(), read_stat(daemon) is None)[1])
        assert tracker.alive() == []


def test_the_harness_own_children_are_not_members():
    with descendants.subreaper():
        before = subprocess.Popen(["sleep", "30"])
        root = subprocess.Popen(["sleep", "30"])
        tracker = Descendants(root.pid)
        watcher = subprocess.Popen(["sleep", "30"])
        tracker.ignore([watcher.pid])
        try:
            tracker.scan(full=True)
            assert set(tracker.members) == {root.pid}
        finally:
            for p in (before, root, watcher):
                p.kill()
                p.wait()


def test_the_monitor_counts_an_adopted_daemon(tmp_path):
    # Its parent exits before the monitor's scan could see the link: the harness hands it over.
    script = tmp_path / "dfork.py"
    script.write_text(DOUBLE_FORK)
    out = tmp_path / "profiles"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(script), "--tool", "none", "--out",
         str(out), "--", "1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = load(find_runs(out)[0])
    (row,) = summary.leftovers
    seen = {p["pid"] for p in summary.monitor["per_process"]}
    assert row["pid"] in seen
