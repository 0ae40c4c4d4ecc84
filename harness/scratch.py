"""Scratch output directories for scenario runs, removed late rather than at once.

On ext4 without a journal (this kind of machine), creating files where many were deleted less
than ~60 s earlier costs 150-800 us per file instead of ~30 us: deleting a run's 10,000 output
files right after it would slow the next run 3-4x and measure the filesystem's bookkeeping,
not the pipeline. So a run's scratch directory is left in place, and removed by a later
harness run once its owner has exited and it is older than `KEEP_S`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import psutil

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
    """A fresh, empty output directory for one run (after sweeping old ones away)."""
    root = scratch_root()
    root.mkdir(parents=True, exist_ok=True)
    sweep(root)
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{run_id}-", dir=root))
