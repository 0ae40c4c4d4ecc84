"""Calibration case gil_threads: four threads of pure-Python arithmetic.

Truth by construction: only the thread holding the GIL can run, so four threads share about one
core and each spends most of its time waiting for the GIL (a futex): the run is GIL-bound.
"""

from __future__ import annotations

import threading
import time

from workloads.calibration import casekit

THREADS = 4


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv)
    started = time.perf_counter()
    deadline = started + args.seconds
    done = [0] * THREADS

    def work(n: int) -> None:
        done[n] = casekit.spin(deadline)

    threads = [threading.Thread(target=work, args=(n,), name=f"gil-{n}") for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    casekit.report("gil_threads", sum(done), started, threads=THREADS)


if __name__ == "__main__":
    main()
