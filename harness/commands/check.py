"""`harness check RUN --baseline RUN|DIR`: fail CI when a change made the program worse."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.gate.runs import Group
    from harness.runner import RunRequest

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|pp)?\s*$")


class Format(StrEnum):
    text = "text"
    markdown = "markdown"


def check_command(
    run: Annotated[Path, typer.Argument(help="the run to judge, or a directory of runs")],
    baseline: Annotated[
        Path, typer.Option(help="the baseline: a run, or a directory of runs (its repeats)")
    ],
    max_cpu_regression: Annotated[
        str, typer.Option(help="CPU per item may rise this much (user and system each too)")
    ] = "5%",
    max_rss_regression: Annotated[str, typer.Option(help="peak RSS may rise this much")] = "10%",
    max_share_shift: Annotated[
        str, typer.Option(help="a cause share (disk, network, lock...) may rise this many points")
    ] = "10pp",
    max_throughput_drop: Annotated[
        str | None, typer.Option(help="items/s may drop this much (wall-clock: unset, not judged)")
    ] = None,
    repeat: Annotated[
        int,
        typer.Option(help="run the target again until there are N runs; judge medians", min=1),
    ] = 1,
    format_: Annotated[
        Format, typer.Option("--format", "-f", help="text (one line per failure) or markdown")
    ] = Format.text,
) -> None:
    """Compare RUN with a baseline on exact figures, not wall time: CPU seconds per item (user
    and system apart), peak RSS and the cause shares. Exit 0 when every figure is within its
    limit, 1 with one line per figure that is not. With --repeat N the target runs N times and
    medians are judged with the runs' spread, so noise is not called a regression."""
    from harness import render
    from harness.gate.judge import Limits, judge
    from harness.gate.outcome import Outcome
    from harness.gate.runs import gather, match

    limits = Limits(
        cpu=_amount(max_cpu_regression, "--max-cpu-regression", "%"),
        rss=_amount(max_rss_regression, "--max-rss-regression", "%"),
        share_points=_amount(max_share_shift, "--max-share-shift", "pp"),
        throughput=_amount(max_throughput_drop, "--max-throughput-drop", "%")
        if max_throughput_drop is not None
        else None,
    )
    base_groups = [g for g in gather(baseline, "--baseline") if g.runs]
    if not base_groups:
        raise HarnessError(f"--baseline {baseline} holds no finished runs to compare with")
    outcomes = []
    for group in gather(run, "RUN"):
        base, note = match(group, base_groups)
        _top_up(group, repeat)
        outcome = Outcome(
            group.label, len(base.runs), len(group.runs), judge(base.runs, group.runs, limits)
        )
        outcome.failed_runs = [f"run {r.run_dir.name} ended {r.status}" for r in group.failed]
        outcome.notes += [note] if note else []
        if not all(r.per_item for r in [*base.runs, *group.runs]):
            outcome.notes.append("no item count in every run: CPU figures are per run")
        outcomes.append(outcome)
    text = render.get("gate", "markdown" if format_ is Format.markdown else "console")().render(
        outcomes
    )
    console.print(escape(text), end="")
    if not all(o.passed for o in outcomes):
        raise typer.Exit(1)


def _amount(text: str, option: str, unit: str) -> float:
    """'5%' or '5' -> 0.05; '10pp' or '10' -> 0.10 for shares."""
    match = _AMOUNT.match(text)
    if match is None or (match[2] and match[2] != unit):
        raise HarnessError(f"{option} {text!r}: write it as a number of {unit}, e.g. 5{unit}")
    return float(match[1]) / 100


def _top_up(group: Group, repeat: int) -> None:
    """Run the group's target again until it has `repeat` finished runs."""
    from harness.gate.figures import RunFigures, read
    from harness.runner import execute

    if len(group.runs) >= repeat:
        return
    request = _request_of(group.newest.run_dir, group.root)
    while len(group.runs) < repeat:
        err_console.print(f"repeat {len(group.runs) + 1}/{repeat}: {escape(group.label)}")
        outcome = execute(request)
        again: RunFigures = read(outcome.run_dir)
        (group.runs if again.status == "ok" else group.failed).append(again)
        if again.status != "ok":
            return  # a failing target will not pass by running it more


def _request_of(run_dir: Path, root: Path) -> RunRequest:
    """The RunRequest that made `run_dir`, from its manifest."""
    from harness import targets, tools
    from harness.runner import RunRequest
    from harness.summary import MANIFEST_NAME

    try:
        manifest = json.loads((run_dir / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        manifest = {}
    spec = manifest.get("target_spec")
    if not spec:
        raise HarnessError(
            f"{run_dir.name} cannot be repeated: its manifest does not say how it was made "
            "(an attached run, or one made by an older pipeprof); repeat it with harness run"
        )
    return RunRequest(
        targets.from_spec(spec),
        tools.get(manifest.get("tool", tools.BARE)),
        root,
        manifest.get("timeout_s"),
        15.0,
        dict(manifest.get("options") or {}),
    )
