"""Which family of system calls a thread's kernel time serves: from a syscall's name, or from
the kernel's own stack of the thread (/proc/<pid>/task/<tid>/stack, readable as root).

A thread's system time is exact (its stat's stime, scaled to schedstat), but not what it was
spent on. CPU the kernel spends inside fsync, read or openat is the disk's or the filesystem's
time, not the program's: measured here, a loop of 100-byte appends + fsync is 30-50% on a CPU,
nearly all of it system time inside fsync (the stack shows ext4_sync_file, __sync_dirty_buffer,
blkdev_issue_flush). Counting that as "cpu" made the verdict flip between disk and mixed with
the machine's mood. The family names what the kernel was doing for the program.

While a thread runs, /proc/.../syscall reads "running" and names no call; its stack then shows
where the kernel last switched it out: inside the call it is in (after a preemption or while it
blocks) or on the way back to user mode (no syscall frame: the time was user time).
"""

from __future__ import annotations

import re

from harness.monitor.classify import DISK, NETWORK, PATH_CALLS

FILE_DATA = "file_data"
DURABILITY = "durability"
METADATA = "metadata"
NET = "network"
MEMORY = "memory"
PROCESSES = "processes"
OTHER = "other"
FAMILIES: tuple[str, ...] = (FILE_DATA, DURABILITY, METADATA, NET, MEMORY, PROCESSES, OTHER)

_DURABILITY = frozenset({"fsync", "fdatasync", "sync_file_range", "syncfs", "sync", "msync"})
# Calls on an fd that may be a file, a socket or a pipe: what the fd is decides the family.
_FD_DATA = frozenset(
    {
        "read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev",
        "preadv2", "pwritev2", "sendfile", "sendfile64", "splice", "copy_file_range",
        "fallocate", "ftruncate", "truncate", "fadvise64", "lseek",
    }
)  # fmt: skip
_FD_META = frozenset({"close", "fstat", "fstatfs", "fchmod", "fchown", "fcntl", "dup", "dup2"})
# Calls on paths (classify.PATH_CALLS) but truncate (file data: it frees the file's blocks),
# and those by name or on the process's own directory.
_METADATA = PATH_CALLS - {"truncate"} | frozenset(
    {
        "newstat", "newlstat", "newfstat", "chown", "fchownat", "utimensat", "statfs", "chdir",
        "getcwd", "close_range",
    }
)  # fmt: skip
_NETWORK = frozenset(
    {
        "socket", "socketpair", "connect", "accept", "accept4", "bind", "listen", "shutdown",
        "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "getsockopt",
        "setsockopt", "getsockname", "getpeername",
    }
)  # fmt: skip
_MULTIPLEX = frozenset(
    {"poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2"}
)
_MEMORY = frozenset({"mmap", "munmap", "mremap", "brk", "madvise", "mprotect", "mlock"})
_PROCESSES = frozenset(
    {
        "clone", "clone3", "fork", "vfork", "execve", "execveat", "wait4", "waitid", "exit",
        "exit_group", "kill", "tgkill",
    }
)  # fmt: skip


def family_of(name: str | None, category: str | None = None) -> str:
    """The family of syscall `name`; `category` (the wait's, see classify) decides for calls
    on an fd: a file is file data (or metadata, for close/fstat), a socket network."""
    if name is None:
        return OTHER
    if name in _DURABILITY:
        return DURABILITY
    if name in _METADATA:
        return METADATA
    if name in _NETWORK:
        return NET
    if name in _FD_DATA or name in _FD_META:
        if category == NETWORK:
            return NET
        if category == DISK:
            return FILE_DATA if name in _FD_DATA else METADATA
        return OTHER
    if name in _MULTIPLEX:
        return NET if category == NETWORK else OTHER
    if name in _MEMORY:
        return MEMORY
    if name in _PROCESSES:
        return PROCESSES
    return OTHER


# The syscall's entry point: __x64_sys_fsync (x86_64), __arm64_sys_fsync (arm64), and on
# kernels built without syscall wrappers sys_fsync / __se_sys_fsync / __do_sys_fsync.
_ENTRY = re.compile(rb"\b(?:__x64_sys|__arm64_sys|__ia32_sys|__se_sys|__do_sys|ksys|sys)_(\w+?)\+")
_PAGE_FAULT = (b"exc_page_fault", b"do_user_addr_fault", b"handle_mm_fault", b"do_page_fault")
# Frames that say which kind of fd a read/write/close served.
_SOCKET_MARKS = (b"sock_", b"tcp_", b"udp_", b"inet_", b"unix_", b"__sys_send", b"__sys_recv")
_PIPE_MARKS = (b"pipe_read", b"pipe_write", b"pipe_release", b"eventfd_")


def stack_family(raw: bytes) -> str | None:
    """The family a kernel stack serves; None when it shows no syscall and no page fault (the
    thread was last switched out on its way to user mode: its time there was user time)."""
    found = _ENTRY.search(raw)
    if found is None:
        return MEMORY if any(mark in raw for mark in _PAGE_FAULT) else None
    name = found.group(1).decode()
    if name.startswith("new") and name not in _METADATA:  # newfstat, newuname, ...
        name = name[3:]
    if name in _FD_DATA or name in _FD_META or name in _MULTIPLEX:
        if any(mark in raw for mark in _SOCKET_MARKS):
            return family_of(name, NETWORK)
        if any(mark in raw for mark in _PIPE_MARKS):
            return OTHER
        if name in _MULTIPLEX:
            return OTHER
        return family_of(name, DISK)
    return family_of(name)


_CHAIN_ENTRY = ("__x64_sys_", "__ia32_sys_", "__arm64_sys_", "__se_sys_", "__do_sys_", "ksys_")
_CHAIN_NAMED = {"do_sys_openat2": "openat", "do_fsync": "fsync"}
_CHAIN_FAULT = ("asm_exc_page_fault", "exc_page_fault", "do_user_addr_fault", "el0_da")
_CHAIN_SOCKET = ("sock_", "tcp_", "udp_", "unix_", "inet_")


def chain_family(names: list[str | None]) -> str | None:
    """The family a sampled kernel call chain served (its functions of interest named, leaf
    first); None for a sample in user mode (no kernel frames)."""
    if not names:
        return None
    call = None
    for name in reversed(names):  # outermost first: the entry point names the call
        if name is None:
            continue
        if name in _CHAIN_NAMED:
            call = call or _CHAIN_NAMED[name]
        for prefix in _CHAIN_ENTRY:
            if name.startswith(prefix):
                call = call or name[len(prefix) :]
    if call is None:
        return MEMORY if any(n and n.startswith(_CHAIN_FAULT) for n in names) else OTHER
    if call in _FD_DATA or call in _FD_META or call in _MULTIPLEX:
        if any(n and n.startswith(_CHAIN_SOCKET) for n in names):
            return family_of(call, NETWORK)
        if any(n and n.startswith("pipe_") for n in names) or call in _MULTIPLEX:
            return OTHER
        return family_of(call, DISK)
    return family_of(call)
