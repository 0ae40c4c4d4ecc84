"""Per-stage wall and CPU time measured inside a workload, and the result JSON it reports.

Stages are timed around whole chunks, never per item, so the timer itself stays out of the
profile: one perf_counter and one process_time pair per chunk and stage.

The result's format history (bump SCHEMA with a line here; the harness reads every version):
  1: scenario, status, error, params, items in / out / quarantined, elapsed_s, items_per_s,
     stages (wall_s and cpu_s each), peak_rss_mb, then what the scenario adds (timed_cpu,
     filesystem, api, checkpoints...). Results written before `schema` have the same fields.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.files import write_text_atomic  # the project's one writer (standard library only)

STAGES = ("ingest", "transform", "output", "checkpoint")
T = TypeVar("T")
SCHEMA = 1


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class StageClock:
    """Accumulates wall and CPU seconds per stage.

    CPU is this process's (all threads) plus reaped children's, so a process pool's work shows
    up once its workers are joined (call `add_children_cpu` after shutting the pool down).
    """

    def __init__(self) -> None:
        self.wall: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self._children_at_start = _children_cpu()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall0
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu0

    def timed(self, name: str, chunks: Iterator[T]) -> Iterator[T]:
        """Each of `chunks` as it comes, the time taken to produce it charged to stage `name`
        (reading, fetching: the stage is the source's own work, not what the caller does)."""
        while True:
            with self.stage(name):
                chunk = next(chunks, None)
            if chunk is None:
                return
            yield chunk

    def add_children_cpu(self, name: str) -> None:
        """Charge CPU of children reaped since the clock started (pool workers) to `name`."""
        now = _children_cpu()
        self.cpu[name] = self.cpu.get(name, 0.0) + now - self._children_at_start
        self._children_at_start = now

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            name: {"wall_s": round(self.wall[name], 6), "cpu_s": round(self.cpu[name], 6)}
            for name in self.wall
        }


def _own_peak_kib() -> int:
    # VmHWM starts afresh at exec; ru_maxrss does not (it would report the launching
    # process's size when that was larger), so it is only the fallback.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_mb() -> float:
    """Peak RSS of this process plus that of its largest child (pool workers, say)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round((_own_peak_kib() + children) / 1024, 1)  # both in KiB on Linux


@dataclass
class Result:
    """What a scenario run did, in the shape the harness reads."""

    scenario: str
    params: dict[str, Any]
    items_in: int = 0
    items_out: int = 0
    items_quarantined: int = 0
    elapsed_s: float = 0.0
    clock: StageClock = field(default_factory=StageClock)
    status: str = "ok"
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        elapsed = max(self.elapsed_s, 1e-9)
        return {
            "schema": SCHEMA,
            "scenario": self.scenario,
            "status": self.status,
            "error": self.error,
            "params": self.params,
            "items_in": self.items_in,
            "items_out": self.items_out,
            "items_quarantined": self.items_quarantined,
            "elapsed_s": round(self.elapsed_s, 6),
            "items_per_s": round(self.items_in / elapsed, 2) if self.elapsed_s > 0 else 0.0,
            "stages": self.clock.as_dict(),
            "peak_rss_mb": peak_rss_mb(),
            **self.extra,
        }

    def emit(self, result_file: str | None) -> None:
        """Write the result JSON to `result_file` (if any) and as the last line of stdout."""
        text = json.dumps(self.to_dict(), sort_keys=False)
        if result_file:
            write_text_atomic(Path(result_file), text + "\n")
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
