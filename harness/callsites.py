"""Every call site its own split: the profiler says where a thread was, the monitor how long
and on what.

A profiler's sample says which line a thread was on, not whether that line was computing,
flushing or waiting (a sampler that calls a thread active when its state is R calls a thread
inside fsync active for much of the flush). The monitor knows each thread's time by cause
exactly enough, but not by line. Joined per thread: each cause's seconds go to the samples of
that thread whose line can be spending them, in proportion to their counts; a line that calls
os.fsync gets the thread's device waits and its kernel flush, a line in json.dumps its
user-mode CPU. Which causes a line can spend is read from the line's source (and from a native
leaf frame, where the profiler recorded them): `hints`. Time with no line that hints at it (a
wait the source does not show) goes to all the thread's samples alike, so nothing is lost:
the call sites' seconds add up to the threads' time.
"""

from __future__ import annotations

import linecache
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.stacks import Stacks, is_process_frame, is_thread_frame, split_frame

CPU = "cpu"
ANY = "any"
# What a line's source (or a native frame's name) says it can spend time on, most specific
# first. A line may carry several (`with open(p) as f: f.write(s)`).
HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("durability", re.compile(r"\b(fsync|fdatasync|sync_file_range|syncfs|msync)\b")),
    ("sleep", re.compile(r"\b(sleep|nanosleep|clock_nanosleep)\b")),
    (
        "network",
        re.compile(
            r"\b(recv|recv_into|recvfrom|recvmsg|send|sendall|sendto|sendmsg|connect|accept|"
            r"urlopen|getresponse|create_connection|epoll_wait|poll|select|_run_once|"
            r"sock_\w+|request|getaddrinfo)\s*\("
        ),
    ),
    (
        "lock",
        re.compile(
            r"(\.(acquire|wait|join|result|wait_for)\s*\(|\bwith\s+[\w.]*lock\b|"
            r"\b(pthread_cond_\w*wait|sem_\w*wait|futex\w*|__lll_lock_wait)\b)"
        ),
    ),
    ("processes", re.compile(r"\b(Popen|fork|posix_spawn|communicate|waitpid|subprocess\.\w+)")),
    (
        "metadata",
        re.compile(
            r"\b(open|open64|openat|mkdir|makedirs|rename|replace|unlink|remove|rmdir|stat|"
            r"lstat|fstat|scandir|listdir|exists|is_file|is_dir|iterdir|glob|touch|close|chmod|"
            r"mkstemp|TemporaryDirectory|NamedTemporaryFile|rmtree)\s*\("
        ),
    ),
    (
        "file_data",
        re.compile(
            r"\b(write|read|readline|readlines|readinto|writelines|pread|pwrite|pread64|"
            r"pwrite64|sendfile|copyfileobj|copyfile|copy2?|dump|write_text|write_bytes|"
            r"read_text|read_bytes|flush|__libc_write|__libc_read)\s*\("
        ),
    ),
)
# Native leaf frames have no parentheses after their name: match those names whole.
_NATIVE_CALL = re.compile(r"^(?:__GI_|__libc_|__)?(\w+?)(?:64)?$")
# A cause's channel: the hint a line must carry to be spending it (ANY: every line can).
_CHANNEL = {
    "python": CPU,
    "native": CPU,
    "unattributed": CPU,
    "kernel:memory": CPU,
    "kernel:other": CPU,
    "kernel:file_data": "file_data",
    "kernel:durability": "durability",
    "kernel:metadata": "metadata",
    "kernel:network": "network",
    "kernel:processes": "processes",
    "network": "network",
    "lock": "lock",
    "sleep": "sleep",
    "child": "processes",
    "gil": ANY,
    "queued": ANY,
    "other": ANY,
}
TOP = 10
ANCESTORS = 3


@dataclass
class CallSite:
    """One innermost Python frame: its wall time (its samples' share of their threads' time)
    and that time by cause."""

    where: str
    wall_s: float = 0.0
    causes: Counter[str] = field(default_factory=Counter)


@dataclass
class Joined:
    """The join's result: call sites, and each stack's seconds by cause (for a flame graph
    whose widths are wall time and whose colours are causes)."""

    sites: dict[str, CallSite] = field(default_factory=dict)
    stacks: dict[tuple[str, ...], Counter[str]] = field(default_factory=dict)
    threads_joined: int = 0
    threads_without_causes: int = 0

    def top(self, n: int = TOP) -> list[CallSite]:
        return sorted(self.sites.values(), key=lambda s: -s.wall_s)[:n]


Resolve = Callable[[str], str | None]


def resolver(roots: list[Path]) -> Resolve:
    """A function from a profiler's (often shortened) file name to a readable path: as is,
    or under one of `roots` or their parents up to ANCESTORS levels (a sampler may shorten a
    file name by the target's sys.path entry that holds it: the script's directory, a
    package's parent), or under the harness's sys.path (the same standard library and
    site-packages when the target ran on this interpreter)."""
    bases = [p for root in roots for p in [root, *root.parents[:ANCESTORS]]]
    bases += [Path(p) for p in sys.path if p]
    cache: dict[str, str | None] = {}

    def resolve(name: str) -> str | None:
        if name not in cache:
            candidates = [Path(name)] if Path(name).is_absolute() else []
            candidates += [base / name for base in bases]
            cache[name] = next((str(p) for p in candidates if p.is_file()), None)
        return cache[name]

    return resolve


def hints_of(stack: tuple[str, ...], resolve: Resolve) -> frozenset[str]:
    """The channels the innermost frames of `stack` can spend time on: the innermost Python
    line's source, and any native frames below it (native=1 recordings)."""
    found: set[str] = set()
    for frame in reversed(stack):
        name, file, line = split_frame(frame)
        if file is None or line is None:  # a native frame, or an unlocated one
            call = _NATIVE_CALL.match(name.split(" ")[0])
            if call:
                found |= _match(call.group(1) + "(")
            continue
        path = resolve(file)
        source = linecache.getline(path, line) if path else ""
        found |= _match(source or name + "(")
        break
    return frozenset(found)


def _match(text: str) -> set[str]:
    return {channel for channel, pattern in HINTS if pattern.search(text)}


def join(stacks: Stacks, thread_causes: list[dict[str, Any]], resolve: Resolve) -> Joined:
    """Give each sample of each thread the thread's causes its line can spend (see module)."""
    by_tid = {int(t["tid"]): t for t in thread_causes}
    per_thread: dict[int | None, dict[tuple[str, ...], int]] = defaultdict(dict)
    for stack, count in stacks.items():
        tid, body = _thread_of(stack)
        if body:
            per_thread[tid][body] = per_thread[tid].get(body, 0) + count
    out = Joined()
    hint_cache: dict[tuple[str, ...], frozenset[str]] = {}
    for tid, samples in per_thread.items():
        entry = by_tid.get(tid) if tid is not None else None
        if entry is None:
            out.threads_without_causes += 1
            continue
        out.threads_joined += 1
        hints = {s: hint_cache.setdefault(s, hints_of(s, resolve)) for s in samples}
        for stack, seconds in _spread(samples, hints, entry).items():
            _add(out, stack, seconds)
    return out


def _thread_of(stack: tuple[str, ...]) -> tuple[int | None, tuple[str, ...]]:
    """(thread id from the `thread (TID)` root frame, the frames below the root ones)."""
    tid = None
    i = 0
    while i < len(stack) and (is_process_frame(stack[i]) or is_thread_frame(stack[i])):
        if is_thread_frame(stack[i]):
            tid = int(stack[i].split("(", 1)[1].split(")", 1)[0])
        i += 1
    return tid, stack[i:]


def _spread(
    samples: dict[tuple[str, ...], int],
    hints: dict[tuple[str, ...], frozenset[str]],
    entry: dict[str, Any],
) -> dict[tuple[str, ...], Counter[str]]:
    """One thread's seconds by cause, spread over its stacks."""
    out: dict[tuple[str, ...], Counter[str]] = {s: Counter() for s in samples}
    for cause, seconds in _channelled(entry).items():
        cause_name, channel = cause
        holders = {s: n for s, n in samples.items() if _can_spend(hints[s], channel)}
        if not holders:  # no line shows it: every line alike
            holders = samples
        weight = sum(holders.values())
        for stack, n in holders.items():
            out[stack][cause_name] += seconds * n / weight
    return out


def _can_spend(hints: frozenset[str], channel: str) -> bool:
    if channel == ANY:
        return True
    if channel == CPU:  # user-mode CPU: lines that are not a bare wait or flush, which cost
        # Python next to nothing (os.fsync(fd)); a write of something encoded on the same
        # line may compute too
        return not hints or bool(hints & _MAY_COMPUTE)
    return channel in hints


_MAY_COMPUTE = frozenset({"file_data", "metadata", "processes"})


def _channelled(entry: dict[str, Any]) -> dict[tuple[str, str], float]:
    """The thread's seconds as (cause, channel); its device waits by the family that waited."""
    out: dict[tuple[str, str], float] = {}
    causes = dict(entry.get("causes") or {})
    device = causes.pop("device", 0.0)
    by_family = entry.get("device") or {}
    spread = sum(by_family.values())
    for family, s in by_family.items() if spread else ():  # all zero: no family to split by
        channel = family if family in ("durability", "file_data", "metadata") else ANY
        out[("device", channel)] = out.get(("device", channel), 0.0) + device * s / spread
    if device and not spread:
        out[("device", ANY)] = device
    for cause, s in causes.items():
        out[(cause, _CHANNEL.get(cause, ANY))] = s
    return out


def _add(out: Joined, stack: tuple[str, ...], seconds: Counter[str]) -> None:
    out.stacks[stack] = out.stacks.get(stack, Counter()) + seconds
    where = _site(stack)
    site = out.sites.setdefault(where, CallSite(where))
    site.wall_s += sum(seconds.values())
    site.causes.update(seconds)


def _site(stack: tuple[str, ...]) -> str:
    """The innermost Python frame, as `file:line function`."""
    for frame in reversed(stack):
        name, file, line = split_frame(frame)
        if file is not None and line is not None and file.endswith(".py"):
            return f"{file}:{line} {name}"
    return split_frame(stack[-1])[0] if stack else "?"


def summary_rows(joined: Joined, family: Callable[[str], str], n: int = TOP) -> list[dict]:
    """The top call sites for summary.json: wall time, share, seconds by cause, and shares by
    family of the time not spent queued for a CPU (the machine's, as in the verdict)."""
    total = sum(s.wall_s for s in joined.sites.values()) or 1.0
    rows = []
    for site in joined.top(n):
        families: Counter[str] = Counter()
        for cause, s in site.causes.items():
            if cause != "queued":
                families[family(cause)] += s
        own = sum(families.values())
        rows.append(
            {
                "where": site.where,
                "wall_s": round(site.wall_s, 4),
                "share": round(site.wall_s / total, 4),
                "queued_s": round(site.causes.get("queued", 0.0), 4),
                "causes": {k: round(v, 4) for k, v in site.causes.most_common() if v > 0},
                "families": {
                    k: round(v / own, 4) if own else 0.0 for k, v in families.most_common() if v > 0
                },
            }
        )
    return rows


def by_family(joined: Joined, family: Callable[[str], str]) -> dict[tuple[str, ...], Counter[str]]:
    """Each stack's seconds by family of causes (the cause-coloured flame graph's data)."""
    out: dict[tuple[str, ...], Counter[str]] = {}
    for stack, seconds in joined.stacks.items():
        families: Counter[str] = Counter()
        for cause, s in seconds.items():
            families[family(cause)] += s
        out[stack] = families
    return out
