"""What kind of thing a blocked thread waits on: a file, an inet socket, a unix socket or a pipe.

Implements classify.FdKinds over /proc. fd kinds are cached per (pid, fd, link target), so a
socket is resolved once. Epoll interest lists are cached per (pid, epfd) for EPOLL_TTL_S.
A socket is a unix socket if its inode is in /proc/<pid>/net/unix, netlink if in .../netlink,
else inet. The inet tables (/proc/<pid>/net/tcp, tcp6) are not read: the kernel walks its whole
TCP hash table to print them, ~1.8 ms each here against ~30 us for the unix table, and a
client opening a connection per request would pay that at every new socket.
poll/select fd sets live in the target's memory and are read from /proc/<pid>/mem each time
(the same stack address serves different fd sets); what they hold is then cached by the fd
numbers for EPOLL_TTL_S, like an epoll instance's, so that a thread polling the same fds sample
after sample costs one read, not a readlink per fd.

In the set of a multiplexed wait, a unix socket or pipe whose other end the same process holds
is a self-pipe (kind SELF_PIPE), such as the socketpair an asyncio loop is woken through. A
pipe's two ends share an inode: the process must hold it open for reading and for writing. A
unix socket's peer comes from sock_diag (sockdiag.py) and must be among the process's own fds.
Both need the process's fd table (a readlink per fd), so it is read only for sets with no inet
socket (those are network whatever else they hold), cached for SELF_TTL_S, as are the verdicts.
A pipe the process keeps both ends of while a child writes to it too (a multiprocessing queue)
looks like a self-pipe: the fd table cannot tell who else holds an end.
"""

from __future__ import annotations

import os
import stat
import struct

from harness.monitor import procfs
from harness.monitor.classify import FD_OTHER, FILE, INET, PIPE, SELF_PIPE, UNIX
from harness.monitor.sockdiag import UnixPeers

EPOLL_TTL_S = 0.5
SELF_TTL_S = 1.0
MAX_WAITED_FDS = 4096
MAX_FD_TABLE = 4096  # a process with more fds is not searched for self-pipes
MAX_CACHED_SETS = 1024

_POLLFD = struct.Struct("=ihh")


class _SocketTable:
    """Inodes of the unix and netlink sockets of one network namespace."""

    __slots__ = ("netlink", "unix")

    def __init__(self) -> None:
        self.unix: set[int] = set()
        self.netlink: set[int] = set()

    def refresh(self, pid: int) -> None:
        unix = procfs.read_text(f"/proc/{pid}/net/unix")
        netlink = procfs.read_text(f"/proc/{pid}/net/netlink")
        self.unix = procfs.parse_unix_inodes(unix) if unix else set()
        self.netlink = procfs.parse_net_inodes(netlink) if netlink else set()


class FdResolver:
    """Resolves fds of other processes to kinds (see classify), caching what is stable."""

    def __init__(self, budget: procfs.FdBudget) -> None:
        self._budget = budget
        self._kinds: dict[tuple[int, int], tuple[str, str]] = {}  # (pid, fd) -> (link, kind)
        self._epoll: dict[tuple[int, int], tuple[float, frozenset[str]]] = {}
        self._netns: dict[int, str] = {}
        self._tables: dict[str, _SocketTable] = {}
        self._mem: dict[int, int] = {}
        self._own_netns = procfs.read_link("/proc/self/ns/net")
        self._peers = UnixPeers()
        # pid -> (when read, link -> fds): the fd tables searched for self-pipe ends
        self._fd_tables: dict[int, tuple[float, dict[str, list[int]]]] = {}
        self._self_ends: dict[tuple[int, int], tuple[float, str, bool]] = {}
        self._sets: dict[tuple[int, tuple[int, ...]], tuple[float, frozenset[str]]] = {}

    # -- single fds -------------------------------------------------------------------------
    def fd_kind(self, pid: int, fd: int) -> str | None:
        """Kind of one fd, or None if it is gone."""
        found = self._link_kind(pid, fd)
        return found[1] if found is not None else None

    def _link_kind(self, pid: int, fd: int) -> tuple[str, str] | None:
        """(link target, kind) of one fd, or None if it is gone."""
        link = procfs.read_link(f"/proc/{pid}/fd/{fd}")
        if link is None:
            return None
        cached = self._kinds.get((pid, fd))
        if cached is not None and cached[0] == link:
            return cached
        kind = self._resolve(pid, fd, link)
        if kind is None:
            return None
        self._kinds[(pid, fd)] = (link, kind)
        return link, kind

    def _resolve(self, pid: int, fd: int, link: str) -> str | None:
        if link.startswith("socket:["):
            return self._socket_kind(pid, int(link[8:-1]))
        if link.startswith("pipe:["):
            return PIPE
        if not link.startswith("/"):
            return FD_OTHER  # anon_inode:[eventfd], [eventpoll], ...
        try:
            mode = os.stat(f"/proc/{pid}/fd/{fd}").st_mode
        except OSError:
            return FD_OTHER if link.startswith("/dev/") else FILE
        if stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISBLK(mode):
            return FILE
        if stat.S_ISFIFO(mode):
            return PIPE
        return FD_OTHER

    def _socket_kind(self, pid: int, inode: int) -> str:
        ns = self._netns.get(pid)
        if ns is None:
            ns = procfs.read_link(f"/proc/{pid}/ns/net") or f"pid:{pid}"
            self._netns[pid] = ns
        table = self._tables.get(ns)
        if table is None:
            table = self._tables[ns] = _SocketTable()
        if inode not in table.unix and inode not in table.netlink:
            # New since the last read, or not unix: the socket exists (we just read its link),
            # so after this refresh the answer is final.
            table.refresh(pid)
        if inode in table.unix:
            return UNIX
        if inode in table.netlink:
            return FD_OTHER
        return INET

    # -- self-pipes -------------------------------------------------------------------------
    def _waited_kinds(self, pid: int, fds: list[int], now: float) -> frozenset[str]:
        """Kinds of the fds of a multiplexed wait; its unix sockets and pipes count as one
        SELF_PIPE when every one of them is a self-pipe end (and no inet socket is waited on)."""
        found = {fd: self._link_kind(pid, fd) for fd in fds if fd >= 0}
        links = {fd: lk for fd, lk in found.items() if lk is not None}
        kinds = {kind for _, kind in links.values()}
        if INET in kinds or not kinds & {UNIX, PIPE}:
            return frozenset(kinds)
        ends = [(fd, lk) for fd, lk in links.items() if lk[1] in (UNIX, PIPE)]
        if all(self._is_self_end(pid, fd, link, kind, now) for fd, (link, kind) in ends):
            kinds -= {UNIX, PIPE}
            kinds.add(SELF_PIPE)
        return frozenset(kinds)

    def _is_self_end(self, pid: int, fd: int, link: str, kind: str, now: float) -> bool:
        """Whether the process holds the other end of this unix socket or pipe too."""
        cached = self._self_ends.get((pid, fd))
        if cached is not None and cached[1] == link and now - cached[0] < SELF_TTL_S:
            return cached[2]
        table = self._fd_table(pid, link, now)
        if kind == PIPE:
            verdict = self._holds_both_ends(pid, table.get(link, []))
        else:
            verdict = self._socket_peer_link(pid, link) in table
        self._self_ends[(pid, fd)] = (now, link, verdict)
        return verdict

    def _fd_table(self, pid: int, link: str, now: float) -> dict[str, list[int]]:
        """link target -> the process's fds on it; read again when older than SELF_TTL_S or
        older than the fd that asks (its link is not in it). Empty for a process with more than
        MAX_FD_TABLE fds (not read again within SELF_TTL_S)."""
        cached = self._fd_tables.get(pid)
        fresh = cached is not None and now - cached[0] < SELF_TTL_S
        if cached is not None and fresh and (link in cached[1] or not cached[1]):
            return cached[1]
        table: dict[str, list[int]] = {}
        fds = procfs.list_ints(f"/proc/{pid}/fd")
        if len(fds) <= MAX_FD_TABLE:
            for fd in fds:
                target = procfs.read_link(f"/proc/{pid}/fd/{fd}")
                if target is not None:
                    table.setdefault(target, []).append(fd)
        self._fd_tables[pid] = (now, table)
        return table

    def _holds_both_ends(self, pid: int, fds: list[int]) -> bool:
        """Whether these fds (all on one pipe) include one open for reading and one for
        writing: a pipe's two ends share an inode and differ only in their access mode."""
        modes = set()
        for fd in fds:
            text = procfs.read_text(f"/proc/{pid}/fdinfo/{fd}")
            mode = procfs.parse_fdinfo_access(text) if text else None
            if mode is not None:
                modes.add(mode)
        readable = bool(modes & {os.O_RDONLY, os.O_RDWR})
        return readable and bool(modes & {os.O_WRONLY, os.O_RDWR})

    def _socket_peer_link(self, pid: int, link: str) -> str | None:
        """The link target of the socket connected to this one, if the kernel tells us
        (sock_diag answers about the monitor's own network namespace only)."""
        if self._netns.get(pid) != self._own_netns or self._own_netns is None:
            return None
        peer = self._peers.peer(int(link[8:-1]))
        return f"socket:[{peer}]" if peer is not None else None

    # -- multiplexed waits ------------------------------------------------------------------
    def epoll_kinds(self, pid: int, epfd: int) -> frozenset[str] | None:
        """Kinds of the fds registered in an epoll instance (its fdinfo `tfd:` lines)."""
        now = procfs.boottime()
        cached = self._epoll.get((pid, epfd))
        if cached is not None and now - cached[0] < EPOLL_TTL_S:
            return cached[1]
        text = procfs.read_text(f"/proc/{pid}/fdinfo/{epfd}")
        if text is None:
            return None
        kinds = self._waited_kinds(pid, procfs.parse_fdinfo_tfds(text), now)
        self._epoll[(pid, epfd)] = (now, kinds)
        return kinds

    def poll_kinds(self, pid: int, addr: int, nfds: int) -> frozenset[str] | None:
        """Kinds of the fds in a poll() array, read from the target's memory."""
        if nfds == 0:
            return frozenset()
        if nfds > MAX_WAITED_FDS:
            return None
        data = self._read_mem(pid, addr, nfds * _POLLFD.size)
        if data is None:
            return None
        return self._set_kinds(pid, tuple(fd for fd, _, _ in _POLLFD.iter_unpack(data)))

    def select_kinds(
        self, pid: int, nfds: int, sets: tuple[int, int, int]
    ) -> frozenset[str] | None:
        """Kinds of the fds in select()'s read/write/except bitmaps."""
        if nfds == 0 or not any(sets):
            return frozenset()
        if nfds > MAX_WAITED_FDS:
            return None
        nbytes = (nfds + 63) // 64 * 8
        fds: set[int] = set()
        for addr in sets:
            if not addr:
                continue
            data = self._read_mem(pid, addr, nbytes)
            if data is None:
                return None
            bits = int.from_bytes(data, "little")
            fds.update(fd for fd in range(nfds) if bits >> fd & 1)
        return self._set_kinds(pid, tuple(sorted(fds)))

    def _set_kinds(self, pid: int, fds: tuple[int, ...]) -> frozenset[str]:
        """Kinds of a poll or select set, cached by its fd numbers for EPOLL_TTL_S."""
        now = procfs.boottime()
        cached = self._sets.get((pid, fds))
        if cached is not None and now - cached[0] < EPOLL_TTL_S:
            return cached[1]
        kinds = self._waited_kinds(pid, list(fds), now)
        if len(self._sets) >= MAX_CACHED_SETS:
            self._sets.clear()
        self._sets[(pid, fds)] = (now, kinds)
        return kinds

    def _read_mem(self, pid: int, addr: int, size: int) -> bytes | None:
        fd = self._mem.get(pid)
        keep = fd is None and self._budget.used < self._budget.limit
        if fd is None:
            try:
                fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return None
            if keep:
                self._mem[pid] = fd
                self._budget.used += 1
        try:
            data = os.pread(fd, size, addr)
        except (OSError, OverflowError):
            return None
        finally:
            if pid not in self._mem:
                os.close(fd)
        return data if len(data) == size else None

    # -- lifecycle --------------------------------------------------------------------------
    def forget(self, pid: int) -> None:
        """Drop what we know about a process that is gone (its fd numbers will be reused)."""
        for key in [k for k in self._kinds if k[0] == pid]:
            del self._kinds[key]
        for key in [k for k in self._epoll if k[0] == pid]:
            del self._epoll[key]
        for key in [k for k in self._self_ends if k[0] == pid]:
            del self._self_ends[key]
        for set_key in [k for k in self._sets if k[0] == pid]:
            del self._sets[set_key]
        self._fd_tables.pop(pid, None)
        self._netns.pop(pid, None)
        fd = self._mem.pop(pid, None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
            self._budget.used -= 1

    def close(self) -> None:
        """Close every /proc/<pid>/mem we hold, and the netlink socket."""
        for pid in list(self._mem):
            self.forget(pid)
        self._peers.close()
