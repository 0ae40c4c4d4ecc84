"""From causes to the bounds a verdict can name: which family each cause's time belongs to.

A bound is a family of causes, counting the CPU the kernel spends for it: `disk` is waiting on
the device plus the kernel's work in fsync and in file reads and writes that waited on the
device; `filesystem` is the kernel's work on metadata (create, open, close, directories) and
page-cache copies with no wait on the device (the plan's "does filesystem metadata cause
bottlenecks?"); `cpu` is user-mode CPU, with the kernel's work for memory and processes that
only less of that work cuts. Kernel CPU inside fsync is the disk's time: counted as cpu, a
loop that only ever waits on fsync was "mixed" on days when the flush cost more CPU.
"""

from __future__ import annotations

from typing import Any

FAMILIES: tuple[str, ...] = (
    "cpu",
    "gil",
    "disk",
    "filesystem",
    "network",
    "lock",
    "sleep",
    "other",
)
# A family of calls "waited on the device" when its device waits are at least this share of
# its kernel CPU plus those waits: a cold read (device 57-70%, kernel 30-43% of its time) is
# disk; creating files whose only device waits are the odd inode read (2-4% against 50%
# kernel CPU) is filesystem.
WAITED_SHARE = 0.2
_CAUSE_FAMILY = {
    "python": "cpu",
    "native": "cpu",
    "kernel:memory": "cpu",
    "kernel:processes": "cpu",
    "kernel:other": "cpu",
    "unattributed": "cpu",
    "device": "disk",
    "kernel:durability": "disk",
    "network": "network",
    "kernel:network": "network",
    "gil": "gil",
    "lock": "lock",
    "sleep": "sleep",
    "child": "other",
    "other": "other",
}
# Families of calls whose kernel CPU is the disk's when they waited on it, else the
# filesystem's.
_FS_OR_DISK = ("file_data", "metadata")


def waited_on_device(causes: dict[str, Any], family: str) -> bool:
    """Whether `family`'s calls waited on the device (see WAITED_SHARE)."""
    device = (causes.get("device_by_family") or {}).get(family, 0.0)
    kernel = (causes.get("seconds") or {}).get("kernel:" + family, 0.0)
    return device > 0 and device >= WAITED_SHARE * (kernel + device)


def family_of(cause: str, causes: dict[str, Any]) -> str:
    """The bound family a cause's time counts for."""
    for fam in _FS_OR_DISK:
        if cause == "kernel:" + fam:
            return "disk" if waited_on_device(causes, fam) else "filesystem"
    return _CAUSE_FAMILY.get(cause, "other")


def family_shares(
    causes: dict[str, Any], queued_counted: float, queued_left_out: float
) -> dict[str, float]:
    """Shares of thread time by family. Run-queue wait after preemptions is CPU demand: it
    counts for the families the CPU time went to, in their proportions (a thread preempted in
    the kernel's page-cache copies wants to go on copying); after wake-ups it is left out and
    the rest scaled up to fill its place (see rules.Queueing)."""
    out = dict.fromkeys(FAMILIES, 0.0)
    shares = causes.get("shares") or {}
    on_cpu = {k: v for k, v in shares.items() if is_on_cpu(k)}
    total_on = sum(on_cpu.values())
    for cause, share in shares.items():
        if cause == "queued":
            continue
        extra = queued_counted * share / total_on if cause in on_cpu and total_on > 0 else 0.0
        out[family_of(cause, causes)] += share + extra
    if total_on <= 0:
        out["cpu"] += queued_counted
    rest = 1.0 - queued_left_out
    return {k: v / rest for k, v in out.items()} if rest > 0 else out


def is_on_cpu(cause: str) -> bool:
    """Whether a cause is time on a CPU (user or kernel), as opposed to a wait."""
    return cause in ("python", "native", "unattributed") or cause.startswith("kernel:")


def causes_from_split(monitor: dict[str, Any]) -> dict[str, Any]:
    """Causes as far as a monitor report without them (an older summary) tells: on-CPU time is
    user or kernel by the tree's user/system ticks, with the kernel's family unknown."""
    split = monitor.get("split") or {}
    total = monitor.get("thread_time_s") or 0.0
    cpu = monitor.get("cpu") or {}
    user, system = cpu.get("user_s"), cpu.get("sys_s")
    sys_frac = system / (user + system) if user is not None and system and user + system else 0.0
    on = split.get("on_cpu", 0.0)
    lock = split.get("lock_wait", 0.0)
    contended = (monitor.get("lock_detail") or {}).get("contended_share")
    contended = lock if contended is None else min(contended, lock)
    shares = {
        "python": on * (1 - sys_frac),
        "kernel:other": on * sys_frac,
        "queued": split.get("cpu_wait", 0.0),
        "device": split.get("disk_wait", 0.0),
        "network": split.get("network_wait", 0.0),
        "gil": contended,
        "sleep": split.get("sleep", 0.0),
        "other": split.get("other", 0.0) + lock - contended,
    }
    return {
        "thread_time_s": total,
        "seconds": {k: v * total for k, v in shares.items() if v > 0},
        "shares": {k: v for k, v in shares.items() if v > 0},
        "derived_from_split": True,
    }
