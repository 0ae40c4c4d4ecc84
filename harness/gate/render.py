"""A gate's result as terminal lines (one per failed figure) or a Markdown table for a CI job
summary or a pull-request comment."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.gate.judge import Judgement
from harness.study.stats import Spread


@dataclass
class Outcome:
    """The judgements of one compared group, with what was compared."""

    label: str
    base_runs: int
    head_runs: int
    judgements: list[Judgement]
    notes: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Judgement]:
        return [j for j in self.judgements if j.failed]

    @property
    def passed(self) -> bool:
        return not self.failed and not self.failed_runs


def lines(outcomes: list[Outcome]) -> list[str]:
    """One line per failed figure or failed run, then one verdict line."""
    found: list[str] = []
    for outcome in outcomes:
        prefix = f"{outcome.label}: " if len(outcomes) > 1 else ""
        found += [f"{prefix}{run}" for run in outcome.failed_runs]
        for j in outcome.failed:
            found.append(
                f"{prefix}{j.figure.label} {_value(j, j.base)} -> {_value(j, j.head)} "
                f"({_change(j)}, limit {_limit(j)}; {_runs(j)})"
            )
        found += [f"{prefix}note: {note}" for note in outcome.notes]
    bad = sum(not o.passed for o in outcomes)
    judged = sum(len(o.judgements) for o in outcomes)
    runs = ", ".join(f"{o.head_runs} run(s) against {o.base_runs}" for o in outcomes[:3])
    found.append(
        f"FAIL: {bad} of {len(outcomes)} target(s) regressed"
        if bad
        else f"ok: {judged} figures within their limits ({runs})"
    )
    return found


def markdown(outcomes: list[Outcome]) -> str:
    """Every figure of every target, worst news first, as GitHub-flavoured Markdown."""
    bad = sum(not o.passed for o in outcomes)
    parts = [f"### pipeprof check: {'FAIL' if bad else 'pass'}", ""]
    for outcome in sorted(outcomes, key=lambda o: o.passed):
        parts += [
            f"**{outcome.label}**: {outcome.head_runs} run(s) against {outcome.base_runs} "
            "baseline run(s); medians, ranges in brackets",
            "",
            "| figure | baseline | this change | change | limit | result |",
            "|---|---|---|---|---|---|",
        ]
        for j in outcome.judgements:
            result = "**FAIL**" if j.failed else (j.why or "ok")
            parts.append(
                f"| {j.figure.label} | {_value(j, j.base, True)} | {_value(j, j.head, True)} | "
                f"{_change(j)} | {_limit(j)} | {result} |"
            )
        parts += [""] + [f"- failed run: {run}" for run in outcome.failed_runs]
        parts += [f"- note: {note}" for note in outcome.notes] + [""]
    return "\n".join(parts).rstrip() + "\n"


def _value(j: Judgement, s: Spread, with_range: bool = False) -> str:
    unit = j.figure.unit
    text = _format(s.median, unit)
    if with_range and s.n > 1:
        text += f" [{_span(s, unit)}]"
    return text


def _span(s: Spread, unit: str) -> str:
    """'79.9-96.3 us': the range, its unit once."""
    low, high = _format(s.minimum, unit), _format(s.maximum, unit)
    low_number, _, low_unit = low.partition(" ")
    return f"{low_number}-{high}" if low_unit == high.partition(" ")[2] else f"{low}-{high}"


def _format(value: float, unit: str) -> str:
    if unit == "s":  # three significant figures in us, ms or s
        scale, name = next(
            ((f, n) for f, n in ((1e-6, "us"), (1e-3, "ms")) if abs(value) < f * 1000), (1, "s")
        )
        scaled = value / scale
        digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
        return f"{scaled:,.{digits}f} {name}"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "MB":
        return f"{value:,.1f} MB"
    return f"{value:,.0f}{' ' + unit if unit else ''}"


def _change(j: Judgement) -> str:
    if j.figure.unit == "share":
        return f"{100 * j.change:+.1f} pp"
    return f"{100 * j.change:+.1f}%"


def _limit(j: Judgement) -> str:
    if j.limit is None:
        return "-"
    if j.figure.unit == "share":
        return f"+{100 * j.limit:g} pp"
    sign = "+" if j.figure.higher_is_worse else "-"
    return f"{sign}{100 * j.limit:g}%"


def _runs(j: Judgement) -> str:
    if j.base.n < 2 or j.head.n < 2:
        return "single runs, judged on the limit alone"
    unit = j.figure.unit
    return (
        f"medians of {j.head.n} and {j.base.n} runs; this change "
        f"{_span(j.head, unit)}, baseline {_span(j.base, unit)}"
    )
