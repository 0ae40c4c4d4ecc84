"""Live figures of the tree for a progress display, refreshed by every slow pass."""

from __future__ import annotations

from collections import deque

from harness.monitor import procfs
from harness.monitor.population import Population

SNAPSHOT_SPAN_S = 1.0  # "cores used recently" looks back this far


class Snapshot:
    """`figures`: elapsed_s, cores (used over the last ~SNAPSHOT_SPAN_S), rss_mb, threads,
    processes; replaced whole at each update (a progress display reads it from another thread)."""

    def __init__(self) -> None:
        self._history: deque[tuple[float, int]] = deque()
        self.figures: dict[str, float | int] = {
            "elapsed_s": 0.0,
            "cores": 0.0,
            "rss_mb": 0.0,
            "threads": 0,
            "processes": 0,
        }

    def update(self, pop: Population, now: float, rss_pages: int) -> None:
        ticks = pop.gone_ticks + sum(
            p.utime + p.stime - p.base_utime - p.base_stime
            for p in pop.live.values()
            if not p.excluded
        )
        self._history.append((now, ticks))
        while len(self._history) > 2 and now - self._history[1][0] >= SNAPSHOT_SPAN_S:
            self._history.popleft()
        t0, ticks0 = self._history[0]
        live = [p for p in pop.live.values() if not p.excluded and not p.zombie]
        cores = (ticks - ticks0) / procfs.CLK_TCK / (now - t0) if now > t0 else 0.0
        self.figures = {
            "elapsed_s": round(now - pop.window_start, 3),
            "cores": round(cores, 2),
            "rss_mb": round(rss_pages * procfs.PAGE_SIZE / 2**20, 1),
            "threads": sum(len(p.threads) for p in live),
            "processes": len(live),
        }
