"""The cause-coloured flame graph: widths are wall time (waits included), colours are causes.

py-spy's own flame graph counts samples, and a thread blocked in fsync looks like one running
Python code. Here each frame is as wide as the wall time its samples stand for (the threads'
time, joined with the monitor's causes: callsites.py) and coloured by the family of causes
that most of it went to, with the whole split in its tooltip.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from harness.render import fmt
from harness.render.base import Renderer
from harness.render.flamegraph import FlameGraph, Frame
from harness.render.palette import FAMILY_COLOURS

#: Stack -> seconds by family (the data this renderer takes).
CauseStacks = dict[tuple[str, ...], Counter[str]]
_UNIT_S = 1e-6  # widths in microseconds of wall time: the layout wants whole numbers


class CauseFlameGraph(Renderer[CauseStacks], subject="cause-stacks", format="svg", extension="svg"):
    """Frames as wide as their wall time, coloured by their largest family of causes."""

    def __init__(self, title: str = "wall time by cause", subtitle: str = "", width: int = 1200):
        self.title, self.subtitle, self.width = title, subtitle, width

    def render(self, data: CauseStacks) -> str:
        weights = {s: round(sum(c.values()) / _UNIT_S) for s, c in data.items()}
        mix = _prefix_mix(data)
        graph = FlameGraph(
            self.title,
            self.subtitle,
            self.width,
            colour=_colour(mix),
            tooltip=_tooltip(mix),
            legend=[(colour, label) for label, colour in FAMILY_COLOURS.values()],
        )
        return graph.render({s: w for s, w in weights.items() if w > 0})


def _prefix_mix(data: CauseStacks) -> dict[tuple[str, ...], Counter[str]]:
    """Seconds by family under every frame (every prefix of every stack)."""
    mix: dict[tuple[str, ...], Counter[str]] = {(): Counter()}
    for stack, seconds in data.items():
        mix[()].update(seconds)
        for depth in range(1, len(stack) + 1):
            mix.setdefault(stack[:depth], Counter()).update(seconds)
    return mix


def _colour(mix: dict[tuple[str, ...], Counter[str]]) -> Callable[[Frame], str]:
    def colour(frame: Frame) -> str:
        families = mix.get(frame.path)
        if not families:
            return FAMILY_COLOURS["other"][1]
        top = families.most_common(1)[0][0]
        return FAMILY_COLOURS.get(top, FAMILY_COLOURS["other"])[1]

    return colour


def _tooltip(mix: dict[tuple[str, ...], Counter[str]]) -> Callable[[Frame], str]:
    def tooltip(frame: Frame) -> str:
        families = mix.get(frame.path) or Counter()
        total = sum(families.values())
        parts = ", ".join(
            f"{name} {fmt.percent(s / total)}" for name, s in families.most_common() if s > 0
        )
        return (
            f"{frame.name} ({fmt.seconds(total)} of wall time, {fmt.percent(frame.share, 2)}): "
            f"{parts}"
        )

    return tooltip
