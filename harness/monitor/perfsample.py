"""Where the kernel's CPU time goes, sampled by the kernel itself: perf_event cpu-clock samples
with kernel call chains, on every CPU, kept for the monitored threads.

/proc/<tid>/syscall names no call while a thread runs, and /proc/<tid>/stack shows where it
was last switched out: on this kind of machine's kernel (no preemption inside system calls) a
thread that creates files without ever blocking shows "irqentry_exit_to_user_mode" in 27 of
29 stacks while 93% of its CPU time is system time. A cpu-clock sample interrupts the thread
where it is: its kernel chain reads openat -> ext4_create -> __ext4_new_inode. That is the
kernel's evidence for which family of calls its system time served (families.py).

One event per CPU (pid -1), so new threads and processes of the tree need nothing opened;
samples of other tasks are dropped. Needs root (or perf_event_paranoid <= 0 and readable
kernel symbols); where it cannot open, the monitor falls back to stacks and blocked calls.
Only the outermost frames of a chain are kept (the call and the path it took); they are named
at the end, from /proc/kallsyms, whose symbols of interest are cached per boot (reading all
122,000 of them takes ~0.2 s here).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import platform
import struct
from collections import Counter
from pathlib import Path

PAGE = mmap.PAGESIZE
DATA_PAGES = 16  # ring buffer of 64 KB per CPU: ~1.5 s of samples at 200 Hz
PERIOD_NS = 10_000_000  # one sample per 10 ms of CPU, on each busy CPU
KEEP_FRAMES = 8  # outermost kernel frames kept per chain
_NR = {"x86_64": 298, "amd64": 298, "aarch64": 241, "arm64": 241}
_SOFTWARE, _CPU_CLOCK = 1, 0
_SAMPLE_TID, _SAMPLE_CALLCHAIN = 1 << 1, 1 << 5
_EXCLUDE_HV, _EXCLUDE_IDLE, _EXCLUDE_CALLCHAIN_USER = 1 << 6, 1 << 7, 1 << 22
_RECORD_SAMPLE, _RECORD_LOST = 9, 2
_CONTEXT_MARK = 0xFFFFFFFFFFFFF000  # PERF_CONTEXT_* values sit at the top of the u64 range
_CLOEXEC = 1 << 3  # PERF_FLAG_FD_CLOEXEC
_ATTR = struct.Struct("=IIQQQQQIIQQ")  # perf_event_attr up to config2 (PERF_ATTR_SIZE_VER1)
_HEADER = struct.Struct("=IHH")
_META = struct.Struct("=QQQQ")  # data_head, data_tail, data_offset, data_size at offset 1024
_libc = ctypes.CDLL(None, use_errno=True)


class KernelSampler:
    """cpu-clock samples with kernel call chains from every CPU, drained on demand."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.samples = 0
        self.lost = 0
        self._rings: list[tuple[int, mmap.mmap]] = []
        nr = _NR.get(platform.machine().lower())
        if nr is None:
            self.problem = f"no perf_event_open number for {platform.machine()}"
            return
        attr = _ATTR.pack(
            _SOFTWARE, _ATTR.size, _CPU_CLOCK, PERIOD_NS, _SAMPLE_TID | _SAMPLE_CALLCHAIN, 0,
            _EXCLUDE_HV | _EXCLUDE_IDLE | _EXCLUDE_CALLCHAIN_USER, 0, 0, 0, 0,
        )  # fmt: skip
        buf = ctypes.create_string_buffer(attr, len(attr))
        for cpu in range(os.cpu_count() or 1):
            fd = _libc.syscall(nr, buf, -1, cpu, -1, _CLOEXEC)
            if fd < 0:
                err = ctypes.get_errno()
                self.problem = f"perf_event_open: {os.strerror(err)}"
                break
            try:
                ring = mmap.mmap(fd, (1 + DATA_PAGES) * PAGE, mmap.MAP_SHARED)
            except OSError as exc:
                os.close(fd)
                self.problem = f"perf ring buffer: {exc.strerror}"
                break
            self._rings.append((fd, ring))
        if self.problem:
            self.close()

    @property
    def active(self) -> bool:
        return bool(self._rings)

    def drain(self, sink: dict[int, Counter[tuple[int, ...]]]) -> None:
        """Move the samples written since the last call into `sink` (tid -> chains; the empty
        chain is user mode), for the tids it holds; others are dropped."""
        for _, ring in self._rings:
            head, tail, offset, size = _META.unpack_from(ring, 1024)
            offset, size = offset or PAGE, size or DATA_PAGES * PAGE
            while tail < head:
                start = tail % size
                kind, _, length = _HEADER.unpack_from(_record(ring, offset, size, start, 8))
                if length == 0:
                    break
                # Most samples are other programs': look at the tid before copying a chain.
                if kind == _RECORD_SAMPLE and (
                    _tid(ring, offset, size, start) in sink or start + 16 > size
                ):
                    self._sample(_record(ring, offset, size, start, length), sink)
                elif kind == _RECORD_LOST:
                    self.lost += struct.unpack_from(
                        "=Q", _record(ring, offset, size, start, 24), 16
                    )[0]
                tail += length
            struct.pack_into("=Q", ring, 1024 + 8, tail)

    def _sample(self, record: bytes, sink: dict[int, Counter[tuple[int, ...]]]) -> None:
        _pid, tid, nr = struct.unpack_from("=IIQ", record, 8)
        chains = sink.get(tid)
        if chains is None:
            return
        self.samples += 1
        ips = struct.unpack_from(f"={nr}Q", record, 24)
        kernel = [ip for ip in ips if ip < _CONTEXT_MARK]
        chains[tuple(kernel[-KEEP_FRAMES:])] += 1

    def close(self) -> None:
        for fd, ring in self._rings:
            ring.close()
            os.close(fd)
        self._rings = []


def _tid(ring: mmap.mmap, offset: int, size: int, start: int) -> int:
    """The tid of the sample at `start`, read in place (-1 where it wraps round the end)."""
    if start + 16 > size:
        return -1
    return struct.unpack_from("=I", ring, offset + start + 12)[0]


def _record(ring: mmap.mmap, offset: int, size: int, start: int, length: int) -> bytes:
    """`length` bytes of the ring's data area from `start`, wrapping round its end."""
    first = ring[offset + start : offset + min(size, start + length)]
    if len(first) == length:
        return first
    return first + ring[offset : offset + length - len(first)]


# Functions whose presence in a chain says what it was: the syscall entry points (from their
# names), the ways into the kernel other than a syscall, and the socket and pipe paths that
# tell a read or write on a socket from one on a file.
_PREFIXES = (
    b"__x64_sys_", b"__ia32_sys_", b"__arm64_sys_", b"__se_sys_", b"__do_sys_", b"ksys_",
    b"do_syscall_64", b"entry_SYSCALL", b"el0_svc", b"asm_exc_page_fault", b"exc_page_fault",
    b"do_user_addr_fault", b"el0_da", b"sock_", b"tcp_", b"udp_", b"unix_", b"inet_",
    b"pipe_", b"do_sys_openat2", b"do_fsync",
)  # fmt: skip


class KernelSymbols:
    """The kernel functions of interest, as (start, end, name), from /proc/kallsyms."""

    def __init__(self, table: list[tuple[int, int, str]]) -> None:
        self.table = sorted(table)
        self._starts = [start for start, _, _ in self.table]

    @classmethod
    def load(cls, cache_dir: Path) -> KernelSymbols | None:
        """The table for this boot, from the cache or built once; None where kernel addresses
        are hidden (kptr_restrict, not root)."""
        boot = (_read("/proc/sys/kernel/random/boot_id") or "unknown").strip()
        cache = cache_dir / f"kallsyms-{boot}.txt"
        try:
            rows = [line.split(" ", 2) for line in cache.read_text().splitlines()]
            return cls([(int(a, 16), int(b, 16), n) for a, b, n in rows])
        except (OSError, ValueError):
            pass
        table = _scan_kallsyms()
        if not table:
            return None
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text("".join(f"{a:x} {b:x} {n}\n" for a, b, n in table))
            os.replace(tmp, cache)
        except OSError:
            pass  # a read-only cache only costs the next run the scan
        return cls(table)

    def name(self, ip: int) -> str | None:
        """The function of interest holding `ip`, if any."""
        import bisect

        i = bisect.bisect_right(self._starts, ip) - 1
        if i >= 0 and ip < self.table[i][1]:
            return self.table[i][2]
        return None


def _scan_kallsyms() -> list[tuple[int, int, str]]:
    try:
        data = Path("/proc/kallsyms").read_bytes()
    except OSError:
        return []
    text: list[tuple[int, bytes]] = []
    for line in data.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[1] in (b"t", b"T"):
            text.append((int(parts[0], 16), parts[2]))
    if not text or all(addr == 0 for addr, _ in text[:100]):
        return []
    text.sort()
    return [
        (addr, text[i + 1][0] if i + 1 < len(text) else addr + 4096, name.decode())
        for i, (addr, name) in enumerate(text)
        if name.startswith(_PREFIXES)
    ]


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None
