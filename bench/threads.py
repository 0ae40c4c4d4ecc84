"""What the monitor costs as a program's thread count grows: its own CPU, in cores.

The program's threads each sleep 1 ms and compute a little, in a loop, so that at every pass
some run and some wait: the monitor reads and classifies all of them. Before a pass sampled
at most a bounded slice of threads, this cost grew with the thread count: 1.9% / 8.7% / 24% of
a core at 4 / 64 / 256 threads, measured here. Targets: <= 2% at a few threads, <= 5% at 256.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from harness import stats
from harness.monitor import Monitor

THREADS = (4, 64, 256)
TARGETS = {4: 0.02, 64: None, 256: 0.05}
PROGRAM = """
import sys, threading, time
end = time.time() + float(sys.argv[2])
def work():
    while time.time() < end:
        time.sleep(0.001)
        x = 0
        for i in range(200):
            x += i
threads = [threading.Thread(target=work) for _ in range(int(sys.argv[1]))]
for t in threads: t.start()
for t in threads: t.join()
"""


def monitor_cost(threads: int, seconds: float) -> float:
    """The monitor's CPU over one window of `seconds` on a program of `threads` threads, in
    cores (its own thread CPU time, exact, over the window's wall time)."""
    program = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, str(threads), str(seconds + 2.0)],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)  # every thread started
        monitor = Monitor(program.pid)
        monitor.start()
        time.sleep(seconds)
        report = monitor.stop()
    finally:
        program.kill()
        program.wait()
    return report.monitor_cpu_s / report.wall_s


def monitor_by_threads(rounds: int, seconds: float, say: Callable[[str], None]) -> list[dict]:
    """Median monitor cost per thread count, rounds interleaved across the counts."""
    got: dict[int, list[float]] = {n: [] for n in THREADS}
    for r in range(rounds):
        for n in THREADS:
            say(f"monitor cost at {n} threads, round {r + 1}/{rounds}")
            got[n].append(monitor_cost(n, seconds))
    rows: list[dict[str, Any]] = []
    for n in THREADS:
        s = stats.spread(got[n])
        target = TARGETS[n]
        rows.append(
            {
                "threads": n,
                "cores": [round(x, 4) for x in got[n]],
                "median": None if s is None else round(s.median, 4),
                "target": target,
                "meets": None if target is None or s is None else s.median <= target,
            }
        )
    return rows
