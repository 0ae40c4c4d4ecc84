"""What the sampler accumulates per thread and per process: raw counters with their baselines.

Counters are kept raw (ns, clock ticks, bytes) with a baseline taken when the window began, or
zero for a thread or process born inside the window, so that report.py can take differences.
"""

from __future__ import annotations

from collections import Counter

from harness.monitor.procfs import FdBudget, ProcFile

# What an ended thread's files become: a file that reads as gone, shared by all of them.
ENDED = ProcFile("/proc/self/task/0/ended", FdBudget(0))


class ThreadRecord:
    """One thread seen in the tree: schedstat counters, lifetime and its blocked samples."""

    __slots__ = (
        "base_blkio",
        "base_ivcsw",
        "base_on_ns",
        "base_stime",
        "base_utime",
        "base_vcsw",
        "base_wait_ns",
        "blkio",
        "blocked",
        "counts",
        "families",
        "idle_from_ns",
        "idle_since",
        "ivcsw",
        "kchains",
        "kernel",
        "last_category",
        "last_running",
        "last_seen",
        "life_start",
        "lock_ctx",
        "memo",
        "name",
        "on_ns",
        "on_ns_at_times",
        "perf",
        "pid",
        "sched",
        "slices",
        "slices_at_status",
        "stat",
        "stime",
        "syscall",
        "tid",
        "utime",
        "vcsw",
        "visits",
        "wait_ns",
    )

    def __init__(
        self, pid: int, tid: int, name: str, stat: ProcFile, sched: ProcFile, syscall: ProcFile
    ) -> None:
        self.pid = pid
        self.tid = tid
        self.name = name
        self.stat = stat
        self.sched = sched
        self.syscall = syscall
        self.life_start = 0.0  # CLOCK_BOOTTIME seconds
        self.last_seen = 0.0  # when its counters were last read successfully
        self.base_on_ns = self.on_ns = 0
        self.base_wait_ns = self.wait_ns = 0
        self.base_blkio = self.blkio = 0
        self.base_vcsw = self.vcsw = 0
        self.base_ivcsw = self.ivcsw = 0
        self.slices = 0  # times it was scheduled in (schedstat field 3)
        self.slices_at_status = -1  # `slices` when its context switches were last read
        # User and system clock ticks (its stat): they split its exact on-CPU time.
        self.base_utime = self.utime = 0
        self.base_stime = self.stime = 0
        self.on_ns_at_times = -1  # on_ns when utime/stime were last read
        self.blocked = 0
        self.counts: Counter[str] = Counter()
        # Its blocked samples by (category, syscall family): which calls it waited in.
        self.families: Counter[tuple[str, str]] = Counter()
        # Its running samples by the family its kernel stack showed (families.stack_family):
        # what its system time was spent on, where the stack can be read.
        self.kernel: Counter[str] = Counter()
        # Its perf cpu-clock samples (perfsample.py): raw kernel chains while the run lasts
        # (the empty chain: user mode), then by family once named at the end.
        self.kchains: Counter[tuple[int, ...]] = Counter()
        self.perf: Counter[str] = Counter()
        # Its lock samples by (futex word, what the rest of its process did then): "running"
        # when a sibling ran, else the category the siblings waited in ("" if none did).
        # A word two threads wait on is a lock they contend for; see threadtimes.py.
        self.lock_ctx: Counter[tuple[bytes, str]] = Counter()
        self.last_running = False  # whether its last sample found it running
        self.visits = tid  # passes that sampled it (from its tid, to stagger schedstat reads)
        # When first sampled waiting on another thread or process (classify.IDLE_WAITS), and
        # on_ns then; -1 before. Whether it is parked is judged from there on (threadtimes.py).
        self.idle_since = -1.0
        self.idle_from_ns = -1
        # Category of its last blocked sample not in restart_syscall, which carries it over.
        self.last_category: str | None = None
        # (syscall line prefix, category, label, fd, fd kind, until, family) of its last
        # classified blocked sample, reused while the line keeps that prefix (and fd >= 0 keeps
        # its kind; fd -2: until that time).
        self.memo: tuple[bytes, str, str, int, str | None, float, str] | None = None

    def close(self) -> None:
        """Release its /proc files, and forget them and its memo: an ended thread's record is
        kept for the report only, and a long run with thread churn keeps thousands (its files
        and their paths were a quarter of each record's ~1.7 KB)."""
        self.stat.close()
        self.sched.close()
        self.syscall.close()
        self.stat = self.sched = self.syscall = ENDED
        self.memo = None


class ProcessRecord:
    """One process seen in the tree: CPU ticks (own and reaped children), I/O, RSS, threads."""

    __slots__ = (
        "base_cstime",
        "base_cutime",
        "base_io",
        "base_stime",
        "base_utime",
        "born_inside",
        "cmdline",
        "cstime",
        "cutime",
        "ended_threads",
        "excluded",
        "io",
        "io_file",
        "io_read_at",
        "last_read",
        "name",
        "peak_rss_pages",
        "pid",
        "ppid",
        "rotation",
        "rss_pages",
        "running",
        "slow_cursor",
        "starttime",
        "stat",
        "stime",
        "threads",
        "utime",
        "vanished_at",
        "zombie",
    )

    def __init__(self, pid: int, stat: ProcFile, io_file: ProcFile) -> None:
        self.pid = pid
        self.stat = stat
        self.io_file = io_file
        self.ppid = 0
        self.name = ""
        self.cmdline = ""
        self.excluded = False
        self.born_inside = False  # created after the window began: its baselines are zero
        self.starttime = 0
        self.last_read = 0.0
        self.vanished_at: float | None = None
        self.base_utime = self.utime = 0
        self.base_stime = self.stime = 0
        self.base_cutime = self.cutime = 0
        self.base_cstime = self.cstime = 0
        self.base_io: tuple[int, int, int, int] | None = None
        self.io: tuple[int, int, int, int] | None = None
        self.io_read_at = 0.0
        self.zombie = False  # exited, not yet reaped: its counters are final
        self.rss_pages = 0
        self.peak_rss_pages = 0
        self.threads: dict[int, ThreadRecord] = {}
        self.ended_threads: list[ThreadRecord] = []
        self.rotation = 0  # where the next pass starts when it samples only some threads
        self.running = 0  # its threads whose last sample found them running
        self.slow_cursor = 0  # where the next slow pass starts reading threads' counters

    def close(self) -> None:
        """Release its open /proc files."""
        self.stat.close()
        self.io_file.close()

    def all_threads(self) -> list[ThreadRecord]:
        """Every thread it had in the window, live and ended."""
        return [*self.ended_threads, *self.threads.values()]
