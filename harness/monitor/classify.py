"""What a blocked thread is waiting for: (state, syscall, the kinds of its fds) -> a category.

Pure: the fd kinds come from a resolver (fds.FdResolver in the monitor, a fake in tests).
"""

from __future__ import annotations

import platform
from typing import Protocol

from harness.monitor.procfs import SyscallInfo

# Categories of one blocked sample.
DISK = "disk"
NETWORK = "network"
LOCK = "lock"
SLEEP = "sleep"
IPC = "ipc"
CHILD_WAIT = "child_wait"
STOPPED = "stopped"
OTHER = "other"
CATEGORIES: tuple[str, ...] = (DISK, NETWORK, LOCK, SLEEP, IPC, CHILD_WAIT, STOPPED, OTHER)
# Waits on other threads or processes of the program: what a parked thread does (threadtimes.py).
IDLE_WAITS = frozenset({LOCK, IPC, CHILD_WAIT})
# The syscall a stopped-then-resumed wait continues in when the kernel restarts it with what is
# left of its timeout: a futex wait with a timeout, a relative nanosleep, any poll(). Its number
# says nothing of the wait (its arguments are the original call's): the sampler carries the
# thread's previous category over, or asks the kernel function it sleeps in (restarted_call).
RESTART = "restart_syscall"
# Parts of the wait point (/proc/<pid>/task/<tid>/wchan) of a restarted call -> that call.
_RESTARTED = (("futex", "futex"), ("nanosleep", "nanosleep"), ("poll", "poll"))

# Kinds of file descriptor.
FILE = "file"  # regular file, directory or block device: waiting on it is waiting on storage
INET = "inet"  # TCP/UDP socket
UNIX = "unix"  # unix socket (socketpair, multiprocessing connections, asyncio self-pipe)
PIPE = "pipe"
FD_OTHER = "other"  # tty, eventfd, timerfd, netlink, ...
# Only in the fd sets of multiplexed waits (see fds.FdResolver): a unix socket or pipe whose
# other end the same process holds, i.e. a wake-up channel such as asyncio's self-pipe.
SELF_PIPE = "self_pipe"

X86_64: dict[str, int] = {
    "read": 0, "write": 1, "open": 2, "close": 3, "stat": 4, "fstat": 5, "lstat": 6,
    "poll": 7, "pread64": 17, "pwrite64": 18, "readv": 19, "writev": 20, "access": 21,
    "select": 23, "msync": 26, "pause": 34, "nanosleep": 35, "sendfile": 40, "connect": 42,
    "accept": 43, "sendto": 44, "recvfrom": 45, "sendmsg": 46, "recvmsg": 47, "clone": 56,
    "fork": 57, "vfork": 58, "execve": 59, "exit": 60, "wait4": 61, "flock": 73, "fsync": 74,
    "fdatasync": 75, "truncate": 76, "ftruncate": 77, "getdents": 78, "rename": 82,
    "mkdir": 83, "rmdir": 84, "creat": 85, "link": 86, "unlink": 87, "symlink": 88,
    "readlink": 89, "chmod": 90, "rt_sigtimedwait": 128, "rt_sigsuspend": 130, "sync": 162,
    "futex": 202, "io_getevents": 208, "getdents64": 217, "restart_syscall": 219,
    "fadvise64": 221,
    "clock_nanosleep": 230, "exit_group": 231, "epoll_wait": 232, "waitid": 247,
    "openat": 257, "mkdirat": 258, "newfstatat": 262, "unlinkat": 263, "renameat": 264,
    "linkat": 265, "symlinkat": 266, "readlinkat": 267, "fchmodat": 268, "faccessat": 269,
    "pselect6": 270, "ppoll": 271, "splice": 275, "sync_file_range": 277, "epoll_pwait": 281,
    "fallocate": 285, "accept4": 288, "preadv": 295, "pwritev": 296, "recvmmsg": 299,
    "syncfs": 306, "sendmmsg": 307, "renameat2": 316, "execveat": 322, "copy_file_range": 326,
    "preadv2": 327, "pwritev2": 328, "statx": 332, "io_pgetevents": 333,
    "io_uring_enter": 426, "clone3": 435, "openat2": 437, "faccessat2": 439,
    "epoll_pwait2": 441, "futex_waitv": 449,
}  # fmt: skip

AARCH64: dict[str, int] = {
    "io_getevents": 4, "epoll_pwait": 22, "flock": 32, "mkdirat": 34, "unlinkat": 35,
    "symlinkat": 36, "linkat": 37, "renameat": 38, "truncate": 45, "ftruncate": 46,
    "fallocate": 47, "faccessat": 48, "fchmodat": 53, "openat": 56, "close": 57,
    "getdents64": 61, "read": 63, "write": 64, "readv": 65, "writev": 66, "pread64": 67,
    "pwrite64": 68, "preadv": 69, "pwritev": 70, "sendfile": 71, "pselect6": 72, "ppoll": 73,
    "splice": 76, "readlinkat": 78, "newfstatat": 79, "fstat": 80, "sync": 81, "fsync": 82,
    "fdatasync": 83, "sync_file_range": 84, "exit": 93, "exit_group": 94, "waitid": 95,
    "futex": 98, "nanosleep": 101, "clock_nanosleep": 115, "restart_syscall": 128,
    "rt_sigsuspend": 133,
    "rt_sigtimedwait": 137, "accept": 202, "connect": 203, "sendto": 206, "recvfrom": 207,
    "sendmsg": 211, "recvmsg": 212, "clone": 220, "execve": 221, "fadvise64": 223,
    "msync": 227, "accept4": 242, "recvmmsg": 243, "wait4": 260, "syncfs": 267,
    "sendmmsg": 269, "renameat2": 276, "execveat": 281, "copy_file_range": 285,
    "preadv2": 286, "pwritev2": 287, "io_pgetevents": 292, "statx": 291,
    "io_uring_enter": 426, "clone3": 435, "openat2": 437, "faccessat2": 439,
    "epoll_pwait2": 441, "futex_waitv": 449,
}  # fmt: skip


def syscall_names(machine: str | None = None) -> dict[int, str]:
    """Syscall number -> name for this machine (empty for an architecture we have no table for)."""
    m = (machine or platform.machine()).lower()
    if m in ("x86_64", "amd64"):
        table = X86_64
    elif m in ("aarch64", "arm64"):
        table = AARCH64
    else:
        table = {}
    return {nr: name for name, nr in table.items()}


# Waiting in these is waiting on storage whatever the fd.
_SYNC = frozenset({"fsync", "fdatasync", "sync_file_range", "msync", "sync", "syncfs"})
# Path operations: blocked in them means the filesystem (metadata or directory blocks).
PATH_CALLS = frozenset(
    {
        "open", "openat", "openat2", "creat", "mkdir", "mkdirat", "rename", "renameat",
        "renameat2", "unlink", "unlinkat", "rmdir", "link", "linkat", "symlink", "symlinkat",
        "stat", "lstat", "newfstatat", "statx", "access", "faccessat", "faccessat2",
        "readlink", "readlinkat", "chmod", "fchmodat", "truncate", "getdents", "getdents64",
        "io_getevents", "io_pgetevents",
    }
)  # fmt: skip
# arg0 is an fd that may be a file, a socket or a pipe.
_FD_IO = frozenset(
    {
        "read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev",
        "preadv2", "pwritev2", "sendfile", "splice", "copy_file_range", "close", "fstat",
        "ftruncate", "fallocate", "fadvise64",
    }
)  # fmt: skip
# arg0 is a socket.
_SOCK = frozenset(
    {
        "recvfrom", "sendto", "recvmsg", "sendmsg", "recvmmsg", "sendmmsg", "connect",
        "accept", "accept4",
    }
)  # fmt: skip
_POLL = frozenset({"poll", "ppoll"})
_SELECT = frozenset({"select", "pselect6"})
_EPOLL = frozenset({"epoll_wait", "epoll_pwait", "epoll_pwait2"})
_WAIT = frozenset({"wait4", "waitid"})
_LOCK = frozenset({"futex", "futex_waitv", "flock"})
_SLEEP = frozenset({"nanosleep", "clock_nanosleep"})
_FD_DEPENDENT = _FD_IO | _SOCK | _POLL | _SELECT | _EPOLL
# State D inside these is process creation or teardown (vfork waits in D), not storage.
_NOT_DISK_IN_D = frozenset(
    {"clone", "clone3", "fork", "vfork", "execve", "execveat", "exit", "exit_group"}
)


class FdKinds(Protocol):
    """Answers what kind of thing a blocked thread's fds are; None where it cannot tell.

    The sets of multiplexed waits (epoll, poll, select) name self-pipes SELF_PIPE.
    """

    def fd_kind(self, pid: int, fd: int) -> str | None: ...

    def epoll_kinds(self, pid: int, epfd: int) -> frozenset[str] | None: ...

    def poll_kinds(self, pid: int, addr: int, nfds: int) -> frozenset[str] | None: ...

    def select_kinds(
        self, pid: int, nfds: int, sets: tuple[int, int, int]
    ) -> frozenset[str] | None: ...


def _by_fd_kind(kind: str | None) -> str:
    if kind == FILE:
        return DISK
    if kind == INET:
        return NETWORK
    if kind in (UNIX, PIPE):
        return IPC
    return OTHER


# Waiting on nothing but the process's own wake-up channel (asyncio's self-pipe, a socketpair
# the loop writes to from other threads or signal handlers). Nothing outside the process can
# end such a wait, so it is not ipc. With a timeout it is a timer wait: an event loop sleeping
# until its next scheduled callback (asyncio.sleep, call_later) -> sleep. Without one only a
# sibling thread can wake it (call_soon_threadsafe, an executor future completing): the thread
# waits on another thread, as on a condition variable -> lock, which also lets an idle loop
# waiting on its executor be set aside as parked.
_SELF_ONLY = frozenset({SELF_PIPE})


def _by_waited_kinds(kinds: frozenset[str] | None, name: str, call: SyscallInfo) -> str:
    """A multiplexed wait: any inet socket makes it network; no fds at all is a timed sleep;
    only the process's own self-pipe is a timer (sleep) or a sibling thread (lock)."""
    if kinds is None:
        return OTHER
    if not kinds:
        return SLEEP
    if INET in kinds:
        return NETWORK
    if UNIX in kinds or PIPE in kinds:
        return IPC
    if kinds == _SELF_ONLY:
        return SLEEP if has_timeout(name, call) else LOCK
    return OTHER


def _int32(value: int) -> int:
    """An `int` syscall argument: the low 32 bits, signed (the upper half is not defined)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def has_timeout(name: str, call: SyscallInfo) -> bool:
    """Whether a poll / select / epoll wait ends by itself: a timeout in ms that is not
    negative (epoll_wait, epoll_pwait, poll), or a non-null timeout pointer (the others)."""
    if name in ("epoll_wait", "epoll_pwait"):
        return _int32(call.arg(3)) >= 0
    if name == "poll":
        return _int32(call.arg(2)) >= 0
    if name == "ppoll":
        return call.arg(2) != 0
    if name in _SELECT:
        return call.arg(4) != 0
    return call.arg(3) != 0  # epoll_pwait2: a timespec pointer


def restarted_call(wchan: str) -> str | None:
    """The call a thread in restart_syscall resumes, from where it sleeps (e.g. futex_do_wait,
    hrtimer_nanosleep, poll_schedule_timeout); None if that does not say (e.g. ptrace_stop)."""
    for part, name in _RESTARTED:
        if part in wchan:
            return name
    return None


def depends_on_fds(name: str | None) -> bool:
    """Whether classify() looks at the fds for this syscall (else the name alone decides)."""
    return name in _FD_DEPENDENT


def waits_on_arg0_fd(name: str | None) -> bool:
    """Whether the category follows from the kind of the single fd in argument 0."""
    return name in _FD_IO or name in _SOCK


def classify(state: str, name: str | None, call: SyscallInfo | None, pid: int, fds: FdKinds) -> str:
    """The category of one sample of a thread that is not running.

    `name` is the syscall it is blocked in (None: not in a syscall, or one we have no name for)
    and `call` its arguments (None when unknown).
    """
    if state in ("T", "t"):
        return STOPPED
    if state == "D":
        return OTHER if name in _NOT_DISK_IN_D else DISK
    if name is None:
        return OTHER
    if name in _LOCK:
        return LOCK
    if name in _SLEEP:
        return SLEEP
    if name in _SYNC or name in PATH_CALLS:
        return DISK
    if name in _WAIT:
        return CHILD_WAIT
    if call is None or call.nr < 0:
        return OTHER
    if name in _FD_IO:
        return _by_fd_kind(fds.fd_kind(pid, call.arg(0)))
    if name in _SOCK:
        kind = fds.fd_kind(pid, call.arg(0))
        return _by_fd_kind(kind) if kind != FILE else OTHER
    if name in _EPOLL:
        return _by_waited_kinds(fds.epoll_kinds(pid, call.arg(0)), name, call)
    if name in _POLL:
        return _by_waited_kinds(fds.poll_kinds(pid, call.arg(0), call.arg(1)), name, call)
    if name in _SELECT:
        sets = (call.arg(1), call.arg(2), call.arg(3))
        return _by_waited_kinds(fds.select_kinds(pid, call.arg(0), sets), name, call)
    return OTHER
