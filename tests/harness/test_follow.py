"""The follower finds every Python process of a tree once: under a shell, after an exec, but not
a forked copy its parent's recording already covers."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.follow import PythonFollower


class Recorder:
    """Stands in for a profiler: remembers whom it was asked to record; a `tail --pid` plays
    the recording, which ends with its process as py-spy's does, so coverage of children is
    decided as with py-spy."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, str]] = []
        self.procs: list[subprocess.Popen] = []

    def __call__(self, pid: int) -> list[subprocess.Popen]:
        self.asked.append((pid, Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")))
        proc = subprocess.Popen(["tail", f"--pid={pid}", "-f", "/dev/null"])
        self.procs.append(proc)
        return [proc]

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


@pytest.fixture
def recorder():
    rec = Recorder()
    yield rec
    rec.close()


def follow(argv: list[str], recorder: Recorder) -> PythonFollower:
    """Run `argv` to its end under a follower; the follower, stopped."""
    proc = subprocess.Popen(argv)
    follower = PythonFollower(proc.pid, recorder)
    follower.start()
    try:
        assert proc.wait(timeout=60) == 0
    finally:
        time.sleep(0.05)
        follower.stop()
    return follower


def test_a_python_grandchild_under_a_shell_is_found(recorder: Recorder) -> None:
    code = "import time; time.sleep(0.4)"
    follower = follow(["bash", "-c", f"sleep 0.2; {sys.executable} -c '{code}'; true"], recorder)

    assert len(recorder.asked) == 1
    pid, cmdline = recorder.asked[0]
    assert "time.sleep(0.4)" in cmdline
    (seen,) = follower.listed()
    assert seen["pid"] == pid and seen["recorded_by"] == pid


def test_a_process_that_execs_another_python_is_recorded_again(recorder: Recorder) -> None:
    code = (
        "import os, sys, time; time.sleep(0.3); "
        "os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(0.4)'])"
    )
    follow([sys.executable, "-c", code], recorder)

    assert [pid for pid, _ in recorder.asked] == [recorder.asked[0][0]] * 2
    assert "execv" in recorder.asked[0][1] and "sleep(0.4)" in recorder.asked[1][1]


def test_forked_workers_are_left_to_their_parents_recording(recorder: Recorder) -> None:
    code = (
        "import multiprocessing as mp, time\n"
        "def work(_):\n    time.sleep(0.3)\n"
        "if __name__ == '__main__':\n"
        "    time.sleep(0.2)\n"
        "    with mp.get_context('fork').Pool(2) as pool:\n        pool.map(work, range(2))\n"
    )
    follower = follow([sys.executable, "-c", code], recorder)

    assert len(recorder.asked) == 1  # the parent only; its recording covers the forks
    assert follower.python_count == 1


def test_an_orphan_is_recorded_when_its_parents_recording_ends(recorder: Recorder) -> None:
    # The parent starts a Python child in a session of its own and leaves at once.
    child = "import time; time.sleep(1.0)"
    code = (
        "import subprocess, sys, time; "
        f"subprocess.Popen([sys.executable, '-c', {child!r}], start_new_session=True); "
        "time.sleep(0.3)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    follower = PythonFollower(proc.pid, recorder)
    follower.start()
    try:
        assert proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 5
        while len(recorder.asked) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        follower.stop()
    assert [cmd.split("\0")[-2] for _, cmd in recorder.asked] == [code, child]
