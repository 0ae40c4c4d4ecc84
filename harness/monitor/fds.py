"""What kind of thing a blocked thread waits on: a file, an inet socket, a unix socket or a pipe.

Implements classify.FdKinds over /proc. fd kinds are cached per (pid, fd, link target), so a
socket is resolved once. Epoll interest lists are cached per (pid, epfd) for EPOLL_TTL_S.
A socket is a unix socket if its inode is in /proc/<pid>/net/unix, netlink if in .../netlink,
else inet. The inet tables (/proc/<pid>/net/tcp, tcp6) are not read: the kernel walks its whole
TCP hash table to print them, ~1.8 ms each here against ~30 us for the unix table, and a
client opening a connection per request would pay that at every new socket.
poll/select fd sets live in the target's memory and are read from /proc/<pid>/mem each time
(never cached: the same stack address serves different fd sets).
"""

from __future__ import annotations

import os
import stat
import struct

from harness.monitor import procfs
from harness.monitor.classify import FD_OTHER, FILE, INET, PIPE, UNIX

EPOLL_TTL_S = 0.5
MAX_WAITED_FDS = 4096

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

    # -- single fds -------------------------------------------------------------------------
    def fd_kind(self, pid: int, fd: int) -> str | None:
        """Kind of one fd, or None if it is gone."""
        link = procfs.read_link(f"/proc/{pid}/fd/{fd}")
        if link is None:
            return None
        cached = self._kinds.get((pid, fd))
        if cached is not None and cached[0] == link:
            return cached[1]
        kind = self._resolve(pid, fd, link)
        if kind is not None:
            self._kinds[(pid, fd)] = (link, kind)
        return kind

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

    def _kinds_of(self, pid: int, fds: list[int]) -> frozenset[str]:
        kinds = {self.fd_kind(pid, fd) for fd in fds if fd >= 0}
        return frozenset(k for k in kinds if k is not None)

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
        kinds = self._kinds_of(pid, procfs.parse_fdinfo_tfds(text))
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
        return self._kinds_of(pid, [fd for fd, _, _ in _POLLFD.iter_unpack(data)])

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
        return self._kinds_of(pid, sorted(fds))

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
        self._netns.pop(pid, None)
        fd = self._mem.pop(pid, None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
            self._budget.used -= 1

    def close(self) -> None:
        """Close every /proc/<pid>/mem we hold."""
        for pid in list(self._mem):
            self.forget(pid)
