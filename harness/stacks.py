"""The stack model: folded stacks, the process and thread frames a sampler may put at their
roots, which stacks are waiting, and the call tree two profiles are compared on.

Folded stacks are what sampling profilers' raw output and flamegraph.pl's stackcollapse write:
one line per distinct stack, frames root first joined by ';', a space, then a sample count.
Reading them here rather than in one profiler's adapter means any tool that gives folded stacks
gets the same flame graph, attribution and comparison, without profiling again.

Waiting: a stack counts as waiting when its innermost named frame is a call known to block (lock
and condition waits, joins, selectors, socket accept/recv, child-process waits and, with native
frames, the C functions under sleep, select and locks). A blocking C call made straight from user
code (time.sleep, a file read) leaves the caller as the leaf and cannot be recognised without
native frames, so the waiting share read from stacks is a lower bound.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

Stacks = dict[tuple[str, ...], int]


@dataclass
class RunStacks:
    """A run's stacks (root first, process and thread frames included) with their weight,
    as the tool that recorded them gives them (Tool.stacks)."""

    name: str
    stacks: Stacks
    unit: str  # "samples" | "us"
    rate_hz: float | None  # samples per second, for "samples"
    source: str  # the file(s) they came from
    trace_path: Path | None = None  # a Chrome trace the tool itself wrote


_PROCESS = re.compile(r'^process (\d+):"(.*)"$', re.DOTALL)
_PROCESS_OPEN = re.compile(r'^process \d+:"')
_PROCESS_CLOSED = re.compile(r'^process \d+:".*"(;| \d+$)')
_THREAD = re.compile(r"^thread \(\d+\)")
_LOCATED = re.compile(r"^(?P<name>.+?) \((?P<loc>.*)\)$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]+$")

# Python frames (file suffix -> simple function names) whose leaf position means a blocking call.
_WAITING_PY: dict[str, frozenset[str]] = {
    "threading.py": frozenset({"wait", "join", "_wait_for_tstate_lock"}),
    "selectors.py": frozenset({"select"}),
    "socket.py": frozenset({"accept", "readinto", "create_connection"}),
    "subprocess.py": frozenset({"_try_wait"}),
    "multiprocessing/connection.py": frozenset({"_recv"}),
    "multiprocessing/queues.py": frozenset({"get"}),
    "multiprocessing/popen_fork.py": frozenset({"poll"}),
    "concurrent/futures/thread.py": frozenset({"_worker"}),
}
# Native frames (when the sampler records them) that block.
_WAITING_NATIVE = frozenset(
    {
        "time_sleep", "pysleep", "nanosleep", "clock_nanosleep", "__clock_nanosleep",
        "select", "__select", "poll", "__poll", "ppoll", "epoll_wait", "epoll_pwait",
        "select_select_impl", "select_poll_poll_impl", "select_epoll_poll_impl",
        "PyThread_acquire_lock_timed", "lock_PyThread_acquire_lock", "rlock_acquire",
        "acquire_timed", "take_gil", "pthread_cond_wait", "pthread_cond_timedwait",
        "sem_wait", "sem_timedwait", "sem_clockwait", "do_futex_wait",
        "__futex_abstimed_wait_common", "accept", "accept4", "recv", "recvfrom", "recvmsg",
        "connect", "sock_accept", "sock_recv", "sock_recv_into", "sock_recvfrom",
        "sock_connect", "waitpid", "wait4", "os_waitpid_impl", "fsync", "fdatasync",
        "_queue_SimpleQueue_get_impl",
    }
)  # fmt: skip


# -- folded text --------------------------------------------------------------------------------


def parse_folded(text: str, *, malformed: list[str] | None = None) -> Stacks:
    """Folded text -> {stack (root first): samples}; bad lines are skipped (and appended to
    `malformed` if given), so a truncated file still yields what it holds."""
    stacks: Stacks = {}
    for raw in _records(text):
        line = raw.strip()
        if not line:
            continue
        stack_text, _, count_text = line.rpartition(" ")
        try:
            count = int(count_text)
        except ValueError:
            count = -1
        if count < 0:
            if malformed is not None:
                malformed.append(raw)
            continue
        if count:
            frames = _split_stack(stack_text)
            stacks[frames] = stacks.get(frames, 0) + count
    return stacks


def _records(text: str) -> Iterator[str]:
    """The folded text's lines, with a process frame whose command line held newlines (py-spy
    writes `python -c` code as it is) joined back into one line, the newlines made spaces."""
    lines = iter(text.splitlines())
    for line in lines:
        held = 0
        while _PROCESS_OPEN.match(line) and not _PROCESS_CLOSED.match(line) and held < 256:
            following = next(lines, None)
            if following is None:
                break
            line, held = f"{line} {following}", held + 1
        yield line


def _split_stack(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    parts = text.split(";")
    frames: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        # A process frame quotes its command line, which may itself hold ';'.
        if _PROCESS_OPEN.match(part) and _PROCESS.match(part) is None:
            while i + 1 < len(parts) and _PROCESS.match(part) is None:
                i += 1
                part += ";" + parts[i]
        frames.append(part)
        i += 1
    return tuple(frames)


def to_folded(stacks: Stacks) -> str:
    """The inverse of parse_folded (lines sorted, so output is stable)."""
    return "".join(f"{';'.join(stack)} {count}\n" for stack, count in sorted(stacks.items()))


# -- frames -------------------------------------------------------------------------------------


def split_frame(frame: str) -> tuple[str, str | None, int | None]:
    """'func (file.py:12)' -> ('func', 'file.py', 12); other frames -> (frame, None, None)."""
    if is_root_frame(frame):
        return frame, None, None
    match = _LOCATED.match(frame)
    if match is None:
        return frame, None, None
    loc = match["loc"]
    file, sep, line = loc.rpartition(":")
    if sep and line.isdigit():
        return match["name"], file, int(line)
    return match["name"], loc, None


def is_thread_frame(frame: str) -> bool:
    return _THREAD.match(frame) is not None


def is_process_frame(frame: str) -> bool:
    return _PROCESS.match(frame) is not None


def is_root_frame(frame: str) -> bool:
    """A `process PID:"cmd"` or `thread (TID)[: name]` frame a sampler puts at the root."""
    return is_thread_frame(frame) or is_process_frame(frame)


def root_frames(stack: Iterable[str]) -> list[str]:
    """The leading process and thread frames of a stack."""
    roots = []
    for frame in stack:
        if not is_root_frame(frame):
            break
        roots.append(frame)
    return roots


def root_id(frame: str) -> str:
    """What identifies a root frame: `process PID` or `thread (TID)` (a thread's name may come
    later in the run than its first samples)."""
    if (process := _PROCESS.match(frame)) is not None:
        return f"process {process[1]}"
    thread = _THREAD.match(frame)
    return thread[0] if thread else frame


def root_label(frame: str) -> str:
    """A root frame for people: a process frame's command line cut to 60 characters."""
    match = _PROCESS.match(frame)
    if match is None:
        return frame
    command = match[2] if len(match[2]) <= 60 else match[2][:58] + ".."
    return f"process {match[1]} {command}".rstrip()


# -- stacks -------------------------------------------------------------------------------------


def total_samples(stacks: Stacks) -> int:
    return sum(stacks.values())


def strip_roots(stacks: Stacks, predicate: Callable[[str], bool] = is_root_frame) -> Stacks:
    """Drop leading frames matching `predicate` and merge what becomes equal (threads merged)."""
    merged: Stacks = {}
    for stack, count in stacks.items():
        i = 0
        while i < len(stack) and predicate(stack[i]):
            i += 1
        merged[stack[i:]] = merged.get(stack[i:], 0) + count
    return merged


def top_frames(stacks: Stacks, n: int = 10) -> list[tuple[str, int]]:
    """The `n` leaf frames with the most self samples, most first (ties by name)."""
    self_samples: dict[str, int] = {}
    for stack, count in stacks.items():
        if stack:
            self_samples[stack[-1]] = self_samples.get(stack[-1], 0) + count
    return sorted(self_samples.items(), key=lambda item: (-item[1], item[0]))[:n]


@functools.lru_cache(maxsize=8192)
def is_waiting_frame(frame: str) -> bool:
    """True for a frame that, as the innermost one, means the thread is blocked."""
    name, file, _ = split_frame(frame)
    if file is None or not _is_python_file(file):
        return name in _WAITING_NATIVE
    simple = name.rpartition(".")[2]
    return any(file.endswith(suffix) and simple in names for suffix, names in _WAITING_PY.items())


def is_waiting_stack(stack: tuple[str, ...]) -> bool:
    """Whether the innermost named frame (unsymbolised addresses skipped) is a waiting call."""
    for frame in reversed(stack):
        if is_root_frame(frame):
            return False
        if _ADDRESS.match(split_frame(frame)[0]) is None:
            return is_waiting_frame(frame)
    return False


def waiting_samples(stacks: Stacks) -> int:
    return sum(count for stack, count in stacks.items() if is_waiting_stack(stack))


def _is_python_file(file: str) -> bool:
    return file.endswith(".py") or file.startswith("<")


# -- the call tree and the difference of two ------------------------------------------------------


@dataclass
class Node:
    """One frame of the call tree: its samples (callees included) and how many were waiting."""

    name: str
    total: int = 0
    waiting: int = 0
    children: dict[str, Node] = field(default_factory=dict)

    def samples_at(self, path: tuple[str, ...]) -> int:
        """Samples of the frame reached by `path` (frames below this node), 0 if absent."""
        node: Node | None = self
        for frame in path:
            node = node.children.get(frame) if node else None
        return node.total if node else 0


def build_tree(stacks: Stacks) -> Node:
    """The call tree of `stacks` under a root named "all"."""
    root = Node("all")
    for stack, count in stacks.items():
        if count <= 0:
            continue
        waiting = count if is_waiting_stack(stack) else 0
        node = root
        node.total += count
        node.waiting += waiting
        for frame in stack:
            child = node.children.get(frame)
            if child is None:
                child = node.children[frame] = Node(frame)
            node = child
            node.total += count
            node.waiting += waiting
    return root


@dataclass(frozen=True)
class Gone:
    """A call path found only in the profile before: `name` called from `caller`."""

    name: str
    caller: str
    samples: int


@dataclass
class StackDiff:
    """Two profiles' call trees, compared by each frame's share of all samples."""

    before: Node
    after: Node

    def share_before(self, path: tuple[str, ...]) -> float:
        return _share(self.before.samples_at(path), self.before)

    def share_after(self, path: tuple[str, ...]) -> float:
        return _share(self.after.samples_at(path), self.after)

    def delta(self, path: tuple[str, ...]) -> float:
        """How much the frame's share of all samples grew (negative: shrank)."""
        return self.share_after(path) - self.share_before(path)

    def gone(self) -> list[Gone]:
        """Call paths of before that after lacks (their callees not listed again), largest first."""
        found: list[Gone] = []
        todo = [(self.before, self.after)]
        while todo:
            old, new = todo.pop()
            for name, child in old.children.items():
                if name in new.children:
                    todo.append((child, new.children[name]))
                else:
                    found.append(Gone(name, old.name, child.total))
        return sorted(found, key=lambda g: (-g.samples, g.name))


def diff(before: Stacks, after: Stacks) -> StackDiff:
    return StackDiff(build_tree(before), build_tree(after))


def _share(count: int, root: Node) -> float:
    return count / root.total if root.total else 0.0
