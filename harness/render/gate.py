"""A gate's result (a list of gate.outcome.Outcome) as terminal lines, one per failed figure,
or as a Markdown table for a CI job summary or a pull-request comment."""

from __future__ import annotations

from dataclasses import dataclass

from harness.gate.judge import Judgement
from harness.gate.outcome import Outcome
from harness.render import fmt
from harness.render.base import Renderer
from harness.stats import Spread


@dataclass
class GateLines(Renderer[list[Outcome]], subject="gate", format="console", extension="txt"):
    """One line per failed figure or failed run, then one verdict line."""

    def render(self, data: list[Outcome]) -> str:
        found: list[str] = []
        for outcome in data:
            prefix = f"{outcome.label}: " if len(data) > 1 else ""
            found += [f"{prefix}{run}" for run in outcome.failed_runs]
            for j in outcome.failed:
                found.append(
                    f"{prefix}{j.figure.label} {_value(j, j.base)} -> {_value(j, j.head)} "
                    f"({_change(j)}, limit {_limit(j)}; {_runs(j)})"
                )
            found += [f"{prefix}note: {note}" for note in outcome.notes]
        bad = sum(not o.passed for o in data)
        judged = sum(len(o.judgements) for o in data)
        runs = ", ".join(f"{o.head_runs} run(s) against {o.base_runs}" for o in data[:3])
        found.append(
            f"FAIL: {bad} of {len(data)} target(s) regressed"
            if bad
            else f"ok: {judged} figures within their limits ({runs})"
        )
        return "\n".join(found) + "\n"


@dataclass
class GateMarkdown(Renderer[list[Outcome]], subject="gate", format="markdown", extension="md"):
    """Every figure of every target, failing targets first, as GitHub-flavoured Markdown."""

    def render(self, data: list[Outcome]) -> str:
        bad = sum(not o.passed for o in data)
        parts = [f"### pipeprof check: {'FAIL' if bad else 'pass'}", ""]
        for outcome in sorted(data, key=lambda o: o.passed):
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
                    f"| {j.figure.label} | {_value(j, j.base, True)} | {_value(j, j.head, True)} "
                    f"| {_change(j)} | {_limit(j)} | {result} |"
                )
            parts += [""] + [f"- failed run: {run}" for run in outcome.failed_runs]
            parts += [f"- note: {note}" for note in outcome.notes] + [""]
        return "\n".join(parts).rstrip() + "\n"


def _format(value: float, unit: str) -> str:
    if unit == "s":
        return fmt.duration(value)
    if unit == "share":
        return fmt.percent(value, 1)
    if unit == "MB":
        return fmt.mb(value)
    return fmt.number(value, 0, f" {unit}" if unit else "")


def _value(j: Judgement, s: Spread, with_range: bool = False) -> str:
    text = _format(s.median, j.figure.unit)
    return f"{text} [{_span(j, s)}]" if with_range and s.n > 1 else text


def _span(j: Judgement, s: Spread) -> str:
    """'79.9-96.3 us': the range, its unit once."""
    low, high = _format(s.minimum, j.figure.unit), _format(s.maximum, j.figure.unit)
    low_number, _, low_unit = low.partition(" ")
    return f"{low_number}-{high}" if low_unit == high.partition(" ")[2] else f"{low}-{high}"


def _change(j: Judgement) -> str:
    return (
        fmt.points(j.change) if j.figure.unit == "share" else fmt.percent(j.change, 1, signed=True)
    )


def _limit(j: Judgement) -> str:
    if j.limit is None:
        return fmt.MISSING
    if j.figure.unit == "share":
        return f"+{100 * j.limit:g} pp"
    return f"{'+' if j.figure.higher_is_worse else '-'}{100 * j.limit:g}%"


def _runs(j: Judgement) -> str:
    if j.base.n < 2 or j.head.n < 2:
        return "single runs, judged on the limit alone"
    return (
        f"medians of {j.head.n} and {j.base.n} runs; this change {_span(j, j.head)}, "
        f"baseline {_span(j, j.base)}"
    )
