"""Every process a run creates, whatever its session or group, known by (pid, start time).

A process group does not hold a run: a helper started with `start_new_session=True` or a daemon
that double-forks and calls setsid leaves it, and without help its orphans go to init, out of
reach. So during a run the harness is a child subreaper (prctl PR_SET_CHILD_SUBREAPER): orphans
of the run are re-parented to it instead. A process belongs to the run when its parent does, or
when it was re-parented to the harness after the run began and is not one of the harness's own
children (a profiler's watcher, the API server).

Each process is recorded with its start time (field 22 of /proc/<pid>/stat); a signal goes
through a pidfd opened after checking that start time, so a pid the kernel handed to another
process is never signalled. Orphans re-parented here are reaped once they exit.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
CMDLINE_MAX = 200
_libc = ctypes.CDLL(None, use_errno=True)
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def is_subreaper() -> bool:
    flag = ctypes.c_int(0)
    _libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    return bool(flag.value)


def _set_subreaper(on: bool) -> bool:
    return _libc.prctl(PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(int(on)), 0, 0, 0) == 0


@contextmanager
def subreaper() -> Iterator[bool]:
    """Make this process the reaper of its orphaned descendants for the block; yields whether
    the kernel accepted (Linux >= 3.4). The previous setting comes back afterwards."""
    before = is_subreaper()
    accepted = _set_subreaper(True)
    try:
        yield accepted
    finally:
        _set_subreaper(before)


@dataclass(frozen=True)
class Stat:
    """The fields of /proc/<pid>/stat this module needs."""

    state: str
    ppid: int
    pgid: int
    start_ticks: int
    comm: str = ""


def read_stat(pid: int) -> Stat | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # comm may hold spaces and parentheses: the fields start after the last ')'.
    close = raw.rfind(b")")
    fields = raw[close + 2 :].split()
    comm = raw[raw.find(b"(") + 1 : close].decode(errors="replace")
    try:
        return Stat(fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[19]), comm)
    except (IndexError, ValueError):
        return None


def read_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read(CMDLINE_MAX * 4)
    except OSError:
        return ""
    text = raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
    return text[:CMDLINE_MAX]


def boot_ticks() -> int:
    """Clock ticks since boot, the unit of a process's start time."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * _CLK_TCK)


def own_children(pid: int | None = None) -> set[int]:
    """The direct children of `pid` (default: this process), from each thread's children file."""
    pid = os.getpid() if pid is None else pid
    found: set[int] = set()
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.update(int(x) for x in f.read().split())
        except (OSError, ValueError):
            continue
    return found


@dataclass(frozen=True)
class Tracked:
    """A process of the run: `pid` with the start time that tells it from a later reuse."""

    pid: int
    start_ticks: int
    cmdline: str
    adopted: bool = False  # re-parented to the harness when first seen

    def running_s(self, now_ticks: int | None = None) -> float:
        return max(0.0, ((now_ticks or boot_ticks()) - self.start_ticks) / _CLK_TCK)


class Descendants:
    """The processes of one run, found by an incremental /proc scan.

    A scan lists /proc only when a pid was allocated since the last one (the last pid of
    /proc/loadavg moved), and reads the stat of new pids only; known members cost one stat read
    each (to see whether one exited and, re-parented here, waits to be reaped).
    """

    def __init__(
        self,
        root_pid: int,
        own_pid: int | None = None,
        own_names: frozenset[str] = frozenset(),
    ) -> None:
        self.root_pid = root_pid
        self.own_pid = os.getpid() if own_pid is None else own_pid
        # A profiler the harness starts during the run (a sampler attached to each Python
        # process the follower finds) is the harness's child too; known by name, checked
        # when it is used, since between its fork and its exec it looks like the harness.
        self._own_names = frozenset(n[:15] for n in own_names)  # comm holds 15 characters
        self._ignored = own_children(self.own_pid) - {root_pid}
        root = read_stat(root_pid)
        self._since_ticks = root.start_ticks if root else boot_ticks()
        self.members: dict[int, Tracked] = {}
        self.seen_total = 0
        if root is not None:
            self._join(root_pid, root, adopted=False)
        self._outsiders: dict[int, int] = {}
        self._last_pid = b""

    def ignore(self, pids: Iterator[int] | list[int]) -> None:
        """Children the harness started itself (profilers' watchers): never members."""
        for pid in pids:
            self._ignored.add(pid)
            self.members.pop(pid, None)

    def _join(self, pid: int, st: Stat, adopted: bool) -> None:
        self.members[pid] = Tracked(pid, st.start_ticks, read_cmdline(pid), adopted)
        self.seen_total += 1

    def _forked_since_scan(self) -> bool:
        try:
            with open("/proc/loadavg", "rb") as f:
                last = f.read().rsplit(b" ", 1)[-1]
        except OSError:
            return True
        changed = last != self._last_pid
        self._last_pid = last
        return changed

    def scan(self, full: bool = False) -> list[Tracked]:
        """Refresh: drop members that are gone, reap re-parented ones that exited, add new
        descendants (parents first). Returns the new members."""
        self._refresh_members()
        if not (full or self._forked_since_scan()):
            return []
        try:
            live = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        except OSError:
            return []
        for pid in [p for p in self._outsiders if p not in live]:
            del self._outsiders[pid]
        fresh: dict[int, Stat] = {}
        for pid in live:
            if pid in self.members or pid in self._outsiders or pid in self._ignored:
                continue
            st = read_stat(pid)
            if st is not None:
                fresh[pid] = st
        joined: list[Tracked] = []
        changed = True
        while changed:  # a child and its parent can both be new: iterate to a fixed point
            changed = False
            for pid, st in list(fresh.items()):
                adopted = self._adopted(pid, st)
                if adopted or self._parent_is_member(st):
                    self._join(pid, st, adopted)
                    joined.append(self.members[pid])
                    del fresh[pid]
                    changed = True
        self._outsiders.update({pid: st.start_ticks for pid, st in fresh.items()})
        return joined

    def _adopted(self, pid: int, st: Stat) -> bool:
        return (
            st.ppid == self.own_pid
            and pid != self.root_pid
            and pid not in self._ignored
            and st.start_ticks >= self._since_ticks
            and not self._harness_own(st)
        )

    def _harness_own(self, st: Stat) -> bool:
        return st.ppid == self.own_pid and st.comm in self._own_names

    def _parent_is_member(self, st: Stat) -> bool:
        parent = self.members.get(st.ppid)
        if parent is None or parent.start_ticks > st.start_ticks:
            return False
        now = read_stat(st.ppid)  # the pid might be a reuse since the member was seen
        return now is not None and now.start_ticks == parent.start_ticks

    def _refresh_members(self) -> None:
        for pid, tracked in list(self.members.items()):
            st = read_stat(pid)
            if st is None or st.start_ticks != tracked.start_ticks:
                if pid != self.root_pid:
                    del self.members[pid]
                continue
            if (
                st.state in ("Z", "X")
                and st.ppid == self.own_pid
                and pid != self.root_pid
                and not self._harness_own(st)  # a profiler's: its Popen reaps it
            ):
                self._reap(pid)

    @staticmethod
    def _reap(pid: int) -> None:
        # Only a zombie re-parented here, checked just before: the runner's own children
        # (the target, watchers) are reaped by their Popen objects, never here.
        with suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)

    def alive(self, include_root: bool = False) -> list[Tracked]:
        """Members still running (zombies are not: nothing runs in them), with their pgid."""
        found = []
        for pid, tracked in self.members.items():
            if pid == self.root_pid and not include_root:
                continue
            st = read_stat(pid)
            if (
                st
                and st.start_ticks == tracked.start_ticks
                and st.state not in ("Z", "X")
                and not self._harness_own(st)
            ):
                found.append(tracked)
        return found

    def pgid(self, tracked: Tracked) -> int | None:
        st = read_stat(tracked.pid)
        return st.pgid if st and st.start_ticks == tracked.start_ticks else None

    def send(self, tracked: Tracked, sig: int) -> bool:
        """Signal `tracked` if it is still that process; False if it is gone."""
        return send_signal(tracked.pid, tracked.start_ticks, sig)


def send_signal(pid: int, start_ticks: int, sig: int) -> bool:
    """Signal the process `pid` started at `start_ticks`, never a later holder of the pid.

    The pidfd is opened first and the start time checked after: if it matches, the pidfd
    refers to that process (a pid is not reused while its process lives), and the signal
    cannot reach anything else however long the call takes.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except OSError:  # no pidfds (Linux < 5.3): check, then kill; a narrow race remains
        st = read_stat(pid)
        if st is None or st.start_ticks != start_ticks:
            return False
        with suppress(ProcessLookupError):
            os.kill(pid, sig)
            return True
        return False
    try:
        st = read_stat(pid)
        if st is None or st.start_ticks != start_ticks:
            return False
        signal.pidfd_send_signal(fd, sig)
        return True
    except ProcessLookupError:
        return False
    finally:
        os.close(fd)
