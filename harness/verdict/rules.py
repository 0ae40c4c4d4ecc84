"""What bounds a run: cpu, gil, disk, filesystem, network, lock, sleep, memory or mixed.

The monitor's exact counters decide, by cause (see families.py): on-CPU time and its user and
system parts are exact, the family of the kernel's work and the off-CPU waits are apportioned
by samples. The profiler's view is quoted second (its own evidence lines). Sampled thread
states alone would call a disk-bound program CPU-bound on this kind of machine: a loop of small
appends + fsync is 30-50% on CPU by schedstat (nearly all of it the kernel's flush), yet a
sampling profiler marks all its samples active.
Run-queue wait counts as CPU when it follows a preemption, not when it follows a wake-up (see
Queueing): a busy machine must not turn an I/O-bound program into a CPU-bound one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.verdict import advice, evidence
from harness.verdict.families import causes_from_split, family_shares

DOMINANT_SHARE = 0.5  # the largest share must be at least this of the nameable time...
DOMINANT_RATIO = 1.5  # ...and this many times the next one, else the run is mixed
GIL_SHARE = 0.2
NAMED_MIN = 0.3  # below this share of nameable time, no bound is claimed
MEMORY_PRESSURE = 0.85  # peak RSS as a fraction of the machine's RAM
BUSY_MACHINE = 0.5  # wake-up queueing above this share leaves too little of the run to judge


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


def _busiest_process_threads(monitor: dict[str, Any]) -> int:
    """Most busy (not parked) threads in one process: only threads of one process share a GIL."""
    per_pid: dict[Any, int] = {}
    for t in monitor.get("threads") or []:
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
    tool_evidence: list[str] | None = None,
    cpu_count: int = 1,
    total_ram_mb: float | None = None,
) -> Verdict:
    """Classify a run from the monitor's report; `tool_evidence` are the profiler's own lines."""
    split = monitor.get("split") or {}
    if not split or monitor.get("thread_time_s", 0) <= 0:
        return Verdict(
            "unknown",
            "none",
            ["the monitor saw no thread time (the run ended before it could sample)"],
        )
    causes = monitor.get("causes") or causes_from_split(monitor)
    queued = queueing(
        {"cpu_wait": (causes.get("shares") or {}).get("queued", 0.0)}, monitor.get("ctx_switches")
    )
    shares = family_shares(causes, queued.counted, queued.left_out)
    cores = (monitor.get("cpu") or {}).get("cores_used", 0.0)
    demand = _demand_cores(monitor, queued, cores)
    workers = sum(1 for t in monitor.get("threads", []) if not t.get("parked"))
    same_process = _busiest_process_threads(monitor) if monitor.get("threads") else workers
    lines = [evidence.resources(split, causes, cores, cpu_count)]
    if queued.left_out >= 0.05:
        lines.append(evidence.wake_up_queueing(queued.left_out, queued.counted))
    is_gil = (
        shares["gil"] >= GIL_SHARE
        and same_process >= 2
        and demand < 1.3
        and shares["cpu"] + shares["gil"] >= 0.7
    )
    if not is_gil:  # a lock held by a running thread that is not the GIL: still a lock
        shares["lock"] += shares.pop("gil")
        shares["gil"] = 0.0
    ranked = sorted((k for k in shares if k != "other"), key=shares.get, reverse=True)
    # Dominance is judged among the shares that name a bottleneck: waits on pipes, children
    # or another thread's result ("other") follow from the rest (a pool's parent waits while
    # its workers compute).
    named = 1.0 - shares["other"]
    top, second = ranked[0], ranked[1]
    peak = (monitor.get("memory") or {}).get("peak_rss_mb")
    if total_ram_mb and peak and peak >= MEMORY_PRESSURE * total_ram_mb:
        bound, confidence = "memory", "medium"
        lines.append(f"Peak RSS {peak:.0f} MB is {evidence.pct(peak / total_ram_mb)} of RAM.")
    elif is_gil:
        bound = "gil"
        confidence = "high" if shares["gil"] >= 0.4 else "medium"
        lines.append(evidence.gil(same_process, demand, shares["gil"]))
    elif named < NAMED_MIN:
        bound, confidence = "mixed", "low"
        lines.append(evidence.unnamed(named))
    elif shares[top] >= DOMINANT_SHARE * named and shares[top] >= DOMINANT_RATIO * shares[second]:
        bound = top
        confidence = "high" if shares[top] >= 0.75 * named and named >= 0.7 else "medium"
    else:
        bound, confidence = "mixed", "medium"
        lines.append(
            f"No cause dominates: {top} {evidence.pct(shares[top])}, "
            f"{second} {evidence.pct(shares[second])}."
        )
    scale = 1.0 / (1.0 - queued.left_out) if queued.left_out < 1.0 else 1.0
    lines.extend(evidence.of_bound(bound, causes, shares, monitor, scale, queued.counted))
    if queued.left_out >= BUSY_MACHINE:
        confidence = "low"
        lines.append(evidence.busy_machine(queued.left_out))
    if bound == "cpu" and cpu_count > 1 and demand < 1.2 and workers <= 1:
        lines.append(f"One thread does the work: at most 1 of {cpu_count} cores can be used.")
    if shares["other"] >= 0.2:
        lines.append(
            f"{evidence.pct(shares['other'])} of thread time is in waits that name no "
            "bottleneck of their own (pipes, child processes, threads waiting for another's "
            "result)."
        )
    lines.extend(evidence.unseen(causes))
    lines.extend(evidence.method(causes))
    lines.extend(tool_evidence or [])
    return Verdict(
        bound,
        confidence,
        lines,
        _advice(bound, causes),
        {k: round(v, 4) for k, v in shares.items()},
    )


def _advice(bound: str, causes: dict[str, Any]) -> str:
    top = evidence.top_cause_of(bound, causes)
    chains = causes.get("lock_chains") or {}
    holder = max(chains, key=chains.get) if chains and bound == "lock" else None
    text = advice.for_bound(bound, top, holder)
    kernel = evidence.kernel_heavy_cpu(causes) if bound == "cpu" else None
    return advice.KERNEL_CPU.format(families=kernel) if kernel else text
