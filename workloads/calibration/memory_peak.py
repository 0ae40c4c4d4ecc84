"""Calibration case memory_peak: allocate 600 MB, write to every page, hold it, then exit.

Truth by construction: the peak resident set is 600 MB plus the interpreter (about 10 MB). The
buffer is written page by page because a freshly allocated bytearray is zeroed by mmap and takes
no memory until touched. Holding it is a sleep; the check is memory.
"""

from __future__ import annotations

import time

from workloads.calibration import casekit

MB = 2**20
SIZE_MB = 600
PAGE = 4096


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 2.5, argv)
    started = time.perf_counter()
    held = bytearray(SIZE_MB * MB)
    for offset in range(0, len(held), PAGE):
        held[offset] = 1
    remaining = started + args.seconds - time.perf_counter()
    time.sleep(max(0.5, remaining))  # the monitor reads RSS every 0.1 s: hold it long enough
    casekit.report("memory_peak", SIZE_MB, started, held_mb=len(held) // MB)


if __name__ == "__main__":
    main()
