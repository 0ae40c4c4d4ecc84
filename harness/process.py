"""Children in their own process group, stopped as a group: SIGINT first so profilers flush,
SIGKILL after a grace period, and nothing of the group left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil


def launch(
    argv: list[str],
    stdout: Path,
    stderr: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen:
    """Start `argv` as the leader of a new session (so its own process group)."""
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        return subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def group_members(pgid: int) -> list[psutil.Process]:
    """Live processes of the group `pgid` (zombies excluded)."""
    members = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (ProcessLookupError, psutil.Error, OSError):
            continue
    return members


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(proc: subprocess.Popen, grace_s: float, first: int = signal.SIGINT) -> bool:
    """Stop the child and its whole group; True if it ended within the grace period.

    `first` goes to the whole group (py-spy, memray and the target all flush on SIGINT);
    whatever is still alive after `grace_s` gets SIGKILL.
    """
    pgid = proc.pid
    _signal_group(pgid, first)
    try:
        proc.wait(timeout=grace_s)
        graceful = True
    except subprocess.TimeoutExpired:
        graceful = False
    reap_group(proc, grace_s=0.0 if not graceful else min(grace_s, 2.0))
    return graceful


def reap_group(proc: subprocess.Popen, grace_s: float = 2.0) -> list[int]:
    """Make sure nothing of the group outlives the run; returns pids that had to be killed."""
    pgid = proc.pid
    deadline = time.monotonic() + grace_s
    leftovers = group_members(pgid)
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.05)
        leftovers = group_members(pgid)
    killed = [p.pid for p in leftovers]
    if leftovers:
        _signal_group(pgid, signal.SIGKILL)
        psutil.wait_procs(leftovers, timeout=5)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    return killed
