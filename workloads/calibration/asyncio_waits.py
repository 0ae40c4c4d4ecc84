"""Calibration case asyncio_waits: rounds of 1000 concurrent asyncio.sleep(0.1) tasks.

Truth by construction: the event loop has nothing to do but wait for its timers, so the run is
sleep-bound. The loop waits in epoll_wait with a timeout, its only registered fd being its own
wake-up socket pair.
"""

from __future__ import annotations

import asyncio
import time

from workloads.calibration import casekit

TASKS = 1000
WAIT_S = 0.1


async def rounds(deadline: float) -> int:
    done = 0
    while time.perf_counter() < deadline:
        await asyncio.gather(*(asyncio.sleep(WAIT_S) for _ in range(TASKS)))
        done += TASKS
    return done


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv)
    started = time.perf_counter()
    done = asyncio.run(rounds(started + args.seconds))
    casekit.report("asyncio_waits", done, started, tasks=TASKS)


if __name__ == "__main__":
    main()
