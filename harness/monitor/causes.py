"""Causes: whose time each second of a working thread was, not only which resource it used.

The resource split (report.py) says on a CPU / on disk / on the network. A cause says for what:
user-mode CPU is the program's (`python`; `native` where a profiler tells C code apart), system
CPU is the kernel's work for one family of calls (`kernel:durability` for fsync, ...), and the
waits are the device's, the network's, a lock's (`gil` when its holder ran, `lock` when the
holder itself waited: a chain), a timer's, a child's. The exact parts are exact: on-CPU time
(schedstat) and its user/system split (the thread's stat ticks, scaled to schedstat); what is
apportioned by samples says so, with the sample counts (`method`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.monitor import families
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
from harness.monitor.records import ProcessRecord

PYTHON = "python"
NATIVE = "native"
QUEUED = "queued"
DEVICE = "device"
NET = "network"
GIL = "gil"
LOCK_CAUSE = "lock"
SLEEP_CAUSE = "sleep"
CHILD = "child"
OTHER_CAUSE = "other"
UNATTRIBUTED = "unattributed"
KERNEL = "kernel:"
CAUSES: tuple[str, ...] = (
    PYTHON,
    NATIVE,
    *(KERNEL + f for f in families.FAMILIES),
    QUEUED,
    DEVICE,
    NET,
    GIL,
    LOCK_CAUSE,
    SLEEP_CAUSE,
    CHILD,
    OTHER_CAUSE,
    UNATTRIBUTED,
)
_WAIT_CAUSE = {
    DISK: DEVICE,
    NETWORK: NET,
    SLEEP: SLEEP_CAUSE,
    CHILD_WAIT: CHILD,
    IPC: OTHER_CAUSE,
    STOPPED: OTHER_CAUSE,
    OTHER: OTHER_CAUSE,
}
MIN_STACK_SAMPLES = 3  # fewer kernel stacks than this: the blocked-syscall mix decides
# Below this much CPU (seconds, or share of the tree's) the tree's totals and the threads'
# schedstat agree to within their granularity: nothing was missed.
UNSEEN_MIN_S = 0.02
UNSEEN_MIN_SHARE = 0.01


@dataclass
class ThreadCauses:
    """One thread's seconds by cause, and how its system time was apportioned."""

    seconds: Counter[str] = field(default_factory=Counter)
    device_by_family: Counter[str] = field(default_factory=Counter)
    lock_chains: Counter[str] = field(default_factory=Counter)
    user_s: float = 0.0
    sys_s: float = 0.0
    kernel_method: str = "none"  # "stack", "blocked" or "none"


def kernel_mix(
    perf: Counter[str], stacks: Counter[str], blocked: Counter[tuple[str, str]]
) -> tuple[dict, str]:
    """Fractions of a thread's system time by family, and which evidence gave them.

    The kernel's own cpu-clock samples first (perfsample.py: they interrupt the thread where it
    is); else kernel stacks of its running samples (they show where it was last switched out:
    inside a call that blocks, not inside one that only computes); else the calls it was
    blocked in, leaving out sleeps and futex waits (they cost the kernel next to nothing: a
    thread that waits on a timer spends its system time elsewhere) unless nothing else is
    there; else nothing is known ("other").
    """
    in_kernel = Counter({k: n for k, n in perf.items() if k != "user"})
    if sum(in_kernel.values()) >= MIN_STACK_SAMPLES:
        return _fractions(in_kernel), "perf"
    if sum(stacks.values()) >= MIN_STACK_SAMPLES:
        return _fractions(stacks), "stack"
    busy: Counter[str] = Counter()
    idle: Counter[str] = Counter()
    for (category, family), n in blocked.items():
        (idle if category in (SLEEP, LOCK, STOPPED) else busy)[family] += n
    if busy or idle:
        return _fractions(busy or idle), "blocked"
    if stacks:
        return _fractions(stacks), "stack"
    return {families.OTHER: 1.0}, "none"


def _fractions(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: n / total for k, n in counts.items() if n > 0}


def system_fraction(utime: int, stime: int, fallback: float) -> float:
    """System ticks as a fraction of user + system ticks (`fallback` when it ran < 1 tick)."""
    return stime / (utime + stime) if utime + stime > 0 else fallback


def thread_causes(tt: Any, process_sys_fraction: float) -> ThreadCauses:
    """Seconds by cause of one thread (threadtimes.ThreadTimes)."""
    th = tt.record
    out = ThreadCauses()
    sys_frac = system_fraction(
        th.utime - th.base_utime, th.stime - th.base_stime, process_sys_fraction
    )
    out.sys_s = tt.on_cpu_s * sys_frac
    out.user_s = tt.on_cpu_s - out.sys_s
    out.seconds[PYTHON] += out.user_s
    mix, out.kernel_method = kernel_mix(th.perf, th.kernel, th.families)
    for family, share in mix.items():
        out.seconds[KERNEL + family] += out.sys_s * share
    out.seconds[QUEUED] += tt.cpu_wait_s
    for category, s in tt.off_s.items():
        if category != LOCK:
            out.seconds[_WAIT_CAUSE.get(category, OTHER_CAUSE)] += s
    out.seconds[GIL] += tt.lock_contended_s
    out.seconds[LOCK_CAUSE] += sum(tt.lock_chain_s.values())
    out.seconds[OTHER_CAUSE] += tt.lock_own_s
    out.lock_chains.update(tt.lock_chain_s)
    disk_samples = {f: n for (c, f), n in th.families.items() if c == DISK}
    total = sum(disk_samples.values())
    if total:
        for family, n in disk_samples.items():
            out.device_by_family[family] += tt.off_s.get(DISK, 0.0) * n / total
    return out


def process_sys_fractions(procs: list[ProcessRecord]) -> dict[int, float]:
    """Each process's system share of its own ticks: for threads too short to have a tick."""
    return {
        id(p): system_fraction(p.utime - p.base_utime, p.stime - p.base_stime, 0.0) for p in procs
    }


def unseen_cpu(tree_user_s: float, tree_sys_s: float, seen: list[ThreadCauses]) -> tuple:
    """(user, system) seconds of CPU that the tree's own totals hold beyond its sampled
    threads: threads and processes that began and ended between two looks (the kernel adds an
    exited thread's time to its process and a reaped child's to its parent), and the last
    moments of those we saw. Zero when within the counters' granularity."""
    d_user = tree_user_s - sum(t.user_s for t in seen)
    d_sys = tree_sys_s - sum(t.sys_s for t in seen)
    total = d_user + d_sys
    if total <= max(UNSEEN_MIN_S, UNSEEN_MIN_SHARE * (tree_user_s + tree_sys_s)):
        return 0.0, 0.0
    pos_user, pos_sys = max(0.0, d_user), max(0.0, d_sys)
    user = total * pos_user / (pos_user + pos_sys) if pos_user + pos_sys > 0 else total
    return user, total - user


def summarize(
    working: list[ThreadCauses],
    thread_time_s: float,
    unseen: tuple[float, float],
    samples: dict[str, int],
) -> dict[str, Any]:
    """The `causes` section: seconds and shares of working-thread time (unseen CPU included:
    its user part is python, its system part `unattributed`), with how it was measured."""
    seconds: Counter[str] = Counter()
    device: Counter[str] = Counter()
    chains: Counter[str] = Counter()
    by_method: Counter[str] = Counter()
    for t in working:
        seconds.update(t.seconds)
        device.update(t.device_by_family)
        chains.update(t.lock_chains)
        by_method[t.kernel_method] += t.sys_s
    unseen_user, unseen_sys = unseen
    seconds[PYTHON] += unseen_user
    seconds[UNATTRIBUTED] += unseen_sys
    total = thread_time_s + unseen_user + unseen_sys
    kept = {k: v for k, v in seconds.items() if v > 0}
    return {
        "thread_time_s": round(total, 4),
        "seconds": {k: round(kept[k], 4) for k in CAUSES if k in kept},
        "shares": {k: round(kept[k] / total, 4) if total > 0 else 0.0 for k in CAUSES if k in kept},
        "device_by_family": {k: round(v, 4) for k, v in device.items() if v > 0},
        "lock_chains": {k: round(v, 4) for k, v in chains.items() if v > 0},
        "unseen": {"user_s": round(unseen_user, 4), "sys_s": round(unseen_sys, 4)},
        "unattributed_s": round(unseen_sys, 4),
        "method": {
            "exact": "on-CPU and run-queue time: schedstat; user/system: each thread's stat "
            "ticks, scaled to schedstat; unseen CPU: the processes' own totals",
            "apportioned": "waits: blocked samples; system time by family: the kernel's "
            "cpu-clock samples (perf events), else kernel stacks of running samples, else the "
            "calls the thread blocked in",
            "kernel_by_perf_s": round(by_method["perf"], 4),
            "kernel_by_stack_s": round(by_method["stack"], 4),
            "kernel_by_blocked_s": round(by_method["blocked"], 4),
            "kernel_unknown_s": round(by_method["none"], 4),
            **samples,
        },
    }
