"""Helpers of the reliability suite: run the harness, find surviving processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil


def harness(
    *args: str, timeout: float = 300, env: dict | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )


def survivors(pids: list[int]) -> list[int]:
    """Pids still alive (zombies count as gone: nothing runs in them)."""
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


def group_survivors(pgid: int) -> list[int]:
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except (OSError, psutil.Error):
            continue
    return found


def start_ticks(pid: int) -> int | None:
    """A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return int(raw[raw.rfind(b")") + 2 :].split()[19])


def read_records(path: Path) -> list[tuple[int, int]]:
    """(pid, start ticks) lines a test program wrote about the processes it started."""
    if not path.exists():
        return []
    return [tuple(map(int, line.split())) for line in path.read_text().splitlines() if line]


def survivors_by_start(records: list[tuple[int, int]]) -> list[int]:
    """Pids of `records` still running as the same process (same start time, not a zombie);
    a pid the kernel gave to another process since does not count."""
    return survivors([pid for pid, ticks in records if start_ticks(pid) == ticks])
