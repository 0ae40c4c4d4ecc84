"""The target in a session of its own, traceable by the profilers, watched without reaping.

Stopping the run, whatever the group or session of its processes, is leftovers.py's job."""

from __future__ import annotations

import ctypes
import os
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

PR_SET_PTRACER, PR_SET_PTRACER_ANY = 0x59616D61, -1
_libc = ctypes.CDLL(None, use_errno=True)


def _allow_tracers() -> None:
    # Under Yama ptrace_scope 1 only ancestors may attach; profilers attach as our siblings.
    _libc.prctl(PR_SET_PTRACER, ctypes.c_ulong(PR_SET_PTRACER_ANY), 0, 0, 0)


def _tracer_hook() -> Callable[[], None] | None:
    """_allow_tracers where Yama's scope 1 needs it, else None: a preexec_fn makes Popen fork
    the whole harness instead of vfork, which cost 4-5 ms of every launch here."""
    try:
        scope = int(Path("/proc/sys/kernel/yama/ptrace_scope").read_text())
    except (OSError, ValueError):
        return None
    return _allow_tracers if scope == 1 else None


def launch(
    argv: list[str],
    stdout: Path,
    stderr: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen:
    """Start `argv` as the leader of a new session (so its own process group), traceable by
    the profilers the runner attaches to it."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        return subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_tracer_hook(),
        )


def wait_for_exec(proc: subprocess.Popen, argv: list[str], timeout_s: float = 5.0) -> bool:
    """Wait until the child runs `argv` (until then /proc shows a copy of this process, which a
    profiler must not attach to). False if it ended or did not get there in time."""
    want = b"\0".join(a.encode() for a in argv)
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
                if f.read().rstrip(b"\0") == want:
                    return True
        except OSError:
            return False
        time.sleep(0.001)
    return False


def has_exited(proc: subprocess.Popen) -> bool:
    """Whether the child has exited, without reaping it: until reaped, its /proc entry (its
    final CPU and I/O counters) stays readable for the monitor's last look."""
    if proc.returncode is not None:
        return True
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return proc.poll() is not None
    return info is not None


def wait_exit(proc: subprocess.Popen, timeout_s: float) -> float | None:
    """Wait up to `timeout_s` for the child to exit, without reaping it; the time.monotonic()
    of the wake-up at its exit, else None.

    A pidfd becomes readable at the exit itself, so the run's wall time ends there rather than
    at the next poll (a 0.1 s poll made a 0.11 s program last 0.217 s). Without pidfd_open
    (Linux < 5.3) waitid is polled every millisecond.
    """
    if proc.returncode is not None:
        return time.monotonic()
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        deadline = time.monotonic() + timeout_s
        while not has_exited(proc):
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.001)
        return time.monotonic()
    try:
        ready, _, _ = select.select([fd], [], [], timeout_s)
        return time.monotonic() if ready else None
    finally:
        os.close(fd)
