"""The sampling loop: reads the counters and blocked states of every thread in the tree.

Every pass (100 Hz by default) reads each thread's syscall file: "running" when the thread is
runnable (state R), else the syscall it waits in and its arguments. A running thread's
schedstat is read too, and, where the kernel lets us (root), now and then its kernel stack,
which names the system call its system time serves (families.py); a blocked one is classified
(blocked.py, classify.py) and its schedstat read only every SCHED_EVERY visits (a blocked
thread's counters hardly move). Its stat, for the state letter, is read only when the syscall
does not classify the sample. Slower things run every SLOW_REFRESH_S: process stat (CPU ticks,
RSS, thread count), threads' user/system ticks, I/O counters, context switches, the live
snapshot (snapshot.py), and the search for new processes (population.py: it lists /proc only
when something forked). Every file read per pass is kept open and re-read with pread.

Cost shapes this: at 100 Hz each pass starts with cold caches, and a pass costs tens of
microseconds per thread. So a pass samples at most THREADS_PER_PASS threads (a rotating slice
of each process when there are more), and the slow pass reads the user/system ticks and context
switches of a bounded number of threads, those that ran since their last read first: a program
of 256 threads costs what one of 32 does, each thread being sampled less often. Exact counters
are all read again at the last pass, so only the apportioning of waits is sampled.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections import deque
from pathlib import Path

from harness.monitor import families, procfs
from harness.monitor.blocked import BlockedSamples, note_lock_context
from harness.monitor.classify import LOCK
from harness.monitor.perfsample import KernelSampler, KernelSymbols
from harness.monitor.population import Population, read_io, read_times, thread_gone
from harness.monitor.records import ProcessRecord, ThreadRecord
from harness.monitor.snapshot import Snapshot

SLOW_REFRESH_S = 0.1  # process stat, I/O, context switches, new processes, the snapshot
SCHED_EVERY = 5  # visits between schedstat reads of a thread that stays blocked
THREADS_PER_PASS = 12  # threads sampled per pass; more threads are sampled in turns
STACKS_PER_PASS = 4  # kernel stacks of running threads read per pass
TIMES_PER_SLOW = 16  # threads whose user/system ticks a slow pass reads
CTX_PER_SLOW = 8  # threads whose context switches a slow pass reads
THREAD_RESCAN_EVERY = 5  # slow refreshes between listings of a process's threads
MAX_ERRORS = 5


def _window(items: list[ThreadRecord], start: int, count: int) -> list[ThreadRecord]:
    """`count` of `items` from `start` (modulo their number), wrapping round."""
    if not items:
        return []
    start %= len(items)
    end = start + count
    return items[start:end] + items[: max(0, end - len(items))]


def _fd_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, min(1024, soft // 4))


def use_perf() -> bool:
    """Whether to sample the kernel with perf events (PIPEPROF_PERF=0 turns it off)."""
    return os.environ.get("PIPEPROF_PERF", "1") != "0"


def cache_dir() -> Path:
    """Where the monitor keeps what outlives a run (the kernel's symbols for this boot)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "pipeprof"


def _stacks_readable() -> bool:
    """Whether this process may read kernel stacks (root, or CAP_SYS_ADMIN): tried on itself."""
    return procfs.read_bytes(f"/proc/self/task/{threading.get_native_id()}/stack") is not None


def _delayacct_enabled() -> bool:
    text = procfs.read_text("/proc/sys/kernel/task_delayacct")
    return text is None or text.strip() == "1"


class Sampler:
    """Samples one process tree; owns, through its population (population.py) and its blocked
    samples (blocked.py), every /proc handle and all accumulated records."""

    def __init__(
        self,
        root_pid: int,
        interval_s: float,
        exclude_names: frozenset[str],
        own_pid: int,
        exclude_root: bool = False,
    ) -> None:
        self.root_pid = root_pid
        self.interval_s = interval_s
        budget = procfs.FdBudget(_fd_limit())
        self.delayacct = _delayacct_enabled()
        self.blocked = BlockedSamples(budget)
        self.population = Population(
            root_pid, exclude_names, own_pid, exclude_root, budget, self.blocked.fds, self.delayacct
        )
        # pids another thread hands over (deque appends and pops are atomic)
        self.adopted: deque[int] = deque()
        self.stacks = _stacks_readable()
        self.stacks_read = 0
        self._stack_budget = 0
        self.kernel_sampler: KernelSampler | None = None
        self.window_end = 0.0
        self.samples = 0
        self._slow_passes = 0
        self._next_slow = 0.0
        self.peak_tree_rss_pages = 0
        self.errors: list[str] = []
        self.snapshot = Snapshot()

    # -- window -----------------------------------------------------------------------------
    def begin(self) -> None:
        """Open the window: take the baselines of everything alive now."""
        self.kernel_sampler = KernelSampler() if use_perf() else None
        now = procfs.boottime()
        if not self.population.begin(now):
            self._note_error(f"process {self.root_pid} was not there when monitoring began")
        self._slow_pass(now, full=False)

    def run(self, stop: threading.Event) -> None:
        """Sample every interval_s until `stop` is set; never raises."""
        next_t = time.monotonic()
        while not stop.is_set():
            next_t += self.interval_s
            delay = next_t - time.monotonic()
            if delay < 0:  # fell behind (a slow pass, or we were descheduled): don't catch up
                next_t = time.monotonic()
            else:
                # time.sleep, not stop.wait(): Event.wait costs ~30 us a call here, 0.3% of a
                # core at 100 Hz; stopping waits at most one interval instead.
                time.sleep(delay)
            if stop.is_set():
                return
            try:
                self.sample(procfs.boottime())
            except Exception as exc:
                self._note_error(f"sample failed: {exc!r}")

    def finish(self) -> None:
        """Close the window: a last full read of everything alive, then release all handles."""
        now = procfs.boottime()
        try:
            self.sample(now, full=True)
            # The pass above read schedstat after the ticks: read the ticks again.
            for proc in self.population.live.values():
                for th in proc.threads.values():
                    if th.on_ns != th.on_ns_at_times:
                        read_times(th)
        except Exception as exc:
            self._note_error(f"final sample failed: {exc!r}")
        self.window_end = now
        self._name_chains()
        self.population.close()
        self.blocked.close()

    def _name_chains(self) -> None:
        """Drain the kernel samples one last time, close them, and give each thread's chains
        their families (the kernel's symbols are read now, not while the program runs)."""
        ks = self.kernel_sampler
        if ks is None or not ks.active:
            return
        ks.drain(self.population.chains)
        ks.close()
        symbols = KernelSymbols.load(cache_dir())
        if symbols is None:
            ks.problem = "kernel addresses are hidden (/proc/kallsyms): run as root"
            return
        names: dict[int, str | None] = {}

        def name_of(ip: int) -> str | None:
            if ip not in names:
                names[ip] = symbols.name(ip)
            return names[ip]

        for proc in self.population.procs:
            for th in proc.all_threads():
                for chain, n in th.kchains.items():
                    family = families.chain_family([name_of(ip) for ip in chain])
                    th.perf[family or "user"] += n
                th.kchains.clear()

    # -- one pass ---------------------------------------------------------------------------
    def sample(self, now: float, full: bool = False) -> None:
        """One pass over the tree; `full` reads every counter (used for the final pass)."""
        self.samples += 1
        if full or now >= self._next_slow:
            self._slow_pass(now, full)
        live = [p for p in self.population.live.values() if not (p.excluded or p.zombie)]
        total = sum(len(p.threads) for p in live)
        # Kernel stacks only where the kernel's own samples are not to be had: they say less.
        perf_on = self.kernel_sampler is not None and self.kernel_sampler.active
        self._stack_budget = STACKS_PER_PASS if self.stacks and not perf_on else 0
        for proc in live:
            everyone = full or total <= THREADS_PER_PASS
            chosen = list(proc.threads.values())
            if not everyone and chosen:
                share = max(1, THREADS_PER_PASS * len(chosen) // total)
                chosen = _window(chosen, proc.rotation, share)
                proc.rotation += share
            self._sample_threads(proc, now, full, chosen, everyone)

    def _sample_threads(
        self,
        proc: ProcessRecord,
        now: float,
        full: bool,
        chosen: list[ThreadRecord] | None = None,
        everyone: bool = True,
    ) -> None:
        # The hot loop. A thread's syscall file reads "running" when it is runnable, else the
        # syscall it waits in: one pread classifies most blocked samples. A running thread
        # costs a second pread, its schedstat. stat (for the state letter) is read only when
        # the syscall does not say enough (see BlockedSamples.add).
        add_blocked = self.blocked.add
        running_any = False
        waits: list[tuple[ThreadRecord, str, bytes]] = []
        for th in list(proc.threads.values()) if chosen is None else chosen:
            raw = th.syscall.read()
            if raw is None:
                thread_gone(proc, th)
                continue
            th.last_seen = now
            running = raw.startswith(b"running")
            if running != th.last_running:
                proc.running += 1 if running else -1
                th.last_running = running
            # Exact counters decide on-CPU time; states only apportion the time off CPU.
            # Sampled states alone mislead: a loop of small writes + fsync that is 30-50% on
            # CPU by schedstat shows state R in ~80% of samples here.
            th.visits += 1
            if running or full or th.visits % SCHED_EVERY == 0:
                sraw = th.sched.read()
                if sraw is None:
                    thread_gone(proc, th)
                    continue
                th.on_ns, th.wait_ns, th.slices = procfs.parse_schedstat(sraw)
                if self.delayacct and (full or not running):
                    st_raw = th.stat.read()
                    if st_raw is not None:
                        th.blkio = procfs.parse_stat(st_raw).delayacct_blkio_ticks
            if running:
                running_any = True
                if self._stack_budget > 0:
                    self._read_stack(proc, th)
            else:
                category = add_blocked(proc, th, raw, now)
                if category is not None:
                    waits.append((th, category, raw))
        if any(category == LOCK for _, category, _ in waits):
            note_lock_context(proc, waits, running_any, everyone)

    def _read_stack(self, proc: ProcessRecord, th: ThreadRecord) -> None:
        """Count the family its kernel stack serves (None: it was in user mode)."""
        self._stack_budget -= 1
        raw = procfs.read_bytes(f"/proc/{proc.pid}/task/{th.tid}/stack")
        if raw is None:
            return
        self.stacks_read += 1
        family = families.stack_family(raw)
        if family is not None:
            th.kernel[family] += 1

    # -- the slow pass ----------------------------------------------------------------------
    def _slow_pass(self, now: float, full: bool) -> None:
        pop = self.population
        self._next_slow = now + SLOW_REFRESH_S
        self._slow_passes += 1
        if self.kernel_sampler is not None and self.kernel_sampler.active:
            self.kernel_sampler.drain(pop.chains)
        while self.adopted:  # handed over by another thread (Monitor.adopt)
            pop.adopt(self.adopted.popleft(), now)
        pop.search(now, full, SLOW_REFRESH_S)
        rescan = full or self._slow_passes % THREAD_RESCAN_EVERY == 0
        rss_pages = 0
        times_budget, ctx_budget = TIMES_PER_SLOW, CTX_PER_SLOW
        for proc in list(pop.live.values()):
            if not pop.read_process(proc, now, rescan) or proc.excluded:
                continue
            rss_pages += proc.rss_pages
            hwm = procfs.read_hwm_pages(proc.pid)
            if hwm is not None:
                proc.peak_rss_pages = max(proc.peak_rss_pages, hwm)
            read_io(proc, now)
            threads = list(proc.threads.values())
            for i, th in enumerate(_window(threads, proc.slow_cursor, len(threads))):
                if not full and times_budget <= 0 and ctx_budget <= 0:
                    proc.slow_cursor += i  # the next slow pass goes on from here
                    break
                # Only threads that ran since the last read have new ticks or switches.
                if th.on_ns != th.on_ns_at_times and (full or times_budget > 0):
                    times_budget -= read_times(th)
                if th.slices != th.slices_at_status and (full or ctx_budget > 0):
                    ctx_budget -= 1
                    ctx = procfs.read_ctx_switches(proc.pid, th.tid)
                    if ctx is not None:
                        th.vcsw, th.ivcsw = ctx
                        th.slices_at_status = th.slices
        self.peak_tree_rss_pages = max(self.peak_tree_rss_pages, rss_pages)
        self.snapshot.update(pop, now, rss_pages)

    def _note_error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)
