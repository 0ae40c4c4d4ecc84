"""`harness attach PID`: a running loop is profiled for a window and does not notice; bad pids
and durations are one line and exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.summary import find_runs, load

LOOP = """
import signal, sys, time
from pathlib import Path

here = Path(sys.argv[1])
for number in signal.valid_signals():  # every catchable signal is written down
    try:
        signal.signal(number, lambda n, f: open(here / "signals", "a").write(f"{n}\\n"))
    except (OSError, ValueError, RuntimeError):
        pass

def count_forever():
    count = 0
    while not (here / "stop").exists():
        count += 1
        if count % 20000 == 0:
            (here / "count.tmp").write_text(str(count))
            (here / "count.tmp").replace(here / "count")
    print("stopped at", count)

print("started", flush=True)
count_forever()
"""


def harness(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def count(here: Path) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            return int((here / "count").read_text())
        except (OSError, ValueError):
            time.sleep(0.05)
    raise AssertionError("the loop never wrote its count")


def tracer_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("TracerPid:"):
            return int(line.split()[1])
    raise AssertionError("no TracerPid line")


@pytest.fixture
def loop(tmp_path: Path):
    """A long-running Python loop; ended by a file, never by a signal."""
    here = tmp_path / "loop"
    here.mkdir()
    script = here / "loop.py"
    script.write_text(LOOP)
    with open(here / "stdout", "wb") as out:
        proc = subprocess.Popen([sys.executable, str(script), str(here)], stdout=out)
    yield proc, here
    (here / "stop").touch()
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_attach_profiles_a_running_loop_that_does_not_notice(tmp_path: Path, loop) -> None:
    proc, here = loop
    before = count(here)
    out = tmp_path / "profiles"

    done = harness("attach", str(proc.pid), "--duration", "3", "--out", str(out))

    assert done.returncode == 0, done.stdout + done.stderr
    after = count(here)
    time.sleep(0.5)
    assert proc.poll() is None and count(here) > after > before  # still counting
    assert not (here / "signals").exists()  # no signal reached it
    assert tracer_of(proc.pid) == 0  # and nothing is left attached
    (here / "stop").touch()
    assert proc.wait(timeout=30) == 0
    assert (here / "stdout").read_text().splitlines()[0] == "started"
    assert (here / "stdout").read_text().splitlines()[1].startswith("stopped at ")
    (run_dir,) = find_runs(out)
    summary = load(run_dir)
    assert summary.status == "attached" and summary.kind == "attach"
    assert summary.command == [sys.executable, str(here / "loop.py"), str(here)]
    assert 2.9 < summary.wall_s < 4.0
    assert summary.cpu.user_s > 0.5  # the loop ran on a CPU through the window
    assert "count_forever" in (run_dir / "flamegraph.svg").read_text()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gdb") is None, reason="memray attaches through gdb")
def test_memray_attaches_and_detaches(tmp_path: Path, loop) -> None:
    proc, here = loop
    out = tmp_path / "profiles"

    done = harness(
        "attach", str(proc.pid), "--duration", "2", "--tool", "memray", "--out", str(out)
    )

    assert done.returncode == 0, done.stdout + done.stderr
    before = count(here)
    time.sleep(0.5)
    assert proc.poll() is None and count(here) > before
    assert tracer_of(proc.pid) == 0
    (run_dir,) = find_runs(out)
    summary = load(run_dir)
    assert summary.status == "attached" and "memray_stats" in summary.artifacts
    assert summary.memory.peak_heap_mb is not None


def test_a_pid_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: its pid names no process now
    done = harness("attach", str(gone.pid), "--duration", "1", "--out", str(tmp_path / "p"))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: no process has pid {gone.pid}: find the one to attach to with ps or pgrep"
    )
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--duration", "0"], "--duration 0: give a number of seconds above 0"),
        (["--duration", "-2"], "--duration -2: give a number of seconds above 0"),
        (["--tool", "scalene"], "harness attach takes py-spy, memray, none"),
        (["--set", "items=3"], "attach takes py-spy's options only (native, rate)"),
    ],
)
def test_bad_options_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        done = harness("attach", str(sleeper.pid), *args, "--out", str(tmp_path / "p"))
    finally:
        sleeper.kill()
        sleeper.wait()
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and expected in lines[0], done.stderr
    assert not (tmp_path / "p").exists()


def test_the_harness_will_not_attach_to_its_own_parent(tmp_path: Path) -> None:
    done = harness("attach", str(os.getpid()), "--duration", "1", "--out", str(tmp_path / "p"))
    assert done.returncode == 2 and "one of its parents" in done.stderr


AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _python_runs_as_nobody() -> bool:
    """Whether this interpreter starts for an unprivileged user (a Python built with a shared
    library under root's home does not find it)."""
    done = subprocess.run([*AS_NOBODY, sys.executable, "-c", "pass"], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root")
def test_a_process_of_another_user_is_refused_with_the_fix(tmp_path: Path) -> None:
    # The harness runs as nobody; the process belongs to root.
    if not _python_runs_as_nobody():
        pytest.skip(f"{sys.executable} does not start as user nobody")
    sleeper = subprocess.Popen(["sleep", "30"])
    with tempfile.TemporaryDirectory() as home:  # pytest's own tmp is root's only
        os.chown(home, 65534, 65534)
        try:
            done = subprocess.run(
                [*AS_NOBODY, sys.executable, "-m", "harness", "attach", str(sleeper.pid),
                 "--duration", "1", "--out", os.path.join(home, "p")],
                capture_output=True, text=True, timeout=60, cwd=home,
                env={**os.environ, "MPLCONFIGDIR": home, "HOME": home},
            )  # fmt: skip
        finally:
            sleeper.kill()
            sleeper.wait()
        assert not os.path.exists(os.path.join(home, "p"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == (
        f"error: pid {sleeper.pid} belongs to user root, not nobody: run the command as root (sudo)"
    )
