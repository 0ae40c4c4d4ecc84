"""The calibration cases and what the harness should find for each: the truth it is held to.

`cpu` is the expected share of the verdict's cpu family in the working threads' time: CPU in
user mode (and the kernel's work for memory and processes), or queued for a CPU after a
preemption (see `harness.verdict.Queueing`); the kernel's CPU inside fsync, reads, writes and
file creation counts for disk or filesystem, not here. Where `cpu_tolerance` is set the share
is known by construction and checked; elsewhere `cpu` is what the reference machine measured,
shown for comparison only.
`min_cores` is what an otherwise idle machine with two cores reaches; it is checked only when the
neighbours left those cores free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FAST_SECONDS = 1.5


@dataclass(frozen=True)
class Case:
    """One ground-truth script and the figures the harness must find for it."""

    name: str
    description: str
    bound: str | None
    cpu: float | None = None
    cpu_tolerance: float | None = None
    peak_rss_mb: float | None = None
    memory_tolerance: float = 0.10
    min_cores: float | None = None
    hint: str = ""
    fast: bool = False

    @property
    def script(self) -> Path:
        return HERE / f"{self.name}.py"

    def args(self, seconds: float | None = None) -> list[str]:
        """Script arguments: `--seconds S` when a length other than the default is wanted."""
        return [] if seconds is None else ["--seconds", f"{seconds:g}"]


CASES: dict[str, Case] = {
    c.name: c
    for c in (
        Case(
            "cpu_loop",
            "pure-Python loop in one thread",
            "cpu",
            cpu=1.0,
            cpu_tolerance=0.10,
            hint="one core at most",
            fast=True,
        ),
        Case(
            "fsync_small",
            "100-byte appends, each followed by os.fsync",
            "disk",
            cpu=0.05,
            hint="waiting for the device, and the kernel's flush on a CPU (30-50% of the time "
            "on a CPU here, nearly all of it in fsync); Python's own share small",
            fast=True,
        ),
        Case(
            "fsync_large",
            "4 MB overwrites, each followed by os.fsync",
            "disk",
            cpu=0.05,
            hint="device waits largest; the copy of each 4 MB into the page cache is the "
            "filesystem's (about a quarter)",
        ),
        Case(
            "slow_http",
            "sequential GETs to a loopback server answering in 200 ms",
            "network",
            cpu=0.02,
            cpu_tolerance=0.10,
            hint="network_wait almost all; the server is outside the monitored tree",
        ),
        Case(
            "gil_threads",
            "four threads of pure-Python work",
            "gil",
            cpu=0.25,
            hint="one thread at a time: ~1/4 on CPU, the rest lock_wait (the GIL)",
        ),
        Case(
            "process_pool",
            "a pool of two CPU-bound worker processes",
            "cpu",
            cpu=1.0,
            min_cores=1.5,
            hint="the parent only waits (parked)",
        ),
        Case(
            "mix_25_75",
            "compute 25%, sleep 75% of every 20 ms",
            "sleep",
            cpu=0.25,
            cpu_tolerance=0.10,
            hint="sleep 0.75 dominates (>= 0.5 and 3x the CPU share)",
        ),
        Case(
            "mix_50_50",
            "compute 50%, sleep 50% of every 20 ms",
            "mixed",
            cpu=0.50,
            cpu_tolerance=0.10,
            hint="neither share reaches 1.5x the other",
            fast=True,
        ),
        Case(
            "mix_75_25",
            "compute 75%, sleep 25% of every 20 ms",
            "cpu",
            cpu=0.75,
            cpu_tolerance=0.10,
            hint="CPU 0.75 dominates (>= 0.5 and 3x the sleep share)",
        ),
        Case(
            "asyncio_waits",
            "rounds of 1000 concurrent asyncio.sleep(0.1) tasks",
            "sleep",
            cpu=0.15,
            hint="the loop waits in epoll_wait on its own wake-up socket, with a timeout",
        ),
        Case(
            "memory_peak",
            "holds a 600 MB bytearray, every page written",
            None,
            cpu=0.15,
            peak_rss_mb=600.0,
            hint="the check is peak RSS; holding is sleeping, but a tool's start-up CPU can "
            "make it mixed",
        ),
        Case(
            "sqlite_commits",
            "SQLite committing each row, synchronous=FULL",
            "disk",
            cpu=0.08,
            hint="fdatasync of journal and database per row; the flush's kernel CPU is disk",
        ),
        Case(
            "cold_read",
            "sequential 1 MB reads of a 64 MB file whose pages were dropped",
            "disk",
            cpu=0.02,
            hint="device waits in read(); the kernel's copy of those reads is the disk's",
        ),
        Case(
            "small_files",
            "300-byte files created in one directory, no fsync",
            "filesystem",
            cpu=0.10,
            hint="system time in openat/close/write with no device wait: metadata work",
        ),
        Case(
            "large_writes",
            "4 MB buffered writes, truncated every 128 MB, no fsync",
            "filesystem",
            cpu=0.05,
            hint="the kernel's copies into the page cache; nothing waits on the device",
        ),
        Case(
            "lock_chain",
            "four threads taking turns on a lock held across a 2 ms sleep",
            "lock",
            cpu=0.05,
            hint="three wait on the lock while its holder sleeps: a chain, not sleep",
        ),
        Case(
            "short_threads",
            "thousands of threads, each started, run for ~0.1 ms and joined",
            "cpu",
            cpu=0.55,
            hint="most CPU only the process's totals hold: unseen, yet accounted for",
        ),
        Case(
            "c_ext_threads",
            "four threads of hashlib.sha256 on 8 MB buffers (releases the GIL)",
            "cpu",
            cpu=1.0,
            min_cores=1.5,
            hint="not gil: threads run in parallel, queued for a core, not for the GIL",
        ),
    )
}


def get(name: str) -> Case:
    """The case called `name`; KeyError if there is none."""
    return CASES[name]
