"""A probe of this machine's worst file-system hazard, recorded with the study.

On the journal-less ext4 here, creating files where many were deleted less than ~60 s earlier
costs 150-800 us per file instead of ~30 us, so output figures taken in that window are low and
unsteady. The study cannot undo deletions made before it started; it measures what a file
creation costs when it starts and when its runs end, and says so in the findings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

SLOW_CREATE_US = 100.0


def file_creation_us(directory: Path, count: int = 200) -> float:
    """Mean microseconds to create, write and close one small file in a new directory."""
    directory.mkdir(parents=True)
    payload = b"x" * 512
    t0 = time.perf_counter()
    for n in range(count):
        fd = os.open(directory / f"{n}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, payload)
        finally:
            os.close(fd)
    return round((time.perf_counter() - t0) / count * 1e6, 1)


def describe(us: float | None) -> str:
    if us is None:
        return "not measured"
    if us >= SLOW_CREATE_US:
        return f"{us:.0f} us per file (slow: recent deletions are still being paid for)"
    return f"{us:.0f} us per file"


def settle(
    probe: Callable[[int], float], max_wait_s: float, interval_s: float = 10.0
) -> list[float]:
    """Probe (via `probe(n)`) until creation is no longer slow or `max_wait_s` has passed.

    Deletions age out in about a minute, so a study that starts slow can wait for the disk
    rather than measure someone else's deletions. Returns every probe's microseconds.
    """
    found = [probe(0)]
    deadline = time.monotonic() + max_wait_s
    while found[-1] >= SLOW_CREATE_US and time.monotonic() + interval_s <= deadline:
        time.sleep(interval_s)
        found.append(probe(len(found)))
    return found
