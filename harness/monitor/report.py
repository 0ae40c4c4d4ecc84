"""MonitorReport and the aggregation of sampled records into it.

Exact counters first: each thread's on-CPU and run-queue time come from schedstat; its
off-CPU time (lifetime - on-CPU - run-queue) is apportioned across categories by the
fractions of its blocked samples. Process CPU, I/O and context switches are exact counters.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.monitor import causes
from harness.monitor.classify import (
    CHILD_WAIT,
    DISK,
    IPC,
    LOCK,
    NETWORK,
    OTHER,
    SLEEP,
    STOPPED,
)
from harness.monitor.procfs import CLK_TCK, PAGE_SIZE
from harness.monitor.records import ProcessRecord
from harness.monitor.threadtimes import is_parked, shared_lock_words, thread_times
from harness.monitor.totals import cpu_seconds, io_totals

SPLIT_KEYS: tuple[str, ...] = (
    "on_cpu",
    "cpu_wait",
    "disk_wait",
    "network_wait",
    "lock_wait",
    "sleep",
    "other",
)
DETAIL_KEYS: tuple[str, ...] = ("ipc", "child_wait", "stopped", "unclassified")
_SPLIT_KEY = {
    DISK: "disk_wait",
    NETWORK: "network_wait",
    LOCK: "lock_wait",
    SLEEP: "sleep",
    IPC: "other",
    CHILD_WAIT: "other",
    STOPPED: "other",
    OTHER: "other",
}
_DETAIL_KEY = {IPC: "ipc", CHILD_WAIT: "child_wait", STOPPED: "stopped", OTHER: "unclassified"}

TOP_PROCESSES_RSS = 5
MAX_PROCESSES_LISTED = 50
MAX_THREADS_LISTED = 40
TOP_SYSCALLS = 10
MAX_THREAD_CAUSES = 4096
_MB = 2**20


@dataclass
class MonitorReport:
    """Where the time of a process tree went during the monitoring window.

    `split` holds fractions of `thread_time_s`, the summed lifetimes of the threads doing the
    work; `seconds` the same in thread-seconds (keys: on_cpu, cpu_wait = waiting in a run
    queue, disk_wait, network_wait, lock_wait = futex, mostly the GIL, sleep, other).
    Parked threads are left out of both and reported as `parked_s`: a thread whose blocked
    samples are >= 95% lock / ipc / child waits, first sampled in such a wait within the first
    10% of its life and on CPU < 2% of its life from then on (a main thread in join(), a pool
    parent waiting for results after starting up, an idle executor thread) does not bound the
    program, and counting it would bury the split in idle waiting; its CPU time still counts in
    `cpu`. If every thread would be parked, none is. `other_detail` breaks `other` down, in
    thread-seconds (like `seconds`; `split` is fractions): ipc (pipes, unix sockets),
    child_wait (wait4/waitid), stopped (paused, e.g. by a profiler), unclassified (everything
    else, and off-CPU time of threads with no blocked sample). `cpu` and `io` count every
    process of the tree seen in the window, also those that exited; children too short-lived
    to be seen are counted from their parent's reaped-children counters as of our last look at
    the parent (every 0.1 s), so those reaped in a parent's last ~0.1 s before it exits are
    missed.
    A futex wait sampled while no other thread of its process could run is a hand-off, not
    contention: it is credited to what the other threads waited on at that sample (a consumer
    blocked on a queue that a network thread fills waits on the network); `blocked_samples`
    keeps the raw categories.
    `lock_detail` splits lock_wait (thread-seconds) into `contended_s`, waits on a futex word
    that several threads of the process waited on (the GIL's are), and `own_s`, waits on a
    thread's own lock (a future's result, join); `contended_share` is a fraction like `split`.
    `split` is all zeros if no thread time was observed.
    `peak_rss_by_process` is keyed by pid as a string (JSON keys are strings).
    `delayacct_blkio_s` is None when the kernel's delay accounting is off.
    """

    wall_s: float
    thread_time_s: float
    parked_s: float
    split: dict[str, float]
    seconds: dict[str, float]
    other_detail: dict[str, float]
    cpu: dict[str, float]
    ctx_switches: dict[str, int]
    io: dict[str, int]
    memory: dict[str, Any]
    processes_seen: int
    threads_seen: int
    samples: int
    blocked_samples: dict[str, int]
    top_syscalls: list[tuple[str, int]]
    delayacct_blkio_s: float | None
    monitor_cpu_s: float
    per_process: list[dict[str, Any]]
    threads: list[dict[str, Any]]
    interval_s: float = 0.01
    top_wchans: list[tuple[str, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock_detail: dict[str, float] = field(default_factory=dict)
    causes: dict[str, Any] = field(default_factory=dict)
    # Per working thread: {"pid", "tid", "lifetime_s", "causes": {cause: seconds}}, for joining
    # with a profiler's stacks; not kept in summary.json (it grows with the thread count).
    thread_causes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (tuples become lists)."""
        data = dataclasses.asdict(self)
        data["top_syscalls"] = [list(t) for t in self.top_syscalls]
        data["top_wchans"] = [list(t) for t in self.top_wchans]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitorReport:
        """Inverse of to_dict; unknown keys (from a newer writer) are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        for key in ("top_syscalls", "top_wchans"):
            if key in kwargs:
                kwargs[key] = [(str(n), int(c)) for n, c in kwargs[key]]
        return cls(**kwargs)


def build_report(
    *,
    procs: list[ProcessRecord],
    wall_s: float,
    interval_s: float,
    samples: int,
    threads_seen: int,
    peak_tree_rss_pages: int,
    syscalls: Counter[str],
    wchans: Counter[str],
    delayacct: bool,
    monitor_cpu_s: float,
    errors: list[str],
    stacks_read: int = 0,
    stacks_readable: bool = False,
    perf: dict[str, Any] | None = None,
) -> MonitorReport:
    """Aggregate the sampler's records into a MonitorReport."""
    counted = [p for p in procs if not p.excluded]
    shared = shared_lock_words(counted)
    owned = [(p, thread_times(th, shared)) for p in counted for th in p.all_threads()]
    times = [tt for _, tt in owned]
    for tt in times:
        tt.parked = is_parked(tt)
    if times and all(tt.parked for tt in times):
        for tt in times:
            tt.parked = False
    working = [tt for tt in times if not tt.parked]
    sys_fraction = causes.process_sys_fractions(counted)
    by_thread = {id(tt): causes.thread_causes(tt, sys_fraction[id(p)]) for p, tt in owned}

    on_cpu_by_proc = {
        id(p): sum(max(0, th.on_ns - th.base_on_ns) for th in p.all_threads()) / 1e9
        for p in counted
    }
    user_s, sys_s = cpu_seconds(procs, on_cpu_by_proc)
    # CPU of threads and children too short-lived to be sampled: in the split as on-CPU time.
    unseen = causes.unseen_cpu(user_s, sys_s, list(by_thread.values()))

    seconds = dict.fromkeys(SPLIT_KEYS, 0.0)
    detail = dict.fromkeys(DETAIL_KEYS, 0.0)
    for tt in working:
        seconds["on_cpu"] += tt.on_cpu_s
        seconds["cpu_wait"] += tt.cpu_wait_s
        for cat, s in tt.off_s.items():
            seconds[_SPLIT_KEY[cat]] += s
            if cat in _DETAIL_KEY:
                detail[_DETAIL_KEY[cat]] += s
    seconds["on_cpu"] += sum(unseen)
    working_time = sum(tt.lifetime_s for tt in working)
    thread_time = working_time + sum(unseen)
    split = {k: (v / thread_time if thread_time > 0 else 0.0) for k, v in seconds.items()}
    contended_s = sum(tt.lock_contended_s + sum(tt.lock_chain_s.values()) for tt in working)
    lock_detail = {
        "contended_s": contended_s,
        "own_s": sum(tt.lock_own_s for tt in working),
        "contended_share": contended_s / thread_time if thread_time > 0 else 0.0,
    }
    blocked: Counter[str] = Counter()
    for tt in times:
        blocked.update(tt.record.counts)
    cause_section = causes.summarize(
        [by_thread[id(tt)] for tt in working],
        working_time,
        unseen,
        {
            "blocked_samples": sum(blocked.values()),
            "stack_samples": stacks_read,
            "stacks_readable": stacks_readable,
            **(perf or {}),
        },
    )
    thread_causes = [
        {
            "pid": tt.record.pid,
            "tid": tt.record.tid,
            "lifetime_s": round(tt.lifetime_s, 4),
            "causes": {k: round(v, 5) for k, v in by_thread[id(tt)].seconds.items() if v > 0},
            "device": {
                k: round(v, 5) for k, v in by_thread[id(tt)].device_by_family.items() if v > 0
            },
        }
        for tt in sorted(working, key=lambda tt: -tt.lifetime_s)[:MAX_THREAD_CAUSES]
    ]

    per_process = [
        {
            "pid": p.pid,
            "name": p.name,
            "cmdline_short": p.cmdline[:80],
            "on_cpu_s": round(on_cpu_by_proc[id(p)], 3),
            "user_s": round((p.utime - p.base_utime) / CLK_TCK, 3),
            "sys_s": round((p.stime - p.base_stime) / CLK_TCK, 3),
            "threads": len(p.all_threads()),
        }
        for p in counted
    ]
    per_process.sort(key=lambda d: -(d["user_s"] + d["sys_s"]))
    listed = sorted(times, key=lambda tt: -tt.lifetime_s)[:MAX_THREADS_LISTED]
    listed.sort(key=lambda tt: (tt.record.pid, tt.record.tid))
    threads = [
        {
            "pid": tt.record.pid,
            "tid": tt.record.tid,
            "name": tt.record.name,
            "lifetime_s": round(tt.lifetime_s, 3),
            "on_cpu_s": round(tt.on_cpu_s, 3),
            "cpu_wait_s": round(tt.cpu_wait_s, 3),
            "parked": tt.parked,
            "top_category": tt.top_category,
        }
        for tt in listed
    ]
    top_rss = sorted(counted, key=lambda p: -p.peak_rss_pages)[:TOP_PROCESSES_RSS]
    max_process_peak = top_rss[0].peak_rss_pages if top_rss else 0
    all_threads = [th for p in counted for th in p.all_threads()]
    blkio = sum(max(0, th.blkio - th.base_blkio) for th in all_threads)

    return MonitorReport(
        wall_s=wall_s,
        thread_time_s=thread_time,
        parked_s=sum(tt.lifetime_s for tt in times if tt.parked),
        split=split,
        seconds=seconds,
        other_detail=detail,
        cpu={
            "user_s": user_s,
            "sys_s": sys_s,
            "cores_used": (user_s + sys_s) / wall_s if wall_s > 0 else 0.0,
        },
        ctx_switches={
            "voluntary": sum(max(0, th.vcsw - th.base_vcsw) for th in all_threads),
            "involuntary": sum(max(0, th.ivcsw - th.base_ivcsw) for th in all_threads),
        },
        io=io_totals(procs),
        memory={
            # The sampled sum of the tree can miss a short peak; no process's own exact
            # high-water mark (VmHWM) can be above the tree's peak, so take the larger.
            "peak_rss_mb": max(peak_tree_rss_pages, max_process_peak) * PAGE_SIZE / _MB,
            "peak_rss_by_process": {
                str(p.pid): round(p.peak_rss_pages * PAGE_SIZE / _MB, 1) for p in top_rss
            },
        },
        processes_seen=len(counted),
        threads_seen=threads_seen,
        samples=samples,
        blocked_samples=dict(blocked),
        top_syscalls=syscalls.most_common(TOP_SYSCALLS),
        delayacct_blkio_s=blkio / CLK_TCK if delayacct else None,
        monitor_cpu_s=monitor_cpu_s,
        per_process=per_process[:MAX_PROCESSES_LISTED],
        threads=threads,
        interval_s=interval_s,
        top_wchans=wchans.most_common(TOP_SYSCALLS),
        errors=list(errors),
        lock_detail=lock_detail,
        causes=cause_section,
        thread_causes=thread_causes,
    )
