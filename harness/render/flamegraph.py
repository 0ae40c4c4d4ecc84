"""Flame graph SVGs of folded stacks: the plain graph and the differential one.

Root at the bottom, widths proportional to samples, click a frame to zoom (the script is
templates/flamegraph.js). The colour and the tooltip of every frame come from functions the
caller may replace, so another colouring (by cause, say) draws on the same layout: the default
draws a frame blue when every sample under it is waiting, so a parked thread shows as a blue
tower, grey for the root and the process/thread frames, and warm otherwise. Another colouring
passes its own functions of a Frame (path from the root, samples, waiting samples, share):

    FlameGraph("run", colour=lambda f: palette.get(cause_of(f.path)) or default_colour(f),
               tooltip=lambda f: f"{default_tooltip(f)}, {cause_of(f.path)}",
               legend=[(colour, cause) for cause, colour in palette.items()]).render(stacks)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from harness import stacks as st
from harness.render import fmt
from harness.render.base import Renderer

#: Frames narrower than this share of all samples are left out of an SVG (and their callees).
MIN_SHARE = 0.001
#: A diff colours its largest change at full strength, but never treats less than this change
#: in share (1 percentage point) as large, so noise between similar runs stays pale.
DIFF_FLOOR = 0.01
SCRIPT = Path(__file__).parent / "templates" / "flamegraph.js"

_PAD = 10
_FRAME_H = 16
_FONT = 11
_CHAR_W = _FONT * 0.59
_MAX_NOTES = 8
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Frame:
    """One drawn frame, as the colour and tooltip functions see it."""

    path: tuple[str, ...]  # frames from the root down to this one; () for the "all" root
    node: st.Node
    start: int  # samples left of this frame at its depth
    total: int  # samples in the whole graph

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def samples(self) -> int:
        return self.node.total

    @property
    def share(self) -> float:
        return self.node.total / self.total if self.total else 0.0

    @property
    def depth(self) -> int:
        return len(self.path)


Colour = Callable[[Frame], str]
Tooltip = Callable[[Frame], str]


def default_colour(frame: Frame) -> str:
    """Blue when all of the frame's samples wait, grey for roots, warm otherwise."""
    node = frame.node
    if node.total and node.waiting == node.total:
        return cool(node.name)
    if not frame.path or st.is_root_frame(node.name):
        return grey(node.name)
    return warm(node.name)


def default_tooltip(frame: Frame) -> str:
    return f"{frame.name} ({frame.samples} samples, {fmt.percent(frame.share, 2)})"


def render_svg(stacks: st.Stacks, title: str, **options: Any) -> str:
    """A flame graph of `stacks`: FlameGraph's options (subtitle, width, colour, tooltip,
    legend, notes) by keyword."""
    return FlameGraph(title, **options).render(stacks)


def render_diff_svg(
    before: st.Stacks,
    after: st.Stacks,
    title: str,
    *,
    subtitle: str | None = None,
    width: int = 1200,
) -> str:
    """A differential flame graph: the shape of `after`, each frame red where its share of all
    samples grew since `before` and blue where it shrank; call paths found only in `before` are
    listed as text under the graph (largest first)."""
    diff = st.diff(before, after)
    frames = layout(diff.after)
    deltas = {f.path: diff.delta(f.path) for f in frames}
    scale = max([DIFF_FLOOR, *(abs(d) for d in deltas.values())])

    def colour(frame: Frame) -> str:
        return diff_colour(deltas[frame.path] / scale)

    def tooltip(frame: Frame) -> str:
        nb, na = diff.before.samples_at(frame.path), frame.samples
        return (
            f"{frame.name} (before {nb} = {fmt.percent(diff.share_before(frame.path), 2)}, "
            f"after {na} = {fmt.percent(diff.share_after(frame.path), 2)}, "
            f"{fmt.points(deltas[frame.path], 2)})"
        )

    if subtitle is None:
        subtitle = (
            f"{diff.before.total} samples before, {diff.after.total} after; shape from after; "
            "red: share grew, blue: share shrank"
        )
    notes = _gone_notes(diff, width)
    return FlameGraph(title, subtitle, width, colour, tooltip, notes=notes).draw(frames)


def layout(root: st.Node) -> list[Frame]:
    """Every frame wide enough to draw, children in alphabetical order like flamegraph.pl."""
    min_samples = root.total * MIN_SHARE
    frames: list[Frame] = []
    todo = [Frame((), root, 0, root.total)]
    while todo:
        frame = todo.pop()
        frames.append(frame)
        offset = frame.start
        for name in sorted(frame.node.children):
            child = frame.node.children[name]
            if child.total >= min_samples:
                todo.append(Frame((*frame.path, name), child, offset, root.total))
            offset += child.total
    return frames


def _gone_notes(diff: st.StackDiff, width: int) -> list[str]:
    gone = diff.gone()
    if not gone:
        return []
    chars = int((width - 2 * _PAD) / _CHAR_W)
    notes = ["Call paths only in before (largest first):"]
    for g in gone[:_MAX_NOTES]:
        share = fmt.percent(g.samples / diff.before.total, 2)
        notes.append(
            _truncate(f"{g.name} under {g.caller}: {g.samples} samples, {share} of before", chars)
        )
    if len(gone) > _MAX_NOTES:
        notes.append(f"... and {len(gone) - _MAX_NOTES} more")
    return notes


def _legend(legend: Sequence[tuple[str, str]], y: int) -> list[str]:
    out, x = [], _PAD
    for colour, label in legend:
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text class="note" x="{x + 16}" y="{y}">{_text(label)}</text>')
        x += 16 + int(len(label) * _CHAR_W) + 14
    return out


def _label(name: str, width: float) -> str:
    return _truncate(name, int((width - 6) / _CHAR_W))


def _truncate(text: str, chars: int) -> str:
    if chars < 3:
        return ""
    return text if len(text) <= chars else text[: chars - 2] + ".."


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("?", value))


def _attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("?", value))


def _digest(name: str) -> tuple[float, float, float]:
    key = st.split_frame(name)[0]
    h = hashlib.md5(key.encode("utf-8", "replace")).digest()
    return h[0] / 255, h[1] / 255, h[2] / 255


def warm(name: str) -> str:
    """A red-to-yellow colour, the same for every frame of one function."""
    a, b, c = _digest(name)
    return f"rgb({205 + int(50 * a)},{int(60 + 150 * b)},{int(55 * c)})"


def cool(name: str) -> str:
    """A blue, the same for every frame of one function."""
    a, b, _ = _digest(name)
    return f"rgb({int(70 + 50 * a)},{int(140 + 50 * b)},{int(215 + 40 * a)})"


def grey(name: str) -> str:
    level = int(190 + 30 * _digest(name)[0])
    return f"rgb({level},{level},{level + 10})"


def diff_colour(change: float) -> str:
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


@dataclass
class FlameGraph(Renderer[st.Stacks], subject="stacks", format="svg", extension="svg"):
    """Stacks as a flame graph SVG; `legend` is (colour, label) pairs shown under the title,
    `notes` lines of text under the graph."""

    title: str = "flame graph"
    subtitle: str | None = None
    width: int = 1200
    colour: Colour = default_colour
    tooltip: Tooltip = default_tooltip
    legend: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = ()

    def render(self, data: st.Stacks) -> str:
        return self.draw(layout(st.build_tree(data)))

    def draw(self, frames: list[Frame]) -> str:
        """The SVG of laid-out frames (see layout); frames[0] is the root."""
        total = frames[0].total if frames else 0
        width, subtitle, notes = self.width, self.subtitle, self.notes
        graph_w = width - 2 * _PAD
        top = (58 if subtitle else 40) + (18 if self.legend else 0)
        max_depth = max((f.depth for f in frames), default=0)
        graph_bottom = top + (max_depth + 1) * _FRAME_H
        height = graph_bottom + 30 + len(notes) * 15
        out = [
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}">',
            f"<style>{_CSS}</style>",
            f'<rect width="{width}" height="{height}" fill="#fafafa"/>',
            f'<text class="title" x="{width / 2}" y="24">{_text(self.title)}</text>',
        ]
        if subtitle:
            out.append(f'<text class="sub" x="{width / 2}" y="44">{_text(subtitle)}</text>')
        out += _legend(self.legend, top - 12)
        out.append(f'<text id="reset" class="btn" x="{_PAD}" y="24">Reset zoom</text>')
        if total <= 0:
            out.append(f'<text class="sub" x="{width / 2}" y="{graph_bottom}">no samples</text>')
        out.append('<g id="frames">')
        for frame in frames if total > 0 else []:
            x = _PAD + graph_w * frame.start / total
            w = graph_w * frame.samples / total
            y = graph_bottom - (frame.depth + 1) * _FRAME_H
            ident = ' id="root"' if not frame.path else ""
            out.append(
                f'<g class="f"{ident} data-name={_attr(frame.name)}>'
                f"<title>{_text(self.tooltip(frame))}</title>"
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{_FRAME_H - 1}" rx="2" '
                f'fill="{self.colour(frame)}"/><text x="{x + 3:.1f}" y="{y + _FONT}">'
                f"{_text(_label(frame.name, w))}</text></g>"
            )
        out.append("</g>")
        out.append(f'<text id="details" x="{_PAD}" y="{graph_bottom + 20}"> </text>')
        for i, note in enumerate(notes):
            y = graph_bottom + 42 + i * 15
            out.append(f'<text class="note" x="{_PAD}" y="{y}">{_text(note)}</text>')
        script = SCRIPT.read_text(encoding="utf-8").replace("@W@", str(graph_w))
        script = script.replace("@PAD@", str(_PAD)).replace("@CW@", f"{_CHAR_W:.3f}")
        out.append(f'<script type="text/ecmascript"><![CDATA[{script}]]></script>')
        out.append("</svg>")
        return "\n".join(out) + "\n"


@dataclass
class DiffFlameGraph(
    Renderer[tuple[st.Stacks, st.Stacks]], subject="stack-diff", format="svg", extension="svg"
):
    """(before, after) stacks as a differential flame graph SVG (see render_diff_svg)."""

    title: str = "differential flame graph"
    subtitle: str | None = None
    width: int = 1200

    def render(self, data: tuple[st.Stacks, st.Stacks]) -> str:
        return render_diff_svg(*data, self.title, subtitle=self.subtitle, width=self.width)
