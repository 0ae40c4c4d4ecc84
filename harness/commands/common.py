"""What the commands that run something share: the consoles, the status line while it goes,
and what is printed after it (summary, leftovers, error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from harness.errors import one_line
from harness.sections import LiveFigures

if TYPE_CHECKING:
    from harness.runner import RunOutcome
    from harness.tools.base import Tool

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
Progress = Callable[[LiveFigures], None]


def live_line(what: str, figures: LiveFigures) -> str:
    """The status line while a run goes: the monitor's snapshot (cores over the last second)."""
    return (
        f"{what}: {figures.elapsed_s:.1f} s, {figures.cores:.2f} cores, "
        f"{figures.rss_mb:.0f} MB RSS, {figures.threads} threads"
    )


def watched(doing: str, label: str, run: Callable[[Progress], RunOutcome]) -> RunOutcome:
    """`run` (given the status line's updater) under a status line "<doing> <label>: 3.2 s,
    1.00 cores, ...", then the run's summary, its leftovers and its error."""
    from harness import leftovers
    from harness.render.console import print_summary

    with console.status(f"{doing} {label}") as status:

        def progress(figures: LiveFigures) -> None:
            status.update(live_line(f"{doing} {label}", figures))

        outcome = run(progress)
    print_summary(console, outcome.summary, outcome.run_dir)
    for line in leftovers.lines(outcome.summary.leftovers):
        console.print(f"  [yellow]leftover:[/] {escape(line)}")
    if outcome.summary.error:
        message = one_line(f"{outcome.summary.run_id}: {outcome.summary.error['message']}")
        err_console.print(f"error: {escape(message)}")
    return outcome


def tool_options(sets: list[str], chosen: list[Tool]) -> tuple[list[str], dict[str, str]]:
    """`--set` items split: the options the chosen tools declare (rate=200, native=1...) and
    the rest, which go to the scenario."""
    names = {option.name for tool in chosen for option in tool.options}
    params, options = [], {}
    for item in sets:
        key, _, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if key in names:
            options[key] = value.strip()
        else:
            params.append(item)
    return params, options
