"""Calibration case gil_threads: four threads of pure-Python arithmetic.

Truth by construction: only the thread holding the GIL can run, so four threads share about one
core and each spends most of its time waiting for the GIL (a futex): the run is GIL-bound.
"""

from __future__ import annotations

import time

from workloads.calibration import casekit

THREADS = 4


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv)
    started = time.perf_counter()
    deadline = started + args.seconds
    done = casekit.in_threads(THREADS, "gil", lambda: casekit.spin(deadline))
    casekit.report("gil_threads", done, started, threads=THREADS)


if __name__ == "__main__":
    main()
