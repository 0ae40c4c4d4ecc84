"""The sampling loop: reads the counters and blocked states of every thread in the tree.

Every pass (100 Hz by default) reads each thread's syscall file: "running" when the thread is
runnable (state R), else the syscall it waits in and its arguments. A running thread's
schedstat is read too, and, where the kernel lets us (root), now and then its kernel stack,
which names the system call its system time serves (families.py); a blocked one is classified
(classify.py) and its schedstat read only every SCHED_EVERY visits (a blocked thread's counters
hardly move). Its stat, for the state letter, is read only when the syscall does not classify
the sample. Slower things run every SLOW_REFRESH_S: process stat (CPU ticks, RSS, thread
count), threads' user/system ticks, I/O counters, context switches, the live snapshot, and the
search for new processes (which lists /proc only when something forked). Every file read per
pass is kept open and re-read with pread.

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
from collections import Counter, deque
from pathlib import Path

from harness.monitor import families, procfs
from harness.monitor.classify import (
    IDLE_WAITS,
    LOCK,
    OTHER,
    RESTART,
    STOPPED,
    classify,
    depends_on_fds,
    restarted_call,
    syscall_names,
    waits_on_arg0_fd,
)
from harness.monitor.fds import EPOLL_TTL_S, FdResolver
from harness.monitor.perfsample import KernelSampler, KernelSymbols
from harness.monitor.records import ProcessRecord, ThreadRecord
from harness.monitor.tree import TreeScanner

SLOW_REFRESH_S = 0.1  # process stat, I/O, context switches, new processes, the snapshot
SCHED_EVERY = 5  # visits between schedstat reads of a thread that stays blocked
THREADS_PER_PASS = 32  # threads sampled per pass; more threads are sampled in turns
STACKS_PER_PASS = 4  # kernel stacks of running threads read per pass
TIMES_PER_SLOW = 32  # threads whose user/system ticks a slow pass reads
CTX_PER_SLOW = 8  # threads whose context switches a slow pass reads
SCAN_GAP_MAX_S = 0.8  # longest wait between /proc scans while the host forks and we do not
THREAD_RESCAN_EVERY = 5  # slow refreshes between listings of a process's threads
SNAPSHOT_SPAN_S = 1.0  # "cores used recently" looks back this far
MAX_ERRORS = 5
COMM_LEN = 15  # the kernel truncates comm to 15 characters
_GONE = ("Z", "X")
# A memo's fd slot when no fd decided: the syscall name did (any line with its number will do),
# or a waited set did (the same line will do, until a time).
_ANY = -1
_UNTIL = -2


def _rotated(items: list[ThreadRecord], offset: int) -> list[ThreadRecord]:
    """`items` starting at `offset` (modulo its length), wrapping round."""
    start = offset % len(items) if items else 0
    return items[start:] + items[:start]


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
    """Samples one process tree; owns every /proc handle and all accumulated records."""

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
        self._exclude = frozenset(n[:COMM_LEN] for n in exclude_names)
        self._own_pid = own_pid
        self._exclude_root = exclude_root
        self._budget = procfs.FdBudget(_fd_limit())
        self.fds = FdResolver(self._budget)
        self._tree = TreeScanner(root_pid)
        self._names = syscall_names()
        self.delayacct = _delayacct_enabled()
        self.stacks = _stacks_readable()
        self.stacks_read = 0
        self._stack_budget = 0
        self.kernel_sampler: KernelSampler | None = None
        self._chains: dict[int, Counter[tuple[int, ...]]] = {}  # tid -> its perf chains
        self.procs: list[ProcessRecord] = []  # every process seen, excluded ones too
        self._live: dict[int, ProcessRecord] = {}
        self.window_start = 0.0
        self.window_end = 0.0
        self._start_tick = 0
        self.samples = 0
        self._slow_passes = 0
        self._next_slow = 0.0
        self.threads_seen = 0
        self.peak_tree_rss_pages = 0
        self.syscalls: Counter[str] = Counter()
        self.wchans: Counter[str] = Counter()
        self.errors: list[str] = []
        self._loadavg = procfs.ProcFile("/proc/loadavg", self._budget)
        self._last_pid = b""
        self._scan_again = False
        self._fork_pending = False
        self._next_scan = 0.0
        self._scan_gap = 0.0
        self._history: deque[tuple[float, int]] = deque()
        self._gone_ticks = 0  # CPU ticks of counted processes no longer alive
        self.snapshot: dict[str, float | int] = {
            "elapsed_s": 0.0,
            "cores": 0.0,
            "rss_mb": 0.0,
            "threads": 0,
            "processes": 0,
        }

    # -- window -----------------------------------------------------------------------------
    def begin(self) -> None:
        """Open the window: take the baselines of everything alive now."""
        self.kernel_sampler = KernelSampler() if use_perf() else None
        now = procfs.boottime()
        self.window_start = now
        self._start_tick = int(now * procfs.CLK_TCK)
        self._add_process(self.root_pid, now, initial=True)
        if not self._live:
            self._note_error(f"process {self.root_pid} was not there when monitoring began")
        self._forked_since_scan()
        for pid in self._tree.scan():
            self._add_process(pid, now, initial=True)
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
            for proc in self._live.values():  # the pass above read schedstat after the ticks
                for th in proc.threads.values():
                    if th.on_ns != th.on_ns_at_times:
                        self._read_times(th)
        except Exception as exc:
            self._note_error(f"final sample failed: {exc!r}")
        self.window_end = now
        self._name_chains()
        for proc in list(self._live.values()):
            self._end_threads(proc)
            proc.close()
        self._live.clear()
        self.fds.close()
        self._loadavg.close()

    def _name_chains(self) -> None:
        """Drain the kernel samples one last time, close them, and give each thread's chains
        their families (the kernel's symbols are read now, not while the program runs)."""
        ks = self.kernel_sampler
        if ks is None or not ks.active:
            return
        ks.drain(self._chains)
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

        for proc in self.procs:
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
        live = [p for p in self._live.values() if not (p.excluded or p.zombie)]
        total = sum(len(p.threads) for p in live)
        # Kernel stacks only where the kernel's own samples are not to be had: they say less.
        perf_on = self.kernel_sampler is not None and self.kernel_sampler.active
        self._stack_budget = STACKS_PER_PASS if self.stacks and not perf_on else 0
        for proc in live:
            everyone = full or total <= THREADS_PER_PASS
            chosen = list(proc.threads.values())
            if not everyone and chosen:
                share = max(1, THREADS_PER_PASS * len(chosen) // total)
                chosen = _rotated(chosen, proc.rotation)[:share]
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
        # the syscall does not say enough (see _classify_blocked).
        running_any = False
        waits: list[tuple[ThreadRecord, str, bytes]] = []
        for th in list(proc.threads.values()) if chosen is None else chosen:
            raw = th.syscall.read()
            if raw is None:
                self._thread_gone(proc, th)
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
                    self._thread_gone(proc, th)
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
                category = self._classify_blocked(proc, th, raw, now)
                if category is not None:
                    waits.append((th, category, raw))
        if any(category == LOCK for _, category, _ in waits):
            self._note_lock_context(proc, waits, running_any, everyone)

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

    @staticmethod
    def _note_lock_context(
        proc: ProcessRecord,
        waits: list[tuple[ThreadRecord, str, bytes]],
        running_any: bool,
        everyone: bool,
    ) -> None:
        """For each futex wait, keep its word (the syscall's first argument) and what the rest
        of the process did meanwhile: "running" when a sibling ran; else what the siblings
        waited in, marked "chain:" when two or more threads waited on that word at once.

        report.py tells from these what the wait was: contention for a lock held by a running
        thread (in CPython, mostly the GIL), a chain (threads queued on a lock whose holder
        sleeps or waits on the disk while holding it), or a hand-off (one thread waiting for
        another's result: a consumer blocked on a queue that an event-loop thread fills from
        the network waits, in effect, on the network; an idle pool worker waits on the one that
        works). Siblings not sampled in this pass count with their last sample.
        """
        # proc.running counts threads whose last sample ran; none of this pass's waiters do.
        running = running_any or (not everyone and proc.running > 0)
        context = "running"
        if not running:
            fresh = {th.tid for th, _, _ in waits}
            others = Counter(c for _, c, _ in waits if c not in (LOCK, STOPPED, OTHER))
            if not everyone:
                others.update(
                    t.last_category
                    for t in proc.threads.values()
                    if t.tid not in fresh and t.last_category not in (None, LOCK, STOPPED, OTHER)
                )
            context = others.most_common(1)[0][0] if others else ""
        words = [
            (th, parts[1] if len(parts := raw.split(b" ", 2)) > 1 else b"?")
            for th, category, raw in waits
            if category == LOCK
        ]
        queued = Counter(word for _, word in words)
        for th, word in words:
            if context != "running" and queued[word] > 1:
                th.lock_ctx[(word, "chain:" + context)] += 1
            else:
                th.lock_ctx[(word, context)] += 1

    def _classify_blocked(
        self, proc: ProcessRecord, th: ThreadRecord, raw: bytes, now: float
    ) -> str | None:
        memo = th.memo
        if (
            memo is not None
            and raw.startswith(memo[0])
            and (memo[3] == -1 or self._memo_holds(proc.pid, memo, now))  # -1: _ANY
        ):
            category, label, family = memo[1], memo[2], memo[6]
        else:
            try:
                info = procfs.parse_syscall(raw)
            except ValueError:
                return None
            if info is None:
                return None
            name = self._names.get(info.nr) if info.nr >= 0 else None
            label = name or ("none" if info.nr < 0 else f"syscall_{info.nr}")
            state = "S"
            if name == RESTART:
                # A timed wait resumed after a stop (a profiler's ptrace, SIGSTOP): it is still
                # the wait its previous sample saw, most likely. A thread whose wait began
                # under a profiler may never be seen in it: then where it sleeps says.
                category = th.last_category or self._restarted(proc, th, info)
            else:
                category = classify(state, name, info, proc.pid, self.fds)
            if category == OTHER:
                # The syscall does not say: the state may (D: storage, T/t: stopped, Z: gone).
                # A thread stopped while in a syscall that does classify keeps that category.
                sraw = th.stat.read()
                try:
                    state = procfs.stat_state(sraw) if sraw else "Z"
                except (ValueError, IndexError):
                    state = "S"
                if state in _GONE:
                    self._thread_gone(proc, th)
                    return None
                if state != "S":
                    category = classify(state, name, info, proc.pid, self.fds)
                if category == OTHER:
                    self.wchans[self._wchan(proc.pid, th.tid) or "?"] += 1
            if category != STOPPED and (name != RESTART or category != OTHER):
                th.last_category = category
            if th.idle_from_ns < 0 and category in IDLE_WAITS:
                self._mark_idle(th, now)
            # Blocked outside any syscall (nr -1) is a page fault: in state D, a major one.
            family = families.MEMORY if info.nr < 0 else families.family_of(name, category)
            th.memo = self._memo(proc.pid, raw, info, name, state, category, label, family, now)
        th.counts[category] += 1
        th.families[(category, family)] += 1
        th.blocked += 1
        self.syscalls[label] += 1
        return category

    def _mark_idle(self, th: ThreadRecord, now: float) -> None:
        """Its first wait on another thread or process (a memo only repeats categories first
        found here): keep when, and its CPU time then, read now to be exact, so that start-up
        work does not keep it from parking."""
        sraw = th.sched.read()
        if sraw is not None:
            th.on_ns, th.wait_ns, th.slices = procfs.parse_schedstat(sraw)
        th.idle_since = now
        th.idle_from_ns = th.on_ns

    def _memo_holds(
        self, pid: int, memo: tuple[bytes, str, str, int, str | None, float, str], now: float
    ) -> bool:
        """Whether a memo that depends on an fd, or on a waited set, still holds."""
        if memo[3] == _UNTIL:
            return now < memo[5]
        return self.fds.fd_kind(pid, memo[3]) == memo[4]

    def _restarted(self, proc: ProcessRecord, th: ThreadRecord, info: procfs.SyscallInfo) -> str:
        """The category of a restart_syscall sample from the call it resumes (with that call's
        arguments, which the line still shows), or OTHER."""
        name = restarted_call(self._wchan(proc.pid, th.tid))
        return classify("S", name, info, proc.pid, self.fds) if name else OTHER

    def _wchan(self, pid: int, tid: int) -> str:
        """Where in the kernel a thread sleeps ("" if gone)."""
        return procfs.read_text(f"/proc/{pid}/task/{tid}/wchan") or ""

    def _memo(
        self,
        pid: int,
        raw: bytes,
        info: procfs.SyscallInfo,
        name: str | None,
        state: str,
        category: str,
        label: str,
        family: str,
        now: float,
    ) -> tuple[bytes, str, str, int, str | None, float, str] | None:
        """What lets the next samples skip classification: if the name decided, any line with
        the same syscall number; if the kind of the fd in arg0 did, the same number and fd,
        while that fd keeps its kind. For poll/select/epoll, the very same line (the same call,
        still waiting) for EPOLL_TTL_S: an epoll set can change during the call, and is re-read
        no more often anyway. None for restart_syscall (the thread's history decided) and when
        the state letter decided."""
        if state != "S" or info.nr < 0 or name == RESTART:
            return None
        nr, _, rest = raw.partition(b" ")
        if not depends_on_fds(name):
            return (nr + b" ", category, label, _ANY, None, 0.0, family)
        if waits_on_arg0_fd(name):
            fd = info.arg(0)
            key = nr + b" " + rest.partition(b" ")[0] + b" "
            return (key, category, label, fd, self.fds.fd_kind(pid, fd), 0.0, family)
        return (raw, category, label, _UNTIL, None, now + EPOLL_TTL_S, family)

    # -- the slow pass ----------------------------------------------------------------------
    def _slow_pass(self, now: float, full: bool) -> None:
        self._next_slow = now + SLOW_REFRESH_S
        self._slow_passes += 1
        if self.kernel_sampler is not None and self.kernel_sampler.active:
            self.kernel_sampler.drain(self._chains)
        self._fork_pending = self._forked_since_scan() or self._fork_pending
        due = self._fork_pending and now >= self._next_scan
        if full or due or self._scan_again:
            # A new pid shows in /proc/loadavg before its /proc entry exists: after a scan
            # that a fork triggered, scan once more so that such a child is not missed.
            self._scan_again = due
            self._fork_pending = False
            joined = [pid for pid in self._tree.scan() if pid not in self._live]
            for pid in joined:
                self._add_process(pid, now, initial=False)
            # Back off while the host forks and none of it is ours (a busy host forks all
            # the time, and listing /proc costs ~2 ms): a child that begins and ends inside a
            # gap is not seen on its own, but its CPU still counts (its parent's reaped-
            # children counters), and one that lives on is found within SCAN_GAP_MAX_S.
            if joined:
                self._scan_gap = 0.0
            elif due:
                self._scan_gap = min(SCAN_GAP_MAX_S, max(SLOW_REFRESH_S, 2 * self._scan_gap))
            self._next_scan = now + self._scan_gap
        rescan = full or self._slow_passes % THREAD_RESCAN_EVERY == 0
        rss_pages = 0
        times_budget, ctx_budget = TIMES_PER_SLOW, CTX_PER_SLOW
        for proc in list(self._live.values()):
            if not self._read_process(proc, now, rescan) or proc.excluded:
                continue
            rss_pages += proc.rss_pages
            hwm = procfs.read_hwm_pages(proc.pid)
            if hwm is not None:
                proc.peak_rss_pages = max(proc.peak_rss_pages, hwm)
            self._read_io(proc, now)
            for th in _rotated(list(proc.threads.values()), self._slow_passes):
                # Only threads that ran since the last read have new ticks or switches.
                if th.on_ns != th.on_ns_at_times and (full or times_budget > 0):
                    times_budget -= self._read_times(th)
                if th.slices != th.slices_at_status and (full or ctx_budget > 0):
                    ctx_budget -= 1
                    ctx = procfs.read_ctx_switches(proc.pid, th.tid)
                    if ctx is not None:
                        th.vcsw, th.ivcsw = ctx
                        th.slices_at_status = th.slices
        self.peak_tree_rss_pages = max(self.peak_tree_rss_pages, rss_pages)
        self._update_snapshot(now, rss_pages)

    @staticmethod
    def _read_times(th: ThreadRecord) -> int:
        """Read its user and system ticks (they split its exact on-CPU time); 1 if read."""
        raw = th.stat.read()
        if raw is None:
            return 0
        try:
            st = procfs.parse_stat(raw)
        except (ValueError, IndexError):
            return 0
        th.utime, th.stime = st.utime, st.stime
        th.on_ns_at_times = th.on_ns
        return 1

    def _forked_since_scan(self) -> bool:
        """Whether any process was created on the host since the last call.

        The last pid handed out (5th field of /proc/loadavg) is one cheap read; listing /proc
        is not (~0.3 ms here), so the tree is only searched again when something forked.
        """
        raw = self._loadavg.read()
        last_pid = raw.rsplit(None, 1)[-1] if raw else b""
        if last_pid and last_pid == self._last_pid:
            return False
        self._last_pid = last_pid
        return True

    def _read_process(self, proc: ProcessRecord, now: float, rescan: bool) -> bool:
        """Read a process's stat; False if it is gone or exited. Lists its threads when their
        number changed, or on `rescan` (threads can be born and end between two reads)."""
        raw = proc.stat.read()
        if raw is None:
            self._process_gone(proc, now)
            return False
        try:
            st = procfs.parse_stat(raw)
        except (ValueError, IndexError):
            return False
        if st.starttime != proc.starttime:  # the pid was reused by another process
            self._process_gone(proc, now)
            return False
        self._update_process(proc, st, now)
        if st.state in _GONE:  # exited, not yet reaped: its counters are final
            if not proc.zombie and not proc.excluded:
                self._read_io(proc, now)  # a zombie's I/O counters are still readable, once
            proc.zombie = True
            proc.rss_pages = 0
            self._end_threads(proc)
            return False
        if not proc.excluded and (rescan or st.num_threads != len(proc.threads)):
            self._discover_threads(proc, now, initial=False)
        return True

    def _read_io(self, proc: ProcessRecord, now: float) -> None:
        raw = proc.io_file.read()
        if raw is None:
            return
        try:
            proc.io = procfs.parse_io(raw)
        except (ValueError, IndexError):
            return
        proc.io_read_at = now
        if proc.base_io is None:  # born inside the window, or unreadable when it began
            proc.base_io = (0, 0, 0, 0) if proc.born_inside else proc.io

    # -- processes --------------------------------------------------------------------------
    def _add_process(self, pid: int, now: float, initial: bool) -> None:
        stat = procfs.ProcFile(f"/proc/{pid}/stat", self._budget)
        raw = stat.read()
        try:
            st = procfs.parse_stat(raw) if raw is not None else None
        except (ValueError, IndexError):
            st = None
        if st is None:
            stat.close()
            return
        proc = ProcessRecord(pid, stat, procfs.ProcFile(f"/proc/{pid}/io", self._budget))
        proc.starttime = st.starttime
        proc.name = st.comm
        proc.cmdline = procfs.read_cmdline(pid)
        proc.excluded = self._is_excluded(pid, st.comm)
        proc.born_inside = not initial and st.starttime >= self._start_tick
        self._update_process(proc, st, now)
        if not proc.born_inside:
            proc.base_utime, proc.base_stime = st.utime, st.stime
            proc.base_cutime, proc.base_cstime = st.cutime, st.cstime
        self.procs.append(proc)
        self._live[pid] = proc
        proc.zombie = st.state in _GONE
        if not proc.excluded and not proc.zombie:
            self._read_io(proc, now)
            self._discover_threads(proc, now, initial)

    def _is_excluded(self, pid: int, comm: str) -> bool:
        return (
            pid == self._own_pid
            or comm in self._exclude
            or (self._exclude_root and pid == self.root_pid)
        )

    def _update_process(self, proc: ProcessRecord, st: procfs.StatFields, now: float) -> None:
        proc.ppid = st.ppid
        proc.utime, proc.stime = st.utime, st.stime
        proc.cutime, proc.cstime = st.cutime, st.cstime
        proc.last_read = now
        proc.rss_pages = st.rss_pages
        if not proc.excluded:
            proc.peak_rss_pages = max(proc.peak_rss_pages, st.rss_pages)
        if st.comm != proc.name:  # it exec'd: e.g. a profiler's child becoming the target
            proc.name = st.comm
            proc.cmdline = procfs.read_cmdline(proc.pid)
            excluded = self._is_excluded(proc.pid, st.comm)
            if excluded and not proc.excluded:
                self._end_threads(proc)
            proc.excluded = excluded

    def _process_gone(self, proc: ProcessRecord, now: float) -> None:
        if not proc.excluded:
            self._gone_ticks += proc.utime + proc.stime - proc.base_utime - proc.base_stime
        proc.vanished_at = now
        self._end_threads(proc)
        proc.close()
        self._live.pop(proc.pid, None)
        self.fds.forget(proc.pid)

    # -- threads ----------------------------------------------------------------------------
    def _discover_threads(self, proc: ProcessRecord, now: float, initial: bool) -> None:
        for tid in procfs.list_ints(f"/proc/{proc.pid}/task"):
            if tid not in proc.threads:
                self._add_thread(proc, tid, now, initial)

    def _add_thread(self, proc: ProcessRecord, tid: int, now: float, initial: bool) -> None:
        base = f"/proc/{proc.pid}/task/{tid}/"
        stat = procfs.ProcFile(base + "stat", self._budget)
        sched = procfs.ProcFile(base + "schedstat", self._budget, 128)
        raw = stat.read()
        sraw = sched.read() if raw is not None else None
        try:
            st = procfs.parse_stat(raw) if raw is not None else None
            counters = procfs.parse_schedstat(sraw) if sraw is not None else None
        except (ValueError, IndexError):
            st = counters = None
        if st is None or counters is None or st.state in _GONE:
            stat.close()
            sched.close()
            return
        syscall = procfs.ProcFile(base + "syscall", self._budget, 256)
        th = ThreadRecord(proc.pid, tid, st.comm, stat, sched, syscall)
        th.on_ns, th.wait_ns, th.slices = counters
        th.utime, th.stime = st.utime, st.stime
        th.on_ns_at_times = th.on_ns
        th.blkio = st.delayacct_blkio_ticks if self.delayacct else 0
        ctx = procfs.read_ctx_switches(proc.pid, tid)
        if ctx is not None:
            th.vcsw, th.ivcsw = ctx
            th.slices_at_status = th.slices
        if not initial and st.starttime >= self._start_tick:
            # Born inside the window: all its counters are ours, and its life began at its
            # start time (a clock tick: take the middle of it), not when we noticed it.
            born = (st.starttime + 0.5) / procfs.CLK_TCK
            th.life_start = min(now, max(self.window_start, born))
        else:
            th.life_start = now
            th.base_on_ns, th.base_wait_ns = th.on_ns, th.wait_ns
            th.base_utime, th.base_stime = th.utime, th.stime
            th.base_blkio = th.blkio
            th.base_vcsw, th.base_ivcsw = th.vcsw, th.ivcsw
        th.last_seen = now
        proc.threads[tid] = th
        self._chains[tid] = th.kchains
        self.threads_seen += 1

    def _thread_gone(self, proc: ProcessRecord, th: ThreadRecord) -> None:
        if th.last_running:
            proc.running -= 1
            th.last_running = False
        th.close()
        proc.threads.pop(th.tid, None)
        proc.ended_threads.append(th)

    def _end_threads(self, proc: ProcessRecord) -> None:
        for th in list(proc.threads.values()):
            self._thread_gone(proc, th)

    # -- live figures -----------------------------------------------------------------------
    def _update_snapshot(self, now: float, rss_pages: int) -> None:
        ticks = self._gone_ticks + sum(
            p.utime + p.stime - p.base_utime - p.base_stime
            for p in self._live.values()
            if not p.excluded
        )
        self._history.append((now, ticks))
        while len(self._history) > 2 and now - self._history[1][0] >= SNAPSHOT_SPAN_S:
            self._history.popleft()
        t0, ticks0 = self._history[0]
        live = [p for p in self._live.values() if not p.excluded and not p.zombie]
        cores = (ticks - ticks0) / procfs.CLK_TCK / (now - t0) if now > t0 else 0.0
        self.snapshot = {
            "elapsed_s": round(now - self.window_start, 3),
            "cores": round(cores, 2),
            "rss_mb": round(rss_pages * procfs.PAGE_SIZE / 2**20, 1),
            "threads": sum(len(p.threads) for p in live),
            "processes": len(live),
        }

    def _note_error(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(message)
