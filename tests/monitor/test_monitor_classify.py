"""Blocked state + syscall + fd kinds -> category; and fd kinds resolved from /proc for real."""

from __future__ import annotations

import ctypes
import os
import select
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.monitor import classify as c
from harness.monitor import fds as fds_module
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
        10: frozenset({c.UNIX}),  # a unix socket whose peer is another process
        11: frozenset({c.UNIX, c.INET}),
        12: frozenset({c.PIPE}),
        13: frozenset(),
        14: frozenset({c.SELF_PIPE}),  # an asyncio loop: its own wake-up socketpair only
        15: frozenset({c.SELF_PIPE, c.PIPE}),
        16: frozenset({c.SELF_PIPE, c.FD_OTHER}),
    },
)
INFINITE = 0xFFFFFFFF  # an int -1 as /proc/<pid>/syscall shows it (upper half not extended)


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
        ("S", "epoll_wait", (10,), c.IPC),
        ("S", "epoll_wait", (11,), c.NETWORK),
        ("S", "epoll_pwait", (12,), c.IPC),
        ("S", "epoll_wait", (13,), c.SLEEP),
        # Only its own self-pipe: a timer wait with a timeout, a wait on a sibling without.
        ("S", "epoll_wait", (14, 0x7F00, 1, 0x7530), c.SLEEP),  # recorded: asyncio.sleep(30)
        ("S", "epoll_wait", (14, 0x7F00, 1, INFINITE), c.LOCK),  # recorded: Event().wait()
        ("S", "epoll_wait", (14, 0x7F00, 1, 0xFFFFFFFFFFFFFFFF), c.LOCK),
        ("S", "epoll_wait", (14, 0x7F00, 1, 0), c.SLEEP),
        ("S", "epoll_pwait", (14, 0x7F00, 1, 5, 0), c.SLEEP),
        ("S", "epoll_pwait2", (14, 0x7F00, 1, 0x7FF0), c.SLEEP),
        ("S", "epoll_pwait2", (14, 0x7F00, 1, 0), c.LOCK),
        ("S", "poll", (14, 1, 100), c.SLEEP),
        ("S", "poll", (14, 1, INFINITE), c.LOCK),
        ("S", "ppoll", (14, 1, 0x7FF0), c.SLEEP),
        ("S", "ppoll", (14, 1, 0), c.LOCK),
        ("S", "select", (8, 14, 0, 0, 0x7FF0), c.SLEEP),
        ("S", "pselect6", (8, 14, 0, 0, 0), c.LOCK),
        ("S", "epoll_wait", (15, 0x7F00, 1, 0x7530), c.IPC),  # and a pipe to another process
        ("S", "epoll_wait", (16, 0x7F00, 1, 0x7530), c.OTHER),  # and an eventfd, tty...
        ("S", "poll", (11, 2), c.NETWORK),
        ("S", "poll", (0, 0), c.SLEEP),
        ("S", "poll", (12, 1), c.IPC),
        ("S", "select", (0, 0, 0, 0), c.SLEEP),  # select() with no fds: a sleep
        ("S", "pselect6", (5, 11, 0, 0), c.NETWORK),
        ("S", "wait4", (0xFFFFFFFF,), c.CHILD_WAIT),
        ("S", "waitid", (1,), c.CHILD_WAIT),
        ("S", "rt_sigtimedwait", (0,), c.OTHER),
        ("S", "restart_syscall", (0x7F00, 0x89), c.OTHER),  # the sampler carries it over
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
    assert x86[219] == "restart_syscall"
    arm = c.syscall_names("aarch64")
    assert (arm[63], arm[82], arm[98], arm[115], arm[22], arm[128]) == (
        "read",
        "fsync",
        "futex",
        "clock_nanosleep",
        "epoll_pwait",
        "restart_syscall",
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
    """This process's fds of each kind. "unix" and "pipe" have their other end in a child
    process (this one keeps none); "selfpair" and "selfpipe" have both ends here."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    left, right = socket.socketpair()
    r, w = os.pipe()
    mine, also_mine = socket.socketpair()
    self_r, self_w = os.pipe()
    holder = subprocess.Popen(["sleep", "60"], pass_fds=(right.fileno(), w))
    right.close()
    os.close(w)
    f = open(tmp_path / "data.bin", "wb")  # noqa: SIM115
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    yield {
        "file": f.fileno(),
        "tcp": client.fileno(),
        "udp": udp.fileno(),
        "unix": left.fileno(),
        "pipe": r,
        "selfpair": mine.fileno(),
        "selfpipe": self_r,
        "dir": os.open(tmp_path, os.O_RDONLY),
        "null": os.open("/dev/null", os.O_RDONLY),
    }
    holder.kill()
    holder.wait()
    for s in (listener, client, server, left, mine, also_mine, udp):
        s.close()
    f.close()
    for fd in (r, self_r, self_w):
        os.close(fd)


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


def epoll_of(*fds: int) -> select.epoll:
    ep = select.epoll()
    for fd in fds:
        ep.register(fd, select.EPOLLIN)
    return ep


@pytest.mark.parametrize(
    ("watched", "expected"),
    [
        (("selfpair",), {c.SELF_PIPE}),  # asyncio's wake-up socketpair
        (("selfpipe",), {c.SELF_PIPE}),  # a pipe: both ends share one inode
        (("selfpair", "selfpipe"), {c.SELF_PIPE}),
        (("unix",), {c.UNIX}),  # its peer is in another process
        (("pipe",), {c.PIPE}),  # the write end is in another process
        (("selfpair", "pipe"), {c.UNIX, c.PIPE}),  # not only its own: ipc
        (("selfpair", "tcp"), {c.UNIX, c.INET}),  # network anyway: not looked into
        (("selfpair", "null"), {c.SELF_PIPE, c.FD_OTHER}),
    ],
)
def test_self_pipes_in_waited_sets(
    resolver: FdResolver, fds: dict[str, int], watched: tuple[str, ...], expected: set[str]
) -> None:
    pid = os.getpid()
    if "null" in watched:  # epoll refuses regular files and /dev/null: ask poll()
        data = b"".join(struct.pack("=ihh", fds[k], 1, 0) for k in watched)
        buf = (ctypes.c_char * len(data)).from_buffer_copy(data)
        assert resolver.poll_kinds(pid, ctypes.addressof(buf), len(watched)) == expected
        return
    ep = epoll_of(*(fds[k] for k in watched))
    try:
        assert resolver.epoll_kinds(pid, ep.fileno()) == expected
    finally:
        ep.close()


def test_a_self_pipe_whose_other_end_is_closed_is_not_one(
    resolver: FdResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fds_module, "SELF_TTL_S", 0.0)
    monkeypatch.setattr(fds_module, "EPOLL_TTL_S", 0.0)
    pid = os.getpid()
    r, w = os.pipe()
    left, right = socket.socketpair()
    ep = epoll_of(r, left.fileno())
    try:
        assert resolver.epoll_kinds(pid, ep.fileno()) == frozenset({c.SELF_PIPE})
        right.close()
        assert resolver.epoll_kinds(pid, ep.fileno()) == frozenset({c.UNIX, c.PIPE})
    finally:
        ep.close()
        left.close()
        os.close(r)
        os.close(w)


def test_poll_and_select_sets_read_from_memory(resolver: FdResolver, fds: dict[str, int]) -> None:
    pid = os.getpid()
    pollfds = (ctypes.c_char * 16).from_buffer_copy(
        struct.pack("=ihh", fds["pipe"], 1, 0) + struct.pack("=ihh", fds["tcp"], 1, 0)
    )
    assert resolver.poll_kinds(pid, ctypes.addressof(pollfds), 2) == frozenset({c.PIPE, c.INET})
    assert resolver.poll_kinds(pid, ctypes.addressof(pollfds), 1) == frozenset({c.PIPE})
    assert resolver.poll_kinds(pid, 0, 0) == frozenset()

    nfds = max(fds["unix"], fds["file"], fds["selfpipe"]) + 1
    bits = (1 << fds["unix"]) | (1 << fds["file"])
    readfds = (ctypes.c_char * 128).from_buffer_copy(bits.to_bytes(128, "little"))
    got = resolver.select_kinds(pid, nfds, (ctypes.addressof(readfds), 0, 0))
    assert got == frozenset({c.UNIX, c.FILE})
    own = (ctypes.c_char * 128).from_buffer_copy((1 << fds["selfpipe"]).to_bytes(128, "little"))
    got = resolver.select_kinds(pid, nfds, (ctypes.addressof(own), 0, 0))
    assert got == frozenset({c.SELF_PIPE})
    assert resolver.select_kinds(pid, 0, (0, 0, 0)) == frozenset()


def test_a_poll_set_is_resolved_once_per_ttl(
    resolver: FdResolver, fds: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = os.getpid()
    data = struct.pack("=ihh", fds["pipe"], 1, 0) + struct.pack("=ihh", fds["tcp"], 1, 0)
    pollfds = (ctypes.c_char * 16).from_buffer_copy(data)
    links = 0
    read_link = fds_module.procfs.read_link

    def counted(path: str) -> str | None:
        nonlocal links
        links += 1
        return read_link(path)

    monkeypatch.setattr(fds_module.procfs, "read_link", counted)
    kinds = frozenset({c.PIPE, c.INET})
    assert resolver.poll_kinds(pid, ctypes.addressof(pollfds), 2) == kinds
    resolved = links
    assert resolver.poll_kinds(pid, ctypes.addressof(pollfds), 2) == kinds
    assert links == resolved  # the same fds again: from the cache
    monkeypatch.setattr(fds_module, "EPOLL_TTL_S", 0.0)
    assert resolver.poll_kinds(pid, ctypes.addressof(pollfds), 2) == kinds
    assert links > resolved


def test_unreadable_memory_is_unknown(resolver: FdResolver) -> None:
    assert resolver.poll_kinds(os.getpid(), 8, 4) is None  # page 0 is never mapped
