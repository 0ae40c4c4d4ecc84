"""Calibration case cold_read: sequential reads of a 64 MB file whose pages were dropped first.

Truth by construction: the file is written and flushed before the timed part (small, so that
its writing is a small part of the run), then each round
drops its pages from the page cache (posix_fadvise DONTNEED) and reads it in 1 MB blocks, so
every block comes from the device: the thread waits for it, and the kernel's CPU for those
reads is the disk's. Disk-bound. Measured here before causes were counted: 30-43% on a CPU
(95% of it system time), which the resource view called mixed on some runs.
"""

from __future__ import annotations

import os
import tempfile
import time

from workloads.calibration import casekit

SIZE = 64 * 2**20
BLOCK = 2**20


def write_file(path: str) -> None:
    """The file to read, on disk and clean (so that its pages can be dropped)."""
    block = bytes(range(256)) * (BLOCK // 256)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for _ in range(SIZE // BLOCK):
            os.write(fd, block)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_cold(path: str) -> int:
    """Drop the file's cached pages, then read it through; returns the blocks read."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        blocks = 0
        while os.read(fd, BLOCK):
            blocks += 1
        return blocks
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv)
    with tempfile.TemporaryDirectory(prefix="pipeprof-cold-", dir=casekit.disk_dir()) as tmp:
        path = os.path.join(tmp, "cold.bin")
        write_file(path)
        started = time.perf_counter()
        deadline = started + args.seconds
        blocks = 0
        while time.perf_counter() < deadline:
            blocks += read_cold(path)
        casekit.report("cold_read", blocks, started, block_mb=BLOCK >> 20)


if __name__ == "__main__":
    main()
