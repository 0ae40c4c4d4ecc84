"""Reading and parsing /proc files: pure parsers on recorded text, plus cheap re-readable handles.

Every reader returns None when the task or process is gone (ENOENT, ESRCH, empty read):
processes and threads vanish between any two reads and the monitor must never crash on it.
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

CLK_TCK: int = os.sysconf("SC_CLK_TCK")
PAGE_SIZE: int = os.sysconf("SC_PAGE_SIZE")


def boottime() -> float:
    """Seconds on CLOCK_BOOTTIME: the clock that /proc/*/stat start times are counted on."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


class StatFields(NamedTuple):
    """The fields of /proc/<pid>[/task/<tid>]/stat the monitor uses (times in clock ticks)."""

    pid: int
    comm: str
    state: str
    ppid: int
    utime: int
    stime: int
    cutime: int
    cstime: int
    num_threads: int
    starttime: int
    rss_pages: int
    delayacct_blkio_ticks: int


def parse_stat(raw: bytes) -> StatFields:
    """Parse a stat line; the comm may hold spaces and parentheses, so split after the last ')'."""
    lp = raw.index(b"(")
    rp = raw.rindex(b")")
    rest = raw[rp + 2 :].split()
    # rest[0] is field 3 (state); field N is rest[N - 3]. Positional: this runs for every
    # process at every pass.
    return StatFields(
        int(raw[:lp]),
        raw[lp + 1 : rp].decode("utf-8", "replace"),
        chr(rest[0][0]),
        int(rest[1]),
        int(rest[11]),
        int(rest[12]),
        int(rest[13]),
        int(rest[14]),
        int(rest[17]),
        int(rest[19]),
        int(rest[21]),
        int(rest[39]) if len(rest) > 39 else 0,
    )


def stat_state(raw: bytes) -> str:
    """Only the state letter (field 3) of a stat line: the hot loop needs nothing else."""
    rp = raw.rindex(b")")
    return chr(raw[rp + 2])


def parse_schedstat(raw: bytes) -> tuple[int, int, int]:
    """(ns on CPU, ns waiting in a run queue, timeslices) from a schedstat line."""
    on, wait, slices = raw.split()[:3]
    return int(on), int(wait), int(slices)


class SyscallInfo:
    """What /proc/<pid>/task/<tid>/syscall says: a syscall number and its six arguments.

    `nr` is -1 when the task is blocked but not inside a syscall (e.g. a page fault). The
    arguments are parsed only when asked for: most blocked samples (futex, sleeps) need none.
    """

    __slots__ = ("_raw_args", "nr")

    def __init__(self, nr: int, raw_args: list[bytes]) -> None:
        self.nr = nr
        self._raw_args = raw_args

    def arg(self, i: int) -> int:
        """Argument i (0-5); 0 if the line did not carry it."""
        try:
            return int(self._raw_args[i], 16)
        except (IndexError, ValueError):
            return 0


def parse_syscall(raw: bytes) -> SyscallInfo | None:
    """Parse a syscall line; None when it reads "running" (the task woke up since we looked)."""
    parts = raw.split()
    if not parts or parts[0] == b"running":
        return None
    nr = int(parts[0])
    if nr < 0 or len(parts) < 7:
        return SyscallInfo(-1, [])
    return SyscallInfo(nr, parts[1:7])


def parse_fdinfo_tfds(text: str) -> list[int]:
    """The target fds registered in an epoll instance, from the `tfd:` lines of its fdinfo."""
    fds: list[int] = []
    for line in text.splitlines():
        if line.startswith("tfd:"):
            fds.append(int(line.split()[1]))
    return fds


def parse_fdinfo_access(text: str) -> int | None:
    """The access mode (os.O_RDONLY, O_WRONLY or O_RDWR) from an fdinfo's octal `flags:`."""
    for line in text.splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & os.O_ACCMODE
    return None


def parse_status_ctxt(text: str) -> tuple[int, int]:
    """(voluntary, involuntary) context switches from a status file (they are its last lines)."""
    vol = invol = 0
    for line in text[max(0, text.rfind("\nvoluntary_ctxt_switches:")) :].splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            vol = int(line.split()[1])
        elif line.startswith("nonvoluntary_ctxt_switches:"):
            invol = int(line.split()[1])
    return vol, invol


def parse_io(raw: bytes) -> tuple[int, int, int, int]:
    """(read_bytes, write_bytes, read_chars, write_chars) from /proc/<pid>/io.

    read_bytes/write_bytes reached the storage layer; rchar/wchar count every read()/write()
    (page cache hits too): together they tell a warm cache from a cold one.
    """
    values: dict[bytes, int] = {}
    for line in raw.splitlines():
        key, _, value = line.partition(b":")
        values[key] = int(value)
    return values[b"read_bytes"], values[b"write_bytes"], values[b"rchar"], values[b"wchar"]


def parse_net_inodes(text: str) -> set[int]:
    """Socket inodes from /proc/<pid>/net/{tcp,tcp6,udp,udp6,netlink} (10th column)."""
    inodes: set[int] = set()
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) > 9:
            inodes.add(int(cols[9]))
    return inodes


def parse_unix_inodes(text: str) -> set[int]:
    """Socket inodes from /proc/<pid>/net/unix (7th column)."""
    inodes: set[int] = set()
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) > 6:
            inodes.add(int(cols[6]))
    return inodes


def read_text(path: str) -> str | None:
    """A whole small /proc file as text, or None if it is gone."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:  # ENOENT, ESRCH, EACCES...: gone, for us
        return None


def read_bytes(path: str) -> bytes | None:
    """A whole small /proc file as bytes, or None if it is gone or empty."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:  # ENOENT, ESRCH, EACCES...: gone, for us
        return None
    return data or None


def read_link(path: str) -> str | None:
    """readlink, or None if the link is gone."""
    try:
        return os.readlink(path)
    except OSError:  # ENOENT, ESRCH, EACCES...: gone, for us
        return None


def list_ints(path: str) -> list[int]:
    """Numeric entries of a /proc directory (pids or tids), empty if it is gone."""
    try:
        return [int(n) for n in os.listdir(path) if n.isdigit()]
    except OSError:  # ENOENT, ESRCH, EACCES...: gone, for us
        return []


def read_cmdline(pid: int, limit: int = 160) -> str:
    """A process's command line joined by spaces (empty if gone or a kernel thread)."""
    raw = read_bytes(f"/proc/{pid}/cmdline")
    if raw is None:
        return ""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")[:limit]


def read_hwm_pages(pid: int) -> int | None:
    """The process's peak RSS so far (VmHWM), in pages; exact, unlike sampled RSS, which
    misses a peak that lasts less than the sampling period."""
    text = read_text(f"/proc/{pid}/status")
    if text is None:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 // PAGE_SIZE
    return None


def read_ctx_switches(pid: int, tid: int) -> tuple[int, int] | None:
    """(voluntary, involuntary) context switches of one thread, or None if it is gone.

    Per thread: /proc/<pid>/status (what psutil reads) counts the leader thread only.
    """
    text = read_text(f"/proc/{pid}/task/{tid}/status")
    if text is None:
        return None
    try:
        return parse_status_ctxt(text)
    except (ValueError, IndexError):
        return None


class FdBudget:
    """How many /proc files the monitor may keep open; beyond it, files are opened per read.

    Keeping a file open turns open+read+close into one pread, which is most of the monitor's
    cost at 100 Hz; the budget keeps a tree of thousands of threads from exhausting our fds.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0


class ProcFile:
    """A /proc file re-read with pread(offset 0), which makes the kernel regenerate it."""

    __slots__ = ("_budget", "_fd", "_size", "path")

    def __init__(self, path: str, budget: FdBudget, size: int = 2048) -> None:
        self.path = path
        self._budget = budget
        self._size = size  # at least the file's length: a short read is the whole file
        self._fd: int | None = None

    def read(self) -> bytes | None:
        """The current content, or None if the task is gone."""
        fd = self._fd
        if fd is None:
            if self._budget.used >= self._budget.limit:
                return read_bytes(self.path)
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:  # ENOENT, ESRCH, EACCES...: gone, for us
                return None
            self._fd = fd
            self._budget.used += 1
        try:
            data = os.pread(fd, self._size, 0)
        except OSError:  # ENOENT, ESRCH, EACCES...: gone, for us
            self.close()
            return None
        if not data:
            self.close()
            return None
        return data

    def close(self) -> None:
        """Release the fd (idempotent)."""
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
            self._budget.used -= 1
