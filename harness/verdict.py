"""What bounds a run: cpu, gil, disk, network, lock, sleep, memory or mixed, with its evidence.

The monitor's exact counters decide (schedstat on-CPU time, apportioned off-CPU time); the
profiler's view is quoted second, and where the two disagree the evidence says so. Sampled
thread states alone would call a disk-bound program CPU-bound on this kind of machine: a loop
of small appends + fsync is ~33% on CPU by schedstat, yet py-spy marks ~70% of its samples
active.
Run-queue wait counts as CPU when it follows a preemption, not when it follows a wake-up (see
Queueing): a busy machine must not turn an I/O-bound program into a CPU-bound one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DOMINANT_SHARE = 0.5  # the largest share must be at least this...
DOMINANT_RATIO = 1.5  # ...and this many times the next one, else the run is mixed
GIL_LOCK_SHARE = 0.2
NAMED_MIN = 0.3  # below this share of nameable time, no bound is claimed
MEMORY_PRESSURE = 0.85  # peak RSS as a fraction of the machine's RAM
KERNEL_HEAVY = 0.5  # system time as a fraction of CPU time above which the kernel is the work

ADVICE = {
    "cpu": "CPU-bound: profile the hot frames; a faster parser/encoder (orjson) or processes "
    "(one per core) raise throughput; threads and asyncio will not.",
    "gil": "GIL-bound: threads take turns on one core; use processes (ProcessPoolExecutor) or "
    "libraries that release the GIL.",
    "disk": "Disk-bound: write fewer, larger files, fsync per batch or at the end instead of per "
    "item, or move output to faster storage.",
    "network": "Network-bound: keep more requests in flight (asyncio or threads) within the "
    "server's rate limit; larger pages cut round trips.",
    "lock": "Lock-bound: threads wait on each other; shorten critical sections or shard the "
    "shared state.",
    "sleep": "Sleeping: the program waits on timers (sleep, back-off, rate limits); check "
    "retry and rate-limit settings.",
    "memory": "Memory-bound: peak RSS is close to the machine's RAM; stream instead of holding "
    "all items, or use smaller records.",
    "mixed": "No single bottleneck: work on the two largest shares named above.",
}
#: For a cpu bound whose CPU time is mostly system time.
KERNEL_ADVICE = (
    "CPU-bound in the kernel: the time goes to system calls (creating, opening and writing "
    "files, socket I/O), not Python; fewer, larger calls (a collection or batched layout, bigger "
    "reads and writes) cut it, a faster Python encoder will not."
)


@dataclass
class Verdict:
    bound: str
    confidence: str
    evidence: list[str] = field(default_factory=list)
    advice: str = ""
    shares: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bound": self.bound,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "advice": self.advice,
            "shares": self.shares,
        }


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


@dataclass
class Queueing:
    """Run-queue wait (schedstat) as fractions of thread time, split by what preceded it.

    After a preemption (an involuntary context switch) a thread was computing and wanted to go
    on: that wait is CPU demand, and counts as CPU. After waking from a blocking wait (a
    voluntary switch: I/O done, lock free, timer fired) the wait is the machine's wake-up
    latency, which grows with the neighbours' load, not with the program's work: it is left out
    of the shares. Measured here, a loop of appends + fsync woken 23,000 times a second spent
    35% of its time queued on a busy machine and 10% on a quiet one; counted as CPU, that called
    a disk-bound program mixed. The kernel counts both kinds of switch exactly, not the wait
    after each, so the wait is apportioned by their counts.
    """

    counted: float = 0.0
    left_out: float = 0.0


def queueing(split: dict[str, float], ctx_switches: dict[str, int] | None) -> Queueing:
    """Split the run-queue share `cpu_wait` into the part counted as CPU and the part left out."""
    wait = split.get("cpu_wait", 0.0)
    voluntary = (ctx_switches or {}).get("voluntary", 0)
    involuntary = (ctx_switches or {}).get("involuntary", 0)
    if wait <= 0 or voluntary + involuntary <= 0:
        return Queueing(counted=wait)
    counted = wait * involuntary / (voluntary + involuntary)
    return Queueing(counted=counted, left_out=wait - counted)


def shares_of(
    split: dict[str, float], queued: Queueing | None = None, contended: float | None = None
) -> dict[str, float]:
    """Candidate bounds and their shares of thread time, less the wake-up queueing left out;
    run-queue wait after preemptions counts as CPU (all of it when `queued` is not given).

    `contended` is the part of lock_wait on futex words several threads waited on (the
    monitor's lock_detail); the rest, a thread waiting on its own lock for another's result
    (a future, join), names no bottleneck of its own and joins `other`. None: all of it is
    lock (an older summary without lock_detail).
    """
    queued = queued or Queueing(counted=split.get("cpu_wait", 0.0))
    rest = 1.0 - queued.left_out
    if rest <= 0:
        rest = 1.0
    lock = split.get("lock_wait", 0.0)
    contended = lock if contended is None else min(contended, lock)
    return {
        "cpu": (split.get("on_cpu", 0.0) + queued.counted) / rest,
        "disk": split.get("disk_wait", 0.0) / rest,
        "network": split.get("network_wait", 0.0) / rest,
        "lock": contended / rest,
        "sleep": split.get("sleep", 0.0) / rest,
        "other": (split.get("other", 0.0) + lock - contended) / rest,
    }


def _busiest_process_threads(monitor: dict[str, Any]) -> int:
    """Most busy (not parked) threads in one process: only threads of one process share a GIL."""
    threads = monitor.get("threads") or []
    per_pid: dict[Any, int] = {}
    for t in threads:
        if not t.get("parked"):
            per_pid[t.get("pid")] = per_pid.get(t.get("pid"), 0) + 1
    return max(per_pid.values(), default=0)


def _demand_cores(monitor: dict[str, Any], queued: Queueing, cores: float) -> float:
    """Cores the working threads wanted: on a CPU, or queued after a preemption, per second."""
    seconds = monitor.get("seconds") or {}
    wall = monitor.get("wall_s") or 0.0
    thread_time = monitor.get("thread_time_s") or 0.0
    if not seconds or wall <= 0:
        return cores
    return (seconds.get("on_cpu", 0.0) + queued.counted * thread_time) / wall


def decide(
    monitor: dict[str, Any],
    tool_metrics: dict[str, Any] | None = None,
    cpu_count: int = 1,
    total_ram_mb: float | None = None,
) -> Verdict:
    """Classify a run from the monitor's report and (optionally) the profiler's figures."""
    tool_metrics = tool_metrics or {}
    split = monitor.get("split") or {}
    if not split or monitor.get("thread_time_s", 0) <= 0:
        return Verdict(
            "unknown",
            "none",
            ["the monitor saw no thread time (the run ended before it could sample)"],
        )
    queued = queueing(split, monitor.get("ctx_switches"))
    contended = (monitor.get("lock_detail") or {}).get("contended_share")
    shares = shares_of(split, queued, contended)
    cores = (monitor.get("cpu") or {}).get("cores_used", 0.0)
    demand = _demand_cores(monitor, queued, cores)
    workers = sum(1 for t in monitor.get("threads", []) if not t.get("parked"))
    same_process = _busiest_process_threads(monitor) if monitor.get("threads") else workers
    evidence = [
        f"Threads doing the work spent {_pct(split.get('on_cpu', 0))} of their time on a CPU "
        f"(schedstat), {_pct(split.get('cpu_wait', 0))} waiting for one, "
        f"{_pct(split.get('disk_wait', 0))} on disk, {_pct(split.get('network_wait', 0))} on "
        f"the network, {_pct(split.get('lock_wait', 0))} on locks, "
        f"{_pct(split.get('sleep', 0))} asleep; {cores:.2f} of {cpu_count} cores used."
    ]
    if queued.left_out >= 0.05:
        evidence.append(
            f"{_pct(queued.left_out)} of thread time was spent queued for a CPU after waking "
            "from a wait (wake-up latency: the machine was busy); the shares below leave it "
            f"out, and count the {_pct(queued.counted)} queued after preemptions as CPU."
        )
    ranked = sorted((k for k in shares if k != "other"), key=shares.get, reverse=True)
    # Dominance is judged among the shares that name a bottleneck: waits on pipes, children
    # or another thread's result ("other") follow from the rest (a pool's parent waits while
    # its workers compute).
    named = 1.0 - shares["other"]
    top, second = ranked[0], ranked[1]
    is_gil = (
        shares["lock"] >= GIL_LOCK_SHARE
        and same_process >= 2
        and demand < 1.3
        and shares["cpu"] + shares["lock"] >= 0.7
    )
    peak = (monitor.get("memory") or {}).get("peak_rss_mb")
    if total_ram_mb and peak and peak >= MEMORY_PRESSURE * total_ram_mb:
        bound, confidence = "memory", "medium"
        evidence.append(f"Peak RSS {peak:.0f} MB is {_pct(peak / total_ram_mb)} of RAM.")
    elif is_gil:
        bound = "gil"
        confidence = "high" if shares["lock"] >= 0.4 else "medium"
        evidence.append(
            f"{same_process} busy threads of one process wanted {demand:.2f} cores between "
            f"them and waited on a lock (futex) that several of them waited on "
            f"{_pct(shares['lock'])} of the time: the GIL serialises them."
        )
    elif named < NAMED_MIN:
        bound, confidence = "mixed", "low"
        evidence.append(
            f"Only {_pct(named)} of thread time is in shares that name a bottleneck; the rest "
            "waits on pipes, child processes or other threads' results."
        )
    elif shares[top] >= DOMINANT_SHARE * named and shares[top] >= DOMINANT_RATIO * shares[second]:
        bound = top
        confidence = "high" if shares[top] >= 0.75 * named and named >= 0.7 else "medium"
    else:
        bound, confidence = "mixed", "medium"
        evidence.append(
            f"No share dominates: {top} {_pct(shares[top])}, {second} {_pct(shares[second])}."
        )
    advice = ADVICE.get(bound, "")
    if bound == "cpu" and (kernel := _kernel_share(monitor)) is not None and kernel >= KERNEL_HEAVY:
        evidence.append(
            f"{_pct(kernel)} of the CPU time was system time (in the kernel, for system calls), "
            f"{_pct(1 - kernel)} user time."
        )
        advice = KERNEL_ADVICE
    if bound == "cpu" and cpu_count > 1 and demand < 1.2 and workers <= 1:
        evidence.append(f"One thread does the work: at most 1 of {cpu_count} cores can be used.")
    if shares["other"] >= 0.2:
        evidence.append(
            f"{_pct(shares['other'])} of thread time is in waits that name no bottleneck of "
            "their own (pipes, child processes, threads waiting for another's result)."
        )
    evidence.extend(_tool_evidence(split, tool_metrics))
    return Verdict(
        bound,
        confidence,
        evidence,
        advice,
        {k: round(v, 4) for k, v in shares.items()},
    )


def _kernel_share(monitor: dict[str, Any]) -> float | None:
    """System time as a fraction of the process tree's CPU time (rusage-exact), if known."""
    cpu = monitor.get("cpu") or {}
    user, system = cpu.get("user_s"), cpu.get("sys_s")
    if user is None or system is None or user + system <= 0:
        return None
    return system / (user + system)


def _tool_evidence(split: dict[str, float], metrics: dict[str, Any]) -> list[str]:
    out: list[str] = []
    on_cpu = split.get("on_cpu", 0.0)
    active = metrics.get("active_fraction")
    if active is not None:
        line = f"py-spy marked {_pct(active)} of its samples active"
        if abs(active - on_cpu) >= 0.15:
            line += (
                f", but the kernel's counters put the threads on a CPU only "
                f"{_pct(on_cpu)} of the time"
                if active > on_cpu
                else f", while the kernel's counters put them on a CPU {_pct(on_cpu)} of the time"
            )
            line += "; the counters are exact, the samples are not."
        else:
            line += f", in line with the counters ({_pct(on_cpu)} on CPU)."
        out.append(line)
    gil = metrics.get("gil_held_fraction")
    if gil is not None:
        out.append(f"py-spy saw the GIL held {_pct(gil)} of the time.")
    system = metrics.get("system_fraction")
    if system is not None:
        out.append(
            f"scalene attributes {_pct(system)} of time to system (I/O and waiting), "
            f"{_pct(metrics.get('python_fraction') or 0)} to Python and "
            f"{_pct(metrics.get('native_fraction') or 0)} to native code."
        )
    heap = metrics.get("peak_heap_mb")
    if heap is not None:
        out.append(f"memray's peak heap was {heap:.1f} MB.")
    return out
