"""Folded stacks -> flame graph SVG, differential flame graph SVG and speedscope JSON.

Folded stacks are what py-spy's `--format raw` writes (and flamegraph.pl's stackcollapse tools):
one line per distinct stack, frames root first joined by ';', a space, then a sample count.
Rendering here rather than by the profiler means any tool that gives folded stacks gets the same
graph, and a run can be re-rendered or compared with another without profiling again.

Waiting: a stack counts as waiting when its innermost named frame is a call known to block (lock
and condition waits, joins, selectors, socket accept/recv, child-process waits and, with native
frames, the C functions under sleep, select and locks). A frame is drawn blue when every sample
under it is waiting, so a parked thread shows as a blue tower. A blocking C call made straight
from user code (time.sleep, a file read) leaves the caller as the leaf and cannot be recognised
without native frames, so the waiting share read from stacks is a lower bound.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

Stacks = dict[tuple[str, ...], int]

SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json"
#: Frames narrower than this share of all samples are left out of an SVG (and their callees).
MIN_SHARE = 0.001
#: A diff colours its largest change at full strength, but never treats less than this change
#: in share (1 percentage point) as large, so noise between similar runs stays pale.
DIFF_FLOOR = 0.01

_PAD = 10
_FRAME_H = 16
_FONT = 11
_CHAR_W = _FONT * 0.59
_MAX_NOTES = 8

_PROCESS = re.compile(r'^process (\d+):"(.*)"$', re.DOTALL)
_PROCESS_OPEN = re.compile(r'^process \d+:"')
_THREAD = re.compile(r"^thread \(\d+\)")
_LOCATED = re.compile(r"^(?P<name>.+?) \((?P<loc>.*)\)$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]+$")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

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
# Native frames (with py-spy --native) that block.
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


# -- parsing and helpers ------------------------------------------------------------------------


def parse_folded(text: str, *, malformed: list[str] | None = None) -> Stacks:
    """Folded text -> {stack (root first): samples}; bad lines are skipped (and appended to
    `malformed` if given), so a truncated file still yields what it holds."""
    stacks: Stacks = {}
    for raw in text.splitlines():
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
    """A `process PID:"cmd"` or `thread (TID)[: name]` frame py-spy puts at the root."""
    return is_thread_frame(frame) or is_process_frame(frame)


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


# -- layout -------------------------------------------------------------------------------------


@dataclass
class _Node:
    name: str
    total: int = 0
    waiting: int = 0
    children: dict[str, _Node] = field(default_factory=dict)


@dataclass(frozen=True)
class _Box:
    path: tuple[str, ...]
    node: _Node
    depth: int
    start: int


def _build_tree(stacks: Stacks) -> _Node:
    root = _Node("all")
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
                child = node.children[frame] = _Node(frame)
            node = child
            node.total += count
            node.waiting += waiting
    return root


def _layout(root: _Node) -> list[_Box]:
    """Boxes for every frame wide enough, children in alphabetical order like flamegraph.pl."""
    min_samples = root.total * MIN_SHARE
    boxes: list[_Box] = []
    todo = [_Box((), root, 0, 0)]
    while todo:
        box = todo.pop()
        boxes.append(box)
        offset = box.start
        for name in sorted(box.node.children):
            child = box.node.children[name]
            if child.total >= min_samples:
                todo.append(_Box((*box.path, name), child, box.depth + 1, offset))
            offset += child.total
    return boxes


# -- SVG ----------------------------------------------------------------------------------------


def render_svg(
    stacks: Stacks, title: str, *, subtitle: str | None = None, width: int = 1200
) -> str:
    """A flame graph: root at the bottom, widths proportional to samples, click a frame to zoom."""
    root = _build_tree(stacks)
    total = root.total

    def fill(box: _Box) -> str:
        node = box.node
        if node.total and node.waiting == node.total:
            return _cool(node.name)
        if not box.path or is_root_frame(node.name):
            return _grey(node.name)
        return _warm(node.name)

    def tooltip(box: _Box) -> str:
        n = box.node.total
        return f"{box.node.name} ({n} samples, {100 * n / total:.2f}%)"

    return _render(_layout(root), total, title, subtitle, width, fill, tooltip, [])


def render_diff_svg(
    before: Stacks, after: Stacks, title: str, *, subtitle: str | None = None, width: int = 1200
) -> str:
    """A differential flame graph: the shape of `after`, each frame red where its share of all
    samples grew since `before` and blue where it shrank; call paths found only in `before` are
    listed as text under the graph (largest first)."""
    root, old_root = _build_tree(after), _build_tree(before)
    boxes = _layout(root)
    old = {box.path: _find(old_root, box.path) for box in boxes}

    def share(count: int, node: _Node) -> float:
        return count / node.total if node.total else 0.0

    deltas = {
        box.path: share(box.node.total, root) - share(old[box.path], old_root) for box in boxes
    }
    scale = max([DIFF_FLOOR, *(abs(d) for d in deltas.values())])

    def fill(box: _Box) -> str:
        return _diff_colour(deltas[box.path] / scale)

    def tooltip(box: _Box) -> str:
        nb, na = old[box.path], box.node.total
        return (
            f"{box.node.name} (before {nb} = {100 * share(nb, old_root):.2f}%, "
            f"after {na} = {100 * share(na, root):.2f}%, {100 * deltas[box.path]:+.2f} pp)"
        )

    if subtitle is None:
        subtitle = (
            f"{old_root.total} samples before, {root.total} after; shape from after; "
            "red: share grew, blue: share shrank"
        )
    notes = _gone_notes(old_root, root, width)
    return _render(boxes, root.total, title, subtitle, width, fill, tooltip, notes)


def _find(root: _Node, path: tuple[str, ...]) -> int:
    node: _Node | None = root
    for frame in path:
        node = node.children.get(frame) if node else None
    return node.total if node else 0


def _gone_notes(before: _Node, after: _Node, width: int) -> list[str]:
    gone: list[tuple[int, str, str]] = []
    todo = [(before, after)]
    while todo:
        old, new = todo.pop()
        for name, child in old.children.items():
            if name in new.children:
                todo.append((child, new.children[name]))
            else:
                gone.append((child.total, name, old.name))
    if not gone:
        return []
    gone.sort(key=lambda item: (-item[0], item[1]))
    chars = int((width - 2 * _PAD) / _CHAR_W)
    notes = ["Call paths only in before (largest first):"]
    for count, name, caller in gone[:_MAX_NOTES]:
        share = 100 * count / before.total
        notes.append(
            _truncate(f"{name} under {caller}: {count} samples, {share:.2f}% of before", chars)
        )
    if len(gone) > _MAX_NOTES:
        notes.append(f"... and {len(gone) - _MAX_NOTES} more")
    return notes


def _render(
    boxes: list[_Box],
    total: int,
    title: str,
    subtitle: str | None,
    width: int,
    fill: Callable[[_Box], str],
    tooltip: Callable[[_Box], str],
    notes: list[str],
) -> str:
    graph_w = width - 2 * _PAD
    top = 58 if subtitle else 40
    max_depth = max((box.depth for box in boxes), default=0)
    graph_bottom = top + (max_depth + 1) * _FRAME_H
    height = graph_bottom + 30 + len(notes) * 15
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">',
        f"<style>{_CSS}</style>",
        f'<rect width="{width}" height="{height}" fill="#fafafa"/>',
        f'<text class="title" x="{width / 2}" y="24">{_text(title)}</text>',
    ]
    if subtitle:
        out.append(f'<text class="sub" x="{width / 2}" y="44">{_text(subtitle)}</text>')
    out.append(f'<text id="reset" class="btn" x="{_PAD}" y="24">Reset zoom</text>')
    if total <= 0:
        out.append(f'<text class="sub" x="{width / 2}" y="{graph_bottom}">no samples</text>')
    out.append('<g id="frames">')
    for box in boxes if total > 0 else []:
        x = _PAD + graph_w * box.start / total
        w = graph_w * box.node.total / total
        y = graph_bottom - (box.depth + 1) * _FRAME_H
        ident = ' id="root"' if not box.path else ""
        out.append(
            f'<g class="f"{ident}><title>{_text(tooltip(box))}</title>'
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{_FRAME_H - 1}" rx="2" '
            f'fill="{fill(box)}"/><text x="{x + 3:.1f}" y="{y + _FONT}">'
            f"{_text(_label(box.node.name, w))}</text></g>"
        )
    out.append("</g>")
    out.append(f'<text id="details" x="{_PAD}" y="{graph_bottom + 20}"> </text>')
    for i, note in enumerate(notes):
        y = graph_bottom + 42 + i * 15
        out.append(f'<text class="note" x="{_PAD}" y="{y}">{_text(note)}</text>')
    script = _SCRIPT.replace("@W@", str(graph_w)).replace("@PAD@", str(_PAD))
    script = script.replace("@CW@", f"{_CHAR_W:.3f}")
    out.append(f'<script type="text/ecmascript"><![CDATA[{script}]]></script>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _label(name: str, width: float) -> str:
    return _truncate(name, int((width - 6) / _CHAR_W))


def _truncate(text: str, chars: int) -> str:
    if chars < 3:
        return ""
    return text if len(text) <= chars else text[: chars - 2] + ".."


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("?", value))


def _digest(name: str) -> tuple[float, float, float]:
    key = split_frame(name)[0]
    h = hashlib.md5(key.encode("utf-8", "replace")).digest()
    return h[0] / 255, h[1] / 255, h[2] / 255


def _warm(name: str) -> str:
    a, b, c = _digest(name)
    return f"rgb({205 + int(50 * a)},{int(60 + 150 * b)},{int(55 * c)})"


def _cool(name: str) -> str:
    a, b, _ = _digest(name)
    return f"rgb({int(70 + 50 * a)},{int(140 + 50 * b)},{int(215 + 40 * a)})"


def _grey(name: str) -> str:
    level = int(190 + 30 * _digest(name)[0])
    return f"rgb({level},{level},{level + 10})"


def _diff_colour(change: float) -> str:
    """-1 (shrank most) blue .. 0 near-white .. +1 (grew most) red."""
    t = min(1.0, abs(change))
    fade = int(245 - 190 * t)
    return f"rgb(255,{fade},{fade})" if change > 0 else f"rgb({fade},{fade},255)"


_CSS = (
    "text{font-family:Verdana,sans-serif;font-size:11px;fill:#000}"
    ".title{font-size:17px;text-anchor:middle}.sub{font-size:12px;fill:#555;text-anchor:middle}"
    ".btn{cursor:pointer;fill:#247}.note{fill:#333}"
    "g.f{cursor:pointer}g.f text{pointer-events:none}g.f:hover rect{stroke:#000;stroke-width:.6}"
)

# Click a frame to zoom to it (its callers stay, faded, spanning the width); "Reset zoom" undoes.
_SCRIPT = """
(function () {
  var W = @W@, PAD = @PAD@, CW = @CW@;
  var frames = Array.prototype.slice.call(document.querySelectorAll("g.f"));
  frames.forEach(function (g) {
    var r = g.querySelector("rect");
    g._x = +r.getAttribute("x"); g._w = +r.getAttribute("width"); g._y = +r.getAttribute("y");
    g._name = g.querySelector("title").textContent.replace(/ \\([^()]*\\)$/, "");
  });
  function label(name, w) {
    var n = Math.floor((w - 6) / CW);
    if (n < 3) return "";
    return name.length <= n ? name : name.slice(0, n - 2) + "..";
  }
  function place(g, x, w, show, faded) {
    g.style.display = show ? "" : "none";
    if (!show) return;
    var r = g.querySelector("rect"), t = g.querySelector("text");
    r.setAttribute("x", x.toFixed(1)); r.setAttribute("width", w.toFixed(1));
    t.setAttribute("x", (x + 3).toFixed(1)); t.textContent = label(g._name, w);
    g.style.opacity = faded ? "0.6" : "";
  }
  function zoom(target) {
    var tx = target._x, tw = target._w, ty = target._y, k = W / tw, eps = 0.05;
    frames.forEach(function (g) {
      if (g._y > ty) {
        place(g, PAD, W, g._x <= tx + eps && g._x + g._w >= tx + tw - eps, true);
      } else {
        var inside = g._x >= tx - eps && g._x + g._w <= tx + tw + eps;
        place(g, PAD + (g._x - tx) * k, g._w * k, inside, false);
      }
    });
  }
  function frameOf(e) { return e.target.closest ? e.target.closest("g.f") : null; }
  var holder = document.getElementById("frames"), details = document.getElementById("details");
  holder.addEventListener("click", function (e) { var g = frameOf(e); if (g) zoom(g); });
  holder.addEventListener("mouseover", function (e) {
    var g = frameOf(e); if (g) details.textContent = g.querySelector("title").textContent;
  });
  var root = document.getElementById("root"), reset = document.getElementById("reset");
  reset.addEventListener("click", function () { if (root) zoom(root); });
})();
"""


# -- speedscope ---------------------------------------------------------------------------------


def to_speedscope(stacks: Stacks, name: str) -> dict[str, Any]:
    """A speedscope file: one 'sampled' profile per thread (per process and thread id when stacks
    carry py-spy's root frames; busiest first), else one; each distinct stack is one sample
    weighted by its count (unit 'none': samples)."""
    frames: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    by_thread = any(is_thread_frame(f) for stack in stacks for f in _roots(stack))
    groups: dict[tuple[str, ...], list[tuple[tuple[str, ...], int]]] = {}
    labels: dict[tuple[str, ...], tuple[str, ...]] = {}
    for stack, count in stacks.items():
        if count > 0:
            roots = _roots(stack) if by_thread else []
            # py-spy names a thread only once Python knows its name: one thread, two labels.
            key = tuple(_root_id(f) for f in roots)
            groups.setdefault(key, []).append((stack[len(roots) :], count))
            labels[key] = max(labels.get(key, ()), tuple(roots), key=lambda r: sum(map(len, r)))
    if not groups:
        groups[()] = []
    profiles = []
    ordered = sorted(groups.items(), key=lambda item: (-sum(c for _, c in item[1]), item[0]))
    for key, samples in ordered:
        weights = [count for _, count in samples]
        profiles.append(
            {
                "type": "sampled",
                "name": " / ".join(_root_label(f) for f in labels.get(key, ())) or name,
                "unit": "none",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": [[_frame_index(f, frames, index) for f in s] for s, _ in samples],
                "weights": weights,
            }
        )
    return {
        "$schema": SPEEDSCOPE_SCHEMA,
        "shared": {"frames": frames},
        "profiles": profiles,
        "name": name,
        "activeProfileIndex": 0,
        "exporter": "pipeprof",
    }


def _roots(stack: Iterable[str]) -> list[str]:
    roots = []
    for frame in stack:
        if not is_root_frame(frame):
            break
        roots.append(frame)
    return roots


def _root_id(frame: str) -> str:
    if (process := _PROCESS.match(frame)) is not None:
        return f"process {process[1]}"
    thread = _THREAD.match(frame)
    return thread[0] if thread else frame


def _root_label(frame: str) -> str:
    match = _PROCESS.match(frame)
    if match is None:
        return frame
    command = match[2] if len(match[2]) <= 60 else match[2][:58] + ".."
    return f"process {match[1]} {command}".rstrip()


def _frame_index(frame: str, frames: list[dict[str, Any]], index: dict[str, int]) -> int:
    if frame not in index:
        name, file, line = split_frame(frame)
        entry: dict[str, Any] = {"name": name}
        if file is not None:
            entry["file"] = file
        if line is not None:
            entry["line"] = line
        index[frame] = len(frames)
        frames.append(entry)
    return index[frame]
