"""A full disk under the profiles root: one line naming the disk, the run's partial artifacts
kept, nothing else touched.

Every write of a run goes into its own directory, and summaries are replaced atomically, so a
write that fails for want of space damages no other run. What this adds: the error becomes one
line (which disk, how full, what to do) instead of a traceback, and the run's summary is marked
failed even then, by overwriting the "running" summary already on disk in place, which needs
no new blocks.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil

from harness.errors import HarnessError
from harness.summary import SUMMARY_NAME

FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class DiskFull(HarnessError):
    """The disk under the profiles root ran out of space (or quota): exit 1, the run failed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=1)


def _mount_of(path: Path) -> tuple[str, str, str]:
    """(device, mount point, fstype) of the filesystem holding `path`."""
    target = str(path.resolve())
    best = ("?", "/", "?")
    for part in psutil.disk_partitions(all=True):
        mp = part.mountpoint
        inside = target == mp or target.startswith(mp.rstrip("/") + "/")
        if inside and len(mp) >= len(best[1]):
            best = (part.device, mp, part.fstype)
    return best


def _mb(n: float) -> str:
    return f"{n / 2**20:,.1f} MB"


def describe(path: Path) -> str:
    """'tmpfs on /mnt/x (tmpfs), 0.0 MB free of 2.0 MB' for the disk holding `path`."""
    device, mount, fstype = _mount_of(path)
    try:
        usage = shutil.disk_usage(path)
        space = f", {_mb(usage.free)} free of {_mb(usage.total)}"
    except OSError:
        space = ""
    return f"{device} on {mount} ({fstype}){space}"


def message(root: Path, run_dir: Path | None, marked: bool) -> str:
    where = f"; what the run wrote is kept in {run_dir}" if run_dir else ""
    mark = " (its summary.json says failed)" if marked else ""
    return (
        f"no space left on the disk of the profiles root {root}: {describe(root)}{where}{mark}; "
        "free space (harness prune --help) or choose another --out"
    )


def mark_failed_in_place(run_dir: Path, text: str) -> bool:
    """Overwrite the run's existing summary with a failed one, in place and no longer than it
    (trailing spaces pad it; JSON allows them). False if that cannot be done."""
    path = run_dir / SUMMARY_NAME
    try:
        data = json.loads(path.read_text())
        size = path.stat().st_size
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    data.update(status="failed", error={"message": text, "disk_full": True})
    compact = json.dumps(data, separators=(",", ":"), default=str).encode()
    if len(compact) > size:  # keep what identifies the run; the error says why
        data["params"] = {}
        data["error"] = {"message": "no space left on the disk of the run", "disk_full": True}
        compact = json.dumps(data, separators=(",", ":"), default=str).encode()
    if len(compact) > size:
        return False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.pwrite(fd, compact.ljust(size), 0)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        return False
    return True


@contextmanager
def guard(root: Path, run_dir: Path | None = None) -> Iterator[None]:
    """Turn running out of space inside the block into DiskFull (one line, exit 1)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in FULL:
            raise
        marked = False
        if run_dir is not None:
            with suppress(Exception):
                marked = mark_failed_in_place(run_dir, message(root, None, False))
        raise DiskFull(message(root, run_dir, marked)) from None
