"""Calibration case process_pool: a multiprocessing pool of two CPU-bound worker processes.

Truth by construction: each worker runs pure-Python arithmetic without blocking and the parent
only waits for their results, so the run is CPU-bound and uses two cores when the machine has
them free.
"""

from __future__ import annotations

import multiprocessing
import time

from workloads.calibration import casekit

WORKERS = 2


def work(seconds: float) -> int:
    return casekit.spin(time.perf_counter() + seconds)


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv)
    context = multiprocessing.get_context("fork")
    with context.Pool(WORKERS) as pool:
        pool.map(work, [0.0] * WORKERS)  # both workers are up before the clock starts
        started = time.perf_counter()
        done = sum(pool.map(work, [args.seconds] * WORKERS, chunksize=1))
    casekit.report("process_pool", done, started, workers=WORKERS)


if __name__ == "__main__":
    main()
