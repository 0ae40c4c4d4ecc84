"""Blocked state + syscall + fd kinds -> category; and fd kinds resolved from /proc for real."""

from __future__ import annotations

import ctypes
import os
import select
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.monitor import classify as c
from harness.monitor.fds import FdResolver
from harness.monitor.procfs import FdBudget, SyscallInfo

NR = c.X86_64


class FakeFds:
    """fd kinds by fd number; epoll and poll sets by their first argument."""

    def __init__(
        self,
        kinds: dict[int, str] | None = None,
        sets: dict[int, frozenset[str] | None] | None = None,
    ) -> None:
        self.kinds = kinds or {}
        self.sets = sets or {}

    def fd_kind(self, pid: int, fd: int) -> str | None:
        return self.kinds.get(fd)

    def epoll_kinds(self, pid: int, epfd: int) -> frozenset[str] | None:
        return self.sets.get(epfd)

    def poll_kinds(self, pid: int, addr: int, nfds: int) -> frozenset[str] | None:
        return frozenset() if nfds == 0 else self.sets.get(addr)

    def select_kinds(
        self, pid: int, nfds: int, sets: tuple[int, int, int]
    ) -> frozenset[str] | None:
        return frozenset() if nfds == 0 else self.sets.get(sets[0])


def call(name: str, *args: int) -> SyscallInfo:
    return SyscallInfo(NR[name], [hex(a).encode() for a in (*args, 0, 0, 0, 0, 0, 0)[:6]])


FDS = FakeFds(
    kinds={3: c.FILE, 4: c.INET, 5: c.UNIX, 6: c.PIPE, 7: c.FD_OTHER},
    sets={
        10: frozenset({c.UNIX}),  # an asyncio loop: its self-pipe only
        11: frozenset({c.UNIX, c.INET}),
        12: frozenset({c.PIPE}),
        13: frozenset(),
    },
)


@pytest.mark.parametrize(
    ("state", "name", "args", "expected"),
    [
        ("S", "futex", (0x7F00, 0x189), c.LOCK),
        ("S", "clock_nanosleep", (1, 0), c.SLEEP),
        ("S", "nanosleep", (0x7F00,), c.SLEEP),
        ("D", "fsync", (3,), c.DISK),
        ("S", "fdatasync", (3,), c.DISK),
        ("S", "openat", (0xFFFFFF9C, 0x7F00), c.DISK),
        ("S", "mkdir", (0x7F00,), c.DISK),
        ("S", "rename", (0x7F00, 0x7F10), c.DISK),
        ("S", "read", (3,), c.DISK),
        ("S", "pwrite64", (3,), c.DISK),
        ("S", "read", (4,), c.NETWORK),
        ("S", "recvfrom", (4,), c.NETWORK),
        ("S", "sendto", (4,), c.NETWORK),
        ("S", "connect", (4,), c.NETWORK),
        ("S", "read", (5,), c.IPC),
        ("S", "recvmsg", (5,), c.IPC),
        ("S", "read", (6,), c.IPC),
        ("S", "read", (7,), c.OTHER),  # a tty
        ("S", "read", (99,), c.OTHER),  # closed meanwhile
        ("S", "epoll_wait", (10,), c.IPC),  # idle asyncio loop: not network
        ("S", "epoll_wait", (11,), c.NETWORK),
        ("S", "epoll_pwait", (12,), c.IPC),
        ("S", "epoll_wait", (13,), c.SLEEP),
        ("S", "poll", (11, 2), c.NETWORK),
        ("S", "poll", (0, 0), c.SLEEP),
        ("S", "poll", (12, 1), c.IPC),
        ("S", "select", (0, 0, 0, 0), c.SLEEP),  # select() with no fds: a sleep
        ("S", "pselect6", (5, 11, 0, 0), c.NETWORK),
        ("S", "wait4", (0xFFFFFFFF,), c.CHILD_WAIT),
        ("S", "waitid", (1,), c.CHILD_WAIT),
        ("S", "rt_sigtimedwait", (0,), c.OTHER),
        ("D", "vfork", (), c.OTHER),  # waiting for the child to exec: not storage
        ("D", "ioctl", (3,), c.DISK),
        ("T", "futex", (0x7F00,), c.STOPPED),
        ("t", "read", (4,), c.STOPPED),
    ],
)
def test_classify(state: str, name: str, args: tuple[int, ...], expected: str) -> None:
    nr_name = name if name in NR else None
    info = call(name, *args) if nr_name else SyscallInfo(16, [b"0x3"] * 6)
    assert c.classify(state, nr_name, info, 1, FDS) == expected


def test_classify_outside_a_syscall() -> None:
    outside = SyscallInfo(-1, [])
    assert c.classify("D", None, outside, 1, FDS) == c.DISK  # e.g. a page fault on a file
    assert c.classify("S", None, outside, 1, FDS) == c.OTHER


def test_syscall_tables() -> None:
    x86 = c.syscall_names("x86_64")
    assert (x86[0], x86[1], x86[74], x86[202], x86[230], x86[232]) == (
        "read",
        "write",
        "fsync",
        "futex",
        "clock_nanosleep",
        "epoll_wait",
    )
    arm = c.syscall_names("aarch64")
    assert (arm[63], arm[82], arm[98], arm[115], arm[22]) == (
        "read",
        "fsync",
        "futex",
        "clock_nanosleep",
        "epoll_pwait",
    )
    assert c.syscall_names("riscv64") == {}
    assert len(set(c.X86_64.values())) == len(c.X86_64)
    assert len(set(c.AARCH64.values())) == len(c.AARCH64)


def test_depends_on_fds() -> None:
    assert c.depends_on_fds("read") and c.depends_on_fds("epoll_wait")
    assert not c.depends_on_fds("futex") and not c.depends_on_fds(None)
    assert c.waits_on_arg0_fd("recvfrom") and c.waits_on_arg0_fd("write")
    assert not c.waits_on_arg0_fd("epoll_wait") and not c.waits_on_arg0_fd("poll")


# -- fd kinds resolved from /proc, on this process's own fds ----------------------------------


@pytest.fixture
def resolver() -> Iterator[FdResolver]:
    r = FdResolver(FdBudget(16))
    yield r
    r.close()


@pytest.fixture
def fds(tmp_path: Path) -> Iterator[dict[str, int]]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    left, right = socket.socketpair()
    r, w = os.pipe()
    f = open(tmp_path / "data.bin", "wb")  # noqa: SIM115
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    yield {
        "file": f.fileno(),
        "tcp": client.fileno(),
        "udp": udp.fileno(),
        "unix": left.fileno(),
        "pipe": r,
        "dir": os.open(tmp_path, os.O_RDONLY),
        "null": os.open("/dev/null", os.O_RDONLY),
    }
    for s in (listener, client, server, left, right, udp):
        s.close()
    f.close()
    os.close(r)
    os.close(w)


def test_fd_kinds_from_proc(resolver: FdResolver, fds: dict[str, int]) -> None:
    pid = os.getpid()
    assert resolver.fd_kind(pid, fds["file"]) == c.FILE
    assert resolver.fd_kind(pid, fds["dir"]) == c.FILE
    assert resolver.fd_kind(pid, fds["tcp"]) == c.INET
    assert resolver.fd_kind(pid, fds["udp"]) == c.INET
    assert resolver.fd_kind(pid, fds["unix"]) == c.UNIX
    assert resolver.fd_kind(pid, fds["pipe"]) == c.PIPE
    assert resolver.fd_kind(pid, fds["null"]) == c.FD_OTHER
    assert resolver.fd_kind(pid, 987654) is None


def test_fd_kind_follows_a_reused_fd_number(resolver: FdResolver, tmp_path: Path) -> None:
    pid = os.getpid()
    fd = os.open(tmp_path / "x", os.O_CREAT | os.O_WRONLY)
    r, w = os.pipe()
    try:
        assert resolver.fd_kind(pid, fd) == c.FILE
        os.dup2(r, fd)  # the same fd number now names a pipe
        assert resolver.fd_kind(pid, fd) == c.PIPE
    finally:
        for x in (fd, r, w):
            os.close(x)


def test_epoll_kinds_from_fdinfo(resolver: FdResolver, fds: dict[str, int]) -> None:
    pid = os.getpid()
    idle = select.epoll()
    busy = select.epoll()
    try:
        idle.register(fds["unix"], select.EPOLLIN)
        busy.register(fds["unix"], select.EPOLLIN)
        busy.register(fds["tcp"], select.EPOLLIN)
        assert resolver.epoll_kinds(pid, idle.fileno()) == frozenset({c.UNIX})
        assert resolver.epoll_kinds(pid, busy.fileno()) == frozenset({c.UNIX, c.INET})
        assert resolver.epoll_kinds(pid, 987654) is None
    finally:
        idle.close()
        busy.close()


def test_poll_and_select_sets_read_from_memory(resolver: FdResolver, fds: dict[str, int]) -> None:
    pid = os.getpid()
    pollfds = (ctypes.c_char * 16).from_buffer_copy(
        struct.pack("=ihh", fds["pipe"], 1, 0) + struct.pack("=ihh", fds["tcp"], 1, 0)
    )
    assert resolver.poll_kinds(pid, ctypes.addressof(pollfds), 2) == frozenset({c.PIPE, c.INET})
    assert resolver.poll_kinds(pid, ctypes.addressof(pollfds), 1) == frozenset({c.PIPE})
    assert resolver.poll_kinds(pid, 0, 0) == frozenset()

    nfds = max(fds["unix"], fds["file"]) + 1
    bits = (1 << fds["unix"]) | (1 << fds["file"])
    readfds = (ctypes.c_char * 128).from_buffer_copy(bits.to_bytes(128, "little"))
    got = resolver.select_kinds(pid, nfds, (ctypes.addressof(readfds), 0, 0))
    assert got == frozenset({c.UNIX, c.FILE})
    assert resolver.select_kinds(pid, 0, (0, 0, 0)) == frozenset()


def test_unreadable_memory_is_unknown(resolver: FdResolver) -> None:
    assert resolver.poll_kinds(os.getpid(), 8, 4) is None  # page 0 is never mapped
