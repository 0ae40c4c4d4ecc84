"""Scratch output directories for scenario runs, removed late rather than at once.

On ext4 without a journal (this kind of machine), creating files where many were deleted less
than ~60 s earlier costs 150-800 us per file instead of ~30 us: deleting a run's 10,000 output
files right after it would slow the next run 3-4x and measure the filesystem's bookkeeping,
not the pipeline. So a run's scratch directory is left in place, and removed by a later
harness run once its owner has exited and it is older than `KEEP_S`: after that run has been
measured, never just before it. A scenario that asks for
another filesystem (`--set fs=ext4`) gets a fresh one instead, made before its launch.
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

from harness.errors import HarnessError
from harness.targets import Target
from workloads import filesystems, mountinfo

KEEP_S = 120.0


def scratch_root() -> Path:
    return Path(os.environ.get("PIPEPROF_SCRATCH") or tempfile.gettempdir()) / "pipeprof-outputs"


def sweep(root: Path, now: float | None = None) -> list[Path]:
    """Remove scratch directories whose harness has exited and that are older than KEEP_S."""
    now = time.time() if now is None else now
    removed = []
    for path in root.glob("*"):
        prefix = path.name.split("-", 1)[0]
        owner = int(prefix) if prefix.isdigit() else None
        try:
            if owner is not None and (owner == os.getpid() or psutil.pid_exists(owner)):
                continue  # its harness still runs: the directory may be in use
            if now - path.stat().st_mtime < KEEP_S:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def output_dir(run_id: str) -> Path:
    """A fresh, empty output directory for one run (old ones are swept after the run)."""
    root = scratch_root()
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{run_id}-", dir=root))


def output_problem(target: Target) -> str | None:
    """Why the filesystem a scenario asks for (`--set fs=...`) cannot be made here, if so."""
    kind = target.params.get("fs")
    if kind in (None, "disk") or target.params.get("out_dir"):
        return None
    problem = filesystems.unavailable(kind)
    return f"--set fs={kind}: {problem}" if problem else None


def output_args(
    stack: ExitStack, target: Target, run_id: str
) -> tuple[list[str], dict[str, Any] | None]:
    """`--out-dir` for a scenario's launch, and what its summary records of that filesystem.

    A fresh tmpfs/ext4/xfs/btrfs is made here, by the harness, before the launch: mkfs and
    mount stay out of the monitored process tree. `stack` unmakes it after the run. A scenario
    without an `fs` parameter gets a scratch directory and no record.
    """
    kind, given = target.params.get("fs"), target.params.get("out_dir")
    if given:
        return [], {"kind": kind, **mountinfo.describe(Path(given))} if kind else None
    if kind in (None, "disk"):
        out = output_dir(run_id)
        stack.callback(sweep, out.parent)  # deletions after the measured run, not before it
        record = {"kind": "disk", "fresh": False, **mountinfo.describe(out)}
        return ["--out-dir", str(out)], record if kind else None
    try:
        where = stack.enter_context(filesystems.prepared(kind))
    except filesystems.FilesystemUnavailable as exc:
        raise HarnessError(f"--set fs={kind}: {exc}") from None
    return ["--out-dir", str(where.directory)], where.info
