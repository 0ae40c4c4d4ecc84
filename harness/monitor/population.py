"""The population of the tree: its processes and threads, from joining to leaving.

A process joins when the tree scan finds it (tree.py), a thread when its process's task list
shows it. Each gets a record (records.py) holding its open /proc files and the baselines of its
counters: their values when the window began, or zero if it was born inside the window. A
process is read again at every slow pass; when it is gone or has exited, its threads end and
its records stay, with their last counters, for the report.
"""

from __future__ import annotations

from collections import Counter

from harness.monitor import procfs
from harness.monitor.fds import FdResolver
from harness.monitor.records import ProcessRecord, ThreadRecord
from harness.monitor.tree import TreeScanner

SCAN_GAP_MAX_S = 0.8  # longest wait between /proc scans while the host forks and we do not
COMM_LEN = 15  # the kernel truncates comm to 15 characters
GONE = ("Z", "X")  # state letters of a task that has exited (zombie, dead)


class Population:
    """The records of every process and thread seen in the tree; owns their /proc files."""

    def __init__(
        self,
        root_pid: int,
        exclude_names: frozenset[str],
        own_pid: int,
        exclude_root: bool,
        budget: procfs.FdBudget,
        fds: FdResolver,
        delayacct: bool,
    ) -> None:
        self.root_pid = root_pid
        self._exclude = frozenset(n[:COMM_LEN] for n in exclude_names)
        self._own_pid = own_pid
        self._exclude_root = exclude_root
        self._budget = budget
        self._fds = fds
        self._delayacct = delayacct
        self._tree = TreeScanner(root_pid)
        self.procs: list[ProcessRecord] = []  # every process seen, excluded ones too
        self.live: dict[int, ProcessRecord] = {}
        self.chains: dict[int, Counter[tuple[int, ...]]] = {}  # tid -> its perf chains
        self.window_start = 0.0
        self._start_tick = 0
        self.threads_seen = 0
        self.gone_ticks = 0  # CPU ticks of counted processes no longer alive
        self._loadavg = procfs.ProcFile("/proc/loadavg", budget)
        self._last_pid = b""
        self._scan_again = False
        self._fork_pending = False
        self._next_scan = 0.0
        self._scan_gap = 0.0

    def begin(self, now: float) -> bool:
        """Take the baselines of every process of the tree alive now; False if the root is not."""
        self.window_start = now
        self._start_tick = int(now * procfs.CLK_TCK)
        self._add_process(self.root_pid, now, initial=True)
        found = bool(self.live)
        self._forked_since_scan()
        self._scan(now, initial=True)
        return found

    def close(self) -> None:
        """End every live thread and release every /proc file still open."""
        for proc in list(self.live.values()):
            end_threads(proc)
            proc.close()
        self.live.clear()
        self._loadavg.close()

    def search(self, now: float, full: bool, min_gap_s: float) -> None:
        """Add the processes that joined the tree: on `full`, or when something forked on the
        host and a scan is due (while the forks bring none of ours, the gap between scans
        doubles from `min_gap_s` up to SCAN_GAP_MAX_S)."""
        self._fork_pending = self._forked_since_scan() or self._fork_pending
        due = self._fork_pending and now >= self._next_scan
        if full or due or self._scan_again:
            # A new pid shows in /proc/loadavg before its /proc entry exists: after a scan
            # that a fork triggered, scan once more so that such a child is not missed.
            self._scan_again = due
            self._fork_pending = False
            joined = self._scan(now, initial=False)
            # Back off while the host forks and none of it is ours (a busy host forks all
            # the time, and listing /proc costs ~2 ms): a child that begins and ends inside a
            # gap is not seen on its own, but its CPU still counts (its parent's reaped-
            # children counters), and one that lives on is found within SCAN_GAP_MAX_S.
            if joined:
                self._scan_gap = 0.0
            elif due:
                self._scan_gap = min(SCAN_GAP_MAX_S, max(min_gap_s, 2 * self._scan_gap))
            self._next_scan = now + self._scan_gap

    def adopt(self, pid: int, now: float) -> None:
        """Take `pid` into the tree though its parent is not in it: an orphan of the run that
        its harness (a subreaper) was handed, such as a double-forked daemon whose middle
        process ended before a scan saw it. Its own children follow it in later scans."""
        if pid in self.live:
            return
        self._tree.members.add(pid)
        self._add_process(pid, now, initial=False)

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

    def _scan(self, now: float, initial: bool) -> bool:
        """Add the processes that joined the tree since the last scan; whether any did."""
        joined = [pid for pid in self._tree.scan() if pid not in self.live]
        for pid in joined:
            self._add_process(pid, now, initial)
        return bool(joined)

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
        self.live[pid] = proc
        proc.zombie = st.state in GONE
        if not proc.excluded and not proc.zombie:
            read_io(proc, now)
            self._discover_threads(proc, now, initial)

    def read_process(self, proc: ProcessRecord, now: float, rescan: bool) -> bool:
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
        if st.state in GONE:  # exited, not yet reaped: its counters are final
            if not proc.zombie and not proc.excluded:
                read_io(proc, now)  # a zombie's I/O counters are still readable, once
            proc.zombie = True
            proc.rss_pages = 0
            end_threads(proc)
            return False
        if not proc.excluded and (rescan or st.num_threads != len(proc.threads)):
            self._discover_threads(proc, now, initial=False)
        return True

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
                end_threads(proc)
            proc.excluded = excluded

    def _process_gone(self, proc: ProcessRecord, now: float) -> None:
        if not proc.excluded:
            self.gone_ticks += proc.utime + proc.stime - proc.base_utime - proc.base_stime
        proc.vanished_at = now
        end_threads(proc)
        proc.close()
        self.live.pop(proc.pid, None)
        self._fds.forget(proc.pid)

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
        if st is None or counters is None or st.state in GONE:
            stat.close()
            sched.close()
            return
        syscall = procfs.ProcFile(base + "syscall", self._budget, 256)
        th = ThreadRecord(proc.pid, tid, st.comm, stat, sched, syscall)
        th.on_ns, th.wait_ns, th.slices = counters
        th.utime, th.stime = st.utime, st.stime
        th.on_ns_at_times = th.on_ns
        th.blkio = st.delayacct_blkio_ticks if self._delayacct else 0
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
        self.chains[tid] = th.kchains
        self.threads_seen += 1


def read_io(proc: ProcessRecord, now: float) -> None:
    """Read a process's I/O counters (its baseline too, the first time)."""
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


def read_times(th: ThreadRecord) -> int:
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


def thread_gone(proc: ProcessRecord, th: ThreadRecord) -> None:
    """End a thread: close its files and keep its record among the process's ended threads."""
    if th.last_running:
        proc.running -= 1
        th.last_running = False
    th.close()
    proc.threads.pop(th.tid, None)
    proc.ended_threads.append(th)


def end_threads(proc: ProcessRecord) -> None:
    """End every live thread of a process."""
    for th in list(proc.threads.values()):
        thread_gone(proc, th)
