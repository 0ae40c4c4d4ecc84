"""The summary's figures as typed records: CPU, the split of thread time, GIL, memory, I/O and
throughput, and the live figures a run's status line shows.

Each section is stored in summary.json as a JSON object under its name, with the keys its
fields name (the keys summaries always had), a figure not measured left out. `of()` reads one
back from any schema: a figure it lacks is None (not measured, shown as "-", never as 0), a
key it does not know is kept in `extra` and written back, so loading and saving an older
summary loses nothing. A section read from nothing (a run that failed before measuring) is
falsy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Self


@dataclass
class Section:
    """What every section shares: reading from and writing to its JSON object."""

    extra: dict[str, Any] = field(default_factory=dict, kw_only=True, repr=False)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "extra")

    @classmethod
    def of(cls, data: Any) -> Self:
        """The section stored as `data` (a dict, an instance, or None for an empty one)."""
        if isinstance(data, cls):
            return data
        data = data if isinstance(data, dict) else {}
        known = cls.names()
        return cls(
            **{k: v for k, v in data.items() if k in known},
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_dict(self) -> dict[str, Any]:
        """The section as stored: a figure not measured (None) is left out."""
        known = {name: getattr(self, name) for name in self.names()}
        return {**{k: v for k, v in known.items() if v is not None}, **self.extra}

    def __bool__(self) -> bool:
        return bool(self.extra) or any(
            getattr(self, name) not in (None, 0, 0.0, "") for name in self.names()
        )


@dataclass
class Cpu(Section):
    """CPU seconds of the whole tree (workers included) from the processes' own counters."""

    user_s: float | None = None
    sys_s: float | None = None
    cores_used: float | None = None  # (user + sys) / wall
    cpu_count: int | None = None  # of the machine


@dataclass
class Split(Section):
    """The working threads' time by resource, as shares of it: the monitor's view. A share
    the file lacks is None (not measured), which shares() counts as 0."""

    on_cpu: float | None = None
    cpu_wait: float | None = None  # queued for a CPU after a preemption
    disk_wait: float | None = None
    network_wait: float | None = None
    lock_wait: float | None = None
    sleep: float | None = None
    other: float | None = None

    def shares(self) -> dict[str, float]:
        return {name: getattr(self, name) or 0.0 for name in SPLIT_KEYS}


#: The split's keys, in the order every table shows them: the one definition.
SPLIT_KEYS: tuple[str, ...] = Split.names()


@dataclass
class Gil(Section):
    held_fraction: float | None = None  # from a profiler that reads the GIL
    waiting_fraction: float | None = None  # the monitor's futex waits
    source: str = ""


@dataclass
class Memory(Section):
    peak_rss_mb: float | None = None  # the larger of the monitor's and the workload's
    peak_rss_source: str = ""  # "monitor" or "workload"
    monitor_peak_rss_mb: float | None = None
    workload_peak_rss_mb: float | None = None
    peak_heap_mb: float | None = None  # a memory profiler's


@dataclass
class Io(Section):
    """Bytes the tree read and wrote: from the device (read/write) and through the page cache
    (chars: every read() and write(), cached or not)."""

    read_mb: float | None = None
    write_mb: float | None = None
    read_chars_mb: float | None = None
    write_chars_mb: float | None = None


@dataclass
class Throughput(Section):
    """The workload's own count and clock (its result line), not the harness's."""

    items: int | None = None
    items_out: int | None = None
    items_quarantined: int | None = None
    items_per_s: float | None = None
    elapsed_s: float | None = None
    status: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class LiveFigures:
    """What a run's status line shows while it goes: the monitor's snapshot, typed at the
    boundary (a key renamed in the snapshot is then an error here, not "0.00 cores")."""

    elapsed_s: float
    cores: float  # used over the last second
    rss_mb: float
    threads: int
    processes: int

    @classmethod
    def of(cls, elapsed_s: float, snapshot: dict[str, Any]) -> LiveFigures:
        return cls(
            elapsed_s=elapsed_s,
            cores=snapshot["cores"],
            rss_mb=snapshot["rss_mb"],
            threads=snapshot["threads"],
            processes=snapshot["processes"],
        )
