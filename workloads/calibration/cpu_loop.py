"""Calibration case cpu_loop: one thread of pure-Python arithmetic, never blocking.

Truth by construction: the thread wants a CPU all the time (on-CPU + run-queue wait = 1), so the
run is CPU-bound and uses at most one core.
"""

from __future__ import annotations

import time

from workloads.calibration import casekit


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv, items=True)
    started = time.perf_counter()
    if args.items:
        for _ in range(args.items):
            casekit.spin_block()
        done = args.items
    else:
        done = casekit.spin(started + args.seconds)
    casekit.report("cpu_loop", done, started)


if __name__ == "__main__":
    main()
