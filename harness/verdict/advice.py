"""What to do about a bound: advice that follows the cause, not only the resource.

"mixed: cpu 43%" for a loop that only waits on fsync led to advice (a faster encoder, more
processes) that cannot help; the cause (the kernel flushing for fsync) says to fsync less.
"""

from __future__ import annotations

ADVICE = {
    "cpu": "CPU-bound: profile the hot frames; a faster parser/encoder (orjson) or processes "
    "(one per core) raise throughput; threads and asyncio will not.",
    "gil": "GIL-bound: threads take turns on one core; use processes (ProcessPoolExecutor) or "
    "libraries that release the GIL.",
    "disk": "Disk-bound: write fewer, larger files, fsync per batch or at the end instead of per "
    "item, or move output to faster storage.",
    "filesystem": "Filesystem-bound: the kernel's work per file (create, open, close, directory "
    "entries) and per copy into the page cache dominates, not the bytes: write fewer, larger "
    "files (a collection or batched layout), avoid a directory per item, write in larger "
    "blocks; a faster encoder or more processes will not help.",
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
DURABILITY = (
    "Disk-bound by fsync: each flush waits for the device to confirm it, and the kernel's CPU "
    "in fsync is part of that flush. Flush per batch or at the end instead of per item (a "
    "checkpoint bounds what a crash then loses), or use storage with a faster flush (NVMe with "
    "power-loss protection); a faster encoder or more processes will not help."
)
READS = (
    "Disk-bound reading: the data comes from the device, not the page cache. Read sequentially "
    "in larger blocks, read ahead (posix_fadvise WILLNEED, or a reader thread), keep the "
    "working set cached, or use faster storage; parsing faster will not help."
)
LOCK_CHAIN = (
    "Lock-bound: threads queue on a lock whose holder {holder} while holding it, so the lock "
    "serialises them. Do not sleep or do I/O while holding a lock: release it first, shorten "
    "the critical section, or shard the lock."
)
KERNEL_CPU = (
    "CPU-bound in the kernel: the time goes to system calls ({families}), not Python; fewer, "
    "larger calls cut it, a faster Python encoder will not."
)
HOLDER = {
    "sleep": "sleeps",
    "disk": "waits on the disk",
    "network": "waits on the network",
    "ipc": "waits on another process",
    "child_wait": "waits on a child process",
}


def for_bound(bound: str, top_cause: str | None, holder: str | None) -> str:
    """The advice for `bound`, made specific by its largest cause where that says more."""
    if bound == "disk" and top_cause == "kernel:durability":
        return DURABILITY
    if bound == "disk" and top_cause == "device:file_data":
        return READS
    if bound == "lock" and holder:
        return LOCK_CHAIN.format(holder=HOLDER.get(holder, "waits"))
    return ADVICE.get(bound, "")
