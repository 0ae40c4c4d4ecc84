"""Where a scenario's output goes: a scratch directory removed late, or a fresh filesystem.

On ext4 without a journal (this kind of machine), creating files where many were deleted less
than ~60 s earlier costs 150-800 us per file instead of ~30 us: deleting a run's 10,000 output
files right after it would slow the next run 3-4x and measure the filesystem's bookkeeping,
not the pipeline. So a run the harness prepares gets a scratch directory that is left in
place, and removed by a later run once its owner has exited and it is older than `KEEP_S`:
after that run has been measured, never just before it. A run asking for another filesystem
(`fs=ext4`) gets a fresh one instead, made before its launch (prepare.py), or by the scenario
itself before its timed part when it runs as a plain script (`own_output_dir`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psutil

from workloads import filesystems, mountinfo
from workloads.errors import WorkloadError

KEEP_S = 120.0
#: What a run records of its output's filesystem: where it is (mountinfo) and what was asked.
Record = dict[str, Any]


def scratch_root() -> Path:
    return Path(os.environ.get("PIPEPROF_SCRATCH") or tempfile.gettempdir()) / "pipeprof-outputs"


def sweep(root: Path, now: float | None = None) -> list[Path]:
    """Remove scratch directories whose owner has exited and that are older than KEEP_S."""
    now = time.time() if now is None else now
    removed = []
    for path in root.glob("*"):
        prefix = path.name.split("-", 1)[0]
        owner = int(prefix) if prefix.isdigit() else None
        try:
            if owner is not None and (owner == os.getpid() or psutil.pid_exists(owner)):
                continue  # its owner still runs: the directory may be in use
            if now - path.stat().st_mtime < KEEP_S:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def output_dir(run_id: str) -> Path:
    """A fresh, empty scratch directory for one run, owned by this process (swept later)."""
    root = scratch_root()
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{run_id}-", dir=root))


def unavailable(kind: str | None) -> str | None:
    """Why the filesystem `kind` cannot be made here (None: it can, or none was asked for)."""
    return None if kind in (None, "disk") else filesystems.unavailable(kind)


def record(out_dir: Path, kind: str | None) -> Record | None:
    """What a run records of an output directory given as it is (None: no `fs` was asked)."""
    return {"kind": kind, **mountinfo.describe(out_dir)} if kind is not None else None


def given_dir(out_dir: Path, kind: str | None) -> Record | None:
    """The record of an output directory given as it is; WorkloadError when it is not on the
    filesystem `kind` asked for."""
    where = record(out_dir, kind)
    if where is not None and kind != "disk" and where["type"] != kind:
        raise WorkloadError(
            f"--out-dir {out_dir} is on {where['type']}, not {kind}: leave out --out-dir "
            f"to write to a fresh {kind}, or drop --fs"
        )
    return where


def fresh(stack: ExitStack, kind: str) -> tuple[Path, Record]:
    """A directory on a fresh `kind` filesystem, unmade when `stack` closes."""
    try:
        where = stack.enter_context(filesystems.prepared(kind))
    except filesystems.FilesystemUnavailable as exc:
        raise WorkloadError(str(exc)) from None
    return where.directory, where.info


def scratch(stack: ExitStack, run_id: str, kind: str | None) -> tuple[Path, Record | None]:
    """A scratch directory on the default disk, swept (with older ones) after `stack` closes:
    the deletions come after the measured run, not before it."""
    out = output_dir(run_id)
    stack.callback(sweep, out.parent)
    return out, disk_record(out) if kind else None


def disk_record(directory: Path) -> Record:
    """What a run records of an output directory on the default disk."""
    return {"kind": "disk", "fresh": False, **mountinfo.describe(directory)}


def own_output_dir(stack: ExitStack, params: dict[str, Any]) -> tuple[Path, Record | None]:
    """The output directory of a scenario run as a plain script, and for one that takes `fs`
    what to record of its mount.

    Without --out-dir the directory is made here, before the timed work, on the `fs` asked for
    (a fresh temp directory on the disk when the scenario has no such option), and removed on
    leaving. With --out-dir (the harness made the filesystem, outside the profiled process) the
    directory is used as given, and its filesystem must be the one asked for.
    """
    kind = params.get("fs")
    if params.get("out_dir"):
        out_dir = Path(params["out_dir"])
        return out_dir, given_dir(out_dir, kind)
    directory, record = fresh(stack, kind or "disk")
    return directory, record if kind is not None else None
