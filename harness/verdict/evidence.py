"""The sentences of a verdict: the resource split, then the causes of its bound, with figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.verdict.families import family_of, flushed, is_on_cpu, waited_on_device

CAUSE_NAMES = {
    "python": "user-mode CPU (Python and its libraries)",
    "native": "user-mode CPU in native code",
    "kernel:durability": "the kernel's flush on a CPU (fsync)",
    "kernel:file_data": "the kernel copying file data on a CPU (read/write)",
    "kernel:metadata": "the kernel's file metadata work (open, create, close, stat)",
    "kernel:network": "the kernel's socket work",
    "kernel:memory": "page faults and memory mapping",
    "kernel:processes": "starting and ending processes and threads",
    "kernel:other": "other system calls",
    "unattributed": "system time of unseen threads",
    "device": "waiting for the device",
    "network": "waiting on sockets",
    "gil": "waiting for a lock held by a running thread",
    "lock": "queued on a lock whose holder waits",
    "sleep": "waiting on timers",
    "queued": "queued for a CPU after preemptions",
    "child": "waiting on child processes",
    "other": "other waits",
}
FAMILY_CALLS = {
    "durability": "fsync",
    "file_data": "read/write",
    "metadata": "open/create/close/stat",
    "memory": "page faults, mmap",
    "processes": "clone/exec/wait",
    "network": "sockets",
    "other": "other calls",
}
_KERNEL_CPU = ("kernel:memory", "kernel:processes", "kernel:other", "unattributed")
UNSEEN_NOTE_S = 0.1  # unseen CPU worth a sentence (or 5% of thread time)


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def resources(split: dict[str, float], causes: dict[str, Any], cores: float, cpu_count: int) -> str:
    """The resource view, every share of it, as the first line."""
    shares = causes.get("shares") or {}
    on = split.get("on_cpu", 0.0)
    system = sum(v for k, v in shares.items() if k.startswith("kernel:") or k == "unattributed")
    kernel = f", {pct(system / on)} of it system time" if on > 0 and system > 0.005 else ""
    return (
        f"Threads doing the work spent {pct(on)} of their time on a CPU (schedstat{kernel}), "
        f"{pct(split.get('cpu_wait', 0))} waiting for one, {pct(split.get('disk_wait', 0))} "
        f"waiting on the disk, {pct(split.get('network_wait', 0))} on the network, "
        f"{pct(split.get('lock_wait', 0))} on locks, {pct(split.get('sleep', 0))} asleep; "
        f"{cores:.2f} of {cpu_count} cores used."
    )


def wake_up_queueing(left_out: float, counted: float) -> str:
    return (
        f"{pct(left_out)} of thread time was spent queued for a CPU after waking from a wait "
        "(wake-up latency: the machine was busy); the shares below leave it out, and count "
        f"the {pct(counted)} queued after preemptions as CPU."
    )


def busy_machine(left_out: float) -> str:
    return (
        f"Confidence is low: {pct(left_out)} of the run was spent queued behind other "
        "programs, so fixed costs (the interpreter's start-up) weigh more in what is left; "
        "measure again on a quieter machine."
    )


def gil(threads: int, demand: float, share: float) -> str:
    return (
        f"{threads} busy threads of one process wanted {demand:.2f} cores between them and "
        f"waited on a lock (futex) held by a running sibling {pct(share)} of the time: the GIL "
        "serialises them."
    )


def unnamed(named: float) -> str:
    return (
        f"Only {pct(named)} of thread time is in shares that name a bottleneck; the rest waits "
        "on pipes, child processes or other threads' results."
    )


def _parts(bound: str, causes: dict[str, Any], scale: float = 1.0) -> list[tuple[str, float]]:
    """The causes that make up `bound`, largest first, as (cause, share x `scale`)."""
    shares = causes.get("shares") or {}
    parts = [
        (k, v * scale) for k, v in shares.items() if k != "queued" and family_of(k, causes) == bound
    ]
    return sorted(parts, key=lambda kv: -kv[1])


def _on_cpu_fraction(bound: str, causes: dict[str, Any]) -> float:
    """Of all on-CPU time, the part that counts for `bound` (its share of preempted queueing)."""
    shares = causes.get("shares") or {}
    on = {k: v for k, v in shares.items() if is_on_cpu(k)}
    total = sum(on.values())
    return sum(v for k, v in on.items() if family_of(k, causes) == bound) / total if total else 0


def _listing(parts: list[tuple[str, float]]) -> str:
    return ", ".join(f"{pct(v)} {CAUSE_NAMES.get(k, k)}" for k, v in parts if v >= 0.005)


def of_bound(
    bound: str,
    causes: dict[str, Any],
    shares: dict[str, float],
    monitor: dict[str, Any],
    scale: float = 1.0,
    queued: float = 0.0,
) -> list[str]:
    """What the bound is made of, cause by cause; `scale` puts the causes' shares on the
    footing of the bound's (wake-up queueing left out); `queued` is the run-queue share after
    preemptions, which the cpu bound counts."""
    if bound in ("mixed", "unknown", "memory", "gil"):
        return []
    parts = _parts(bound, causes, scale)
    if queued * scale >= 0.005 and any(is_on_cpu(k) for k, _ in parts):
        parts.append(("queued", queued * scale * _on_cpu_fraction(bound, causes)))
    if bound == "lock":
        return [_lock(causes, shares, monitor)]
    if not parts:
        return []
    total = shares.get(bound, sum(v for _, v in parts))
    line = f"{bound}: {pct(total)} of thread time: {_listing(parts)}"
    if bound == "disk":
        calls = _calls(monitor, causes, ("durability", "file_data", "metadata"))
        line += f"; the calls: {calls}" if calls else ""
    if bound == "filesystem":
        line += "; no wait on the device to speak of"
    return [line + "."]


def _calls(monitor: dict[str, Any], causes: dict[str, Any], families: tuple[str, ...]) -> str:
    """The blocked samples' top syscalls, as the monitor listed them."""
    top = [name for name, _ in (monitor.get("top_syscalls") or [])]
    wanted = {
        "durability": {"fsync", "fdatasync", "sync_file_range", "syncfs", "msync"},
        "file_data": {"read", "write", "pread64", "pwrite64", "readv", "writev"},
        "metadata": {"openat", "open", "close", "mkdir", "newfstatat", "statx", "unlink"},
    }
    names = [n for n in top if any(n in wanted[f] for f in families if f in wanted)]
    return ", ".join(names[:3])


def _lock(causes: dict[str, Any], shares: dict[str, float], monitor: dict[str, Any]) -> str:
    chains = causes.get("lock_chains") or {}
    per_thread = monitor.get("thread_causes") or []
    waiting = [
        t
        for t in per_thread
        if t.get("lifetime_s") and t["causes"].get("lock", 0) >= 0.1 * t["lifetime_s"]
    ]
    who = f"{len(waiting)} of {len(per_thread)} threads" if per_thread else "Threads"
    if chains:
        holder = max(chains, key=chains.get)
        doing = {"sleep": "sleeps", "disk": "waits on the disk", "network": "waits on the network"}
        return (
            f"lock: {who} spent {pct(shares.get('lock', 0))} of thread time queued on a lock "
            f"whose holder {doing.get(holder, 'waits')} while holding it: the lock serialises "
            "them."
        )
    return f"lock: {who} spent {pct(shares.get('lock', 0))} of thread time waiting on locks."


def top_cause_of(bound: str, causes: dict[str, Any]) -> str | None:
    """For disk: "kernel:durability" when flushes dominate it (with the copies of the data they
    flushed), "device:file_data" when reads and writes that waited on the device do; else the
    bound's largest cause."""
    if bound != "disk":
        parts = _parts(bound, causes)
        return parts[0][0] if parts else None
    seconds = causes.get("seconds") or {}
    device = causes.get("device_by_family") or {}
    copies = seconds.get("kernel:file_data", 0.0)
    reads_waited = waited_on_device(causes, "file_data")
    by_family = {
        "durability": device.get("durability", 0.0)
        + seconds.get("kernel:durability", 0.0)
        + (copies if flushed(causes) and not reads_waited else 0.0),
        "file_data": device.get("file_data", 0.0) + (copies if reads_waited else 0.0),
        "metadata": device.get("metadata", 0.0)
        + (seconds.get("kernel:metadata", 0.0) if waited_on_device(causes, "metadata") else 0),
    }
    top = max(by_family, key=by_family.__getitem__)
    if by_family[top] <= 0:
        return None
    return {"durability": "kernel:durability", "file_data": "device:file_data"}.get(top)


def kernel_heavy_cpu(causes: dict[str, Any]) -> str | None:
    """The kernel's families when they are most of the cpu bound's time, else None."""
    parts = _parts("cpu", causes)
    total = sum(v for _, v in parts)
    kernel = [(k, v) for k, v in parts if k in _KERNEL_CPU]
    if total <= 0 or sum(v for _, v in kernel) < 0.5 * total:
        return None
    if causes.get("derived_from_split"):
        return "creating, opening and writing files, socket I/O"
    return ", ".join(CAUSE_NAMES[k] for k, _ in kernel)


def unseen(causes: dict[str, Any]) -> list[str]:
    """A sentence on CPU that ran in threads or children too short-lived to sample."""
    got = causes.get("unseen") or {}
    user, system = got.get("user_s", 0.0), got.get("sys_s", 0.0)
    total = user + system
    thread_time = causes.get("thread_time_s") or 0.0
    if total < UNSEEN_NOTE_S and total < 0.05 * thread_time:
        return []
    return [
        f"{total:.2f} s of CPU ({pct(system / total)} of it system time) ran in threads or "
        "child processes too short-lived to sample: counted from the processes' own totals, "
        f"the user part as python, the {system:.2f} s of system time as unattributed (its "
        "calls are unknown)."
    ]


def method(causes: dict[str, Any]) -> list[str]:
    """How the system time was given its families, when there is system time to speak of."""
    m = causes.get("method") or {}
    parts = {
        "the kernel's own samples": m.get("kernel_by_perf_s", 0.0),
        "kernel stacks": m.get("kernel_by_stack_s", 0.0),
        "the calls the threads blocked in": m.get("kernel_by_blocked_s", 0.0),
    }
    unknown = m.get("kernel_unknown_s", 0.0)
    total = sum(parts.values()) + unknown
    if total < min(0.05, 0.05 * (causes.get("thread_time_s") or 0.0)):
        return []
    how = ", ".join(f"{pct(s / total)} by {name}" for name, s in parts.items() if s > 0)
    if unknown > 0:  # no sample caught it: a run too short, or samples not to be had
        named = f"apportioned {how}, and " if how else ""
        how = f"{named}{pct(unknown / total)} left unnamed (no sample caught it)"
    else:
        how = f"apportioned {how}"
    notes = []
    if m.get("perf_problem"):
        notes.append(f"no kernel samples: {m['perf_problem']} (they need root or CAP_PERFMON)")
    if m.get("stacks_readable") is False:
        notes.append("kernel stacks are readable by root only")
    note = f" ({'; '.join(notes)})" if notes else ""
    return [f"System time is exact; its call families were {how}{note}."]


def callsite_line(
    bound: str, sites: list[dict[str, Any]], family: Callable[[str], str]
) -> str | None:
    """The call site that spends most of the bound's family, with the causes that make up its
    part: "disk: the call site output.py:88 write_item takes 96% of the sampled time; of its
    own, 96% is disk (54% waiting for the device, 42% the kernel's flush on a CPU)".
    `family` names the family a cause counts for, as in the verdict."""
    scored = [(s["share"] * s["families"].get(bound, 0.0), s) for s in sites if s.get("families")]
    if not scored:
        return None
    weight, site = max(scored, key=lambda pair: pair[0])
    if weight < 0.05:
        return None
    own = (site["wall_s"] - site.get("queued_s", 0.0)) or 1.0
    parts = ", ".join(
        f"{pct(s / own)} {CAUSE_NAMES.get(c, c)}"
        for c, s in site["causes"].items()
        if c != "queued" and family(c) == bound and s / own >= 0.02
    )
    return (
        f"{bound}: the call site {site['where']} takes {pct(site['share'])} of the sampled "
        f"time; of its own (not queued for a CPU), {pct(site['families'].get(bound, 0.0))} is "
        f"{bound} ({parts})."
    )
