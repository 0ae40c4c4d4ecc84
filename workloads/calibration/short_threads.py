"""Calibration case short_threads: thousands of threads, each started, run briefly and joined.

Truth by construction: nearly all the CPU runs in threads that live less than a sampling
interval, so no sample ever sees most of them; the process's own CPU counters still hold their
time. The work is CPU (Python, and the kernel's work to start and end threads): cpu-bound, with
the short-lived threads' CPU accounted for. Measured here before it was: 56,420 threads in 8 s
used 5.41 s of CPU, of which 1.80 s reached the split, and the verdict read "mixed".
"""

from __future__ import annotations

import threading
import time

from workloads.calibration import casekit


def work() -> None:
    x = 0
    for i in range(2000):
        x += i


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv)
    started = time.perf_counter()
    deadline = started + args.seconds
    done = 0
    while time.perf_counter() < deadline:
        t = threading.Thread(target=work)
        t.start()
        t.join()
        done += 1
    casekit.report("short_threads", done, started)


if __name__ == "__main__":
    main()
