"""The sampling loop: reads the counters and blocked states of every thread in the tree.

Every pass (100 Hz by default) reads each thread's syscall file: "running" when the thread is
runnable (state R), else the syscall it waits in and its arguments. A running thread's
schedstat is read too; a blocked one is classified (classify.py) and its schedstat read only
every SCHED_EVERY passes (a blocked thread's counters hardly move). Its stat, for the state
letter, is read only when the syscall does not classify the sample. Slower things run every
SLOW_REFRESH_S: process stat (CPU ticks, RSS, thread count), I/O counters, context switches,
the live snapshot, and the search for new processes (which lists /proc only when something
forked). Every file read per pass is kept open and re-read with pread.

Cost shapes this: at 100 Hz each pass starts with cold caches, and here a pass costs tens of
microseconds per thread; one read fewer per blocked thread is a third of that.
"""

from __future__ import annotations

import resource
import threading
import time
from collections import Counter, deque

from harness.monitor import procfs
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
from harness.monitor.records import ProcessRecord, ThreadRecord
from harness.monitor.tree import TreeScanner

SLOW_REFRESH_S = 0.1  # process stat, I/O, context switches, new processes, the snapshot
SCHED_EVERY = 5  # passes between schedstat reads of a thread that stays blocked
THREAD_RESCAN_EVERY = 5  # slow refreshes between listings of a process's threads
SNAPSHOT_SPAN_S = 1.0  # "cores used recently" looks back this far
MAX_ERRORS = 5
COMM_LEN = 15  # the kernel truncates comm to 15 characters
_GONE = ("Z", "X")
# A memo's fd slot when no fd decided: the syscall name did (any line with its number will do),
# or a waited set did (the same line will do, until a time).
_ANY = -1
_UNTIL = -2


def _fd_limit() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, min(1024, soft // 4))


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
        except Exception as exc:
            self._note_error(f"final sample failed: {exc!r}")
        self.window_end = now
        for proc in list(self._live.values()):
            self._end_threads(proc)
            proc.close()
        self._live.clear()
        self.fds.close()
        self._loadavg.close()

    # -- one pass ---------------------------------------------------------------------------
    def sample(self, now: float, full: bool = False) -> None:
        """One pass over the tree; `full` reads every counter (used for the final pass)."""
        self.samples += 1
        if full or now >= self._next_slow:
            self._slow_pass(now, full)
        for proc in list(self._live.values()):
            if not (proc.excluded or proc.zombie):
                self._sample_threads(proc, now, full)

    def _sample_threads(self, proc: ProcessRecord, now: float, full: bool) -> None:
        # The hot loop. A thread's syscall file reads "running" when it is runnable, else the
        # syscall it waits in: one pread classifies most blocked samples. A running thread
        # costs a second pread, its schedstat. stat (for the state letter) is read only when
        # the syscall does not say enough (see _classify_blocked).
        n = self.samples
        running_any = False
        waits: list[tuple[ThreadRecord, str]] = []
        for th in list(proc.threads.values()):
            raw = th.syscall.read()
            if raw is None:
                self._thread_gone(proc, th)
                continue
            th.last_seen = now
            running = raw.startswith(b"running")
            # Exact counters decide on-CPU time; states only apportion the time off CPU.
            # Sampled states alone mislead: a loop of small writes + fsync that is ~31% on CPU
            # by schedstat shows state R in ~80% of samples here.
            if running or full or (n + th.tid) % SCHED_EVERY == 0:
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
            else:
                category = self._classify_blocked(proc, th, raw, now)
                if category is not None:
                    waits.append((th, category))
                    if category == LOCK:
                        self._note_lock_word(th, raw)
        if not running_any and len(waits) > 1:
            self._hand_off(waits)

    @staticmethod
    def _note_lock_word(th: ThreadRecord, raw: bytes) -> None:
        """Count the futex word it waits on (the syscall's first argument).

        CPython's threads all wait for the GIL on the same few words (its mutex and condition
        variable); a thread waiting for a result (a future, a queue, join) waits on a lock of
        its own. A word that two threads of a process wait on is contention; see report.py.
        """
        parts = raw.split(b" ", 2)
        if len(parts) > 1:
            th.lock_words[parts[1]] += 1

    @staticmethod
    def _hand_off(waits: list[tuple[ThreadRecord, str]]) -> None:
        """Credit lock waits to what the rest of the process waits on, when nothing of it runs.

        A futex wait while a sibling runs is contention (in Python, mostly for the GIL). A
        futex wait while every sibling is blocked is a hand-off: a consumer waiting on a
        queue that an event-loop thread fills from the network waits, in effect, on the
        network. Measured on ingest_api (asyncio, 16 in flight), counting those as lock gave
        lock 46% / network 43% (mixed) for a latency-bound client.
        """
        others = Counter(c for _, c in waits if c not in (LOCK, STOPPED, OTHER))
        if not others:
            return
        target = others.most_common(1)[0][0]
        for th, category in waits:
            if category == LOCK:
                th.handoff[target] += 1

    def _classify_blocked(
        self, proc: ProcessRecord, th: ThreadRecord, raw: bytes, now: float
    ) -> str | None:
        memo = th.memo
        if (
            memo is not None
            and raw.startswith(memo[0])
            and (memo[3] == -1 or self._memo_holds(proc.pid, memo, now))  # -1: _ANY
        ):
            category, label = memo[1], memo[2]
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
            th.memo = self._memo(proc.pid, raw, info, name, state, category, label, now)
        th.counts[category] += 1
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
        self, pid: int, memo: tuple[bytes, str, str, int, str | None, float], now: float
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
        now: float,
    ) -> tuple[bytes, str, str, int, str | None, float] | None:
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
            return (nr + b" ", category, label, _ANY, None, 0.0)
        if waits_on_arg0_fd(name):
            fd = info.arg(0)
            key = nr + b" " + rest.partition(b" ")[0] + b" "
            return (key, category, label, fd, self.fds.fd_kind(pid, fd), 0.0)
        return (raw, category, label, _UNTIL, None, now + EPOLL_TTL_S)

    # -- the slow pass ----------------------------------------------------------------------
    def _slow_pass(self, now: float, full: bool) -> None:
        self._next_slow = now + SLOW_REFRESH_S
        self._slow_passes += 1
        forked = self._forked_since_scan()
        if full or forked or self._scan_again:
            # A new pid shows in /proc/loadavg before its /proc entry exists: after a scan
            # that a fork triggered, scan once more so that such a child is not missed.
            self._scan_again = forked
            for pid in self._tree.scan():
                if pid not in self._live:
                    self._add_process(pid, now, initial=False)
        rescan = full or self._slow_passes % THREAD_RESCAN_EVERY == 0
        rss_pages = 0
        for proc in list(self._live.values()):
            if not self._read_process(proc, now, rescan) or proc.excluded:
                continue
            rss_pages += proc.rss_pages
            hwm = procfs.read_hwm_pages(proc.pid)
            if hwm is not None:
                proc.peak_rss_pages = max(proc.peak_rss_pages, hwm)
            self._read_io(proc, now)
            for th in proc.threads.values():
                if th.slices == th.slices_at_status and not full:
                    continue  # not scheduled in since: no new context switches
                ctx = procfs.read_ctx_switches(proc.pid, th.tid)
                if ctx is not None:
                    th.vcsw, th.ivcsw = ctx
                    th.slices_at_status = th.slices
        self.peak_tree_rss_pages = max(self.peak_tree_rss_pages, rss_pages)
        self._update_snapshot(now, rss_pages)

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
            th.base_blkio = th.blkio
            th.base_vcsw, th.base_ivcsw = th.vcsw, th.ivcsw
        th.last_seen = now
        proc.threads[tid] = th
        self.threads_seen += 1

    def _thread_gone(self, proc: ProcessRecord, th: ThreadRecord) -> None:
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
