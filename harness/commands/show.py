"""`harness show RUN...`: one run's summary, or a set of runs as one table, in four formats."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError, one_line

if TYPE_CHECKING:
    from harness.runset import RunSet

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def show_command(
    runs: Annotated[
        list[Path],
        typer.Argument(
            metavar="RUN...",
            help="run directories, summary.json files, or a profiles root (every run under it)",
        ),
    ],
    format_: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="table (default), json (whole summaries), csv or markdown (one row per run)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the same as --format json")] = False,
) -> None:
    """Show runs: one run's summary as a table, or many runs as one table, JSON, CSV or
    Markdown."""
    if as_json and format_ not in (None, Format.json):
        raise HarnessError(f"--json and --format {format_} disagree; pass one of them")
    chosen = Format.json if as_json else (format_ or Format.table)
    found = find(runs)
    if not found.runs:  # one line: the first reason, not a warning per path before it
        why = f" ({found.warnings[0]}" + (
            f"; {len(found.warnings) - 1} more)" if len(found.warnings) > 1 else ")"
        )
        raise HarnessError(
            f"no readable run summaries in {', '.join(map(str, runs))}"
            f"{why if found.warnings else ''}; "
            "pass run directories or the --out root of `harness run`"
        )
    for warning in found.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(one_line(warning))}", soft_wrap=True)
    from harness import render
    from harness.render.console import ConsoleRenderer

    renderer = render.get("runs", "console" if chosen is Format.table else chosen.value)()
    if isinstance(renderer, ConsoleRenderer):
        renderer.print(console, found)
        for line in root_lines(runs):
            console.print(escape(line))
    else:
        typer.echo(renderer.render(found), nl=False)


def root_lines(paths: list[Path]) -> list[str]:
    """For each profiles root among `paths`: its size on disk and how many runs it holds."""
    from harness import prune
    from harness.runset import is_run_path
    from harness.summary import find_runs

    return [
        f"{path}: {prune.human_size(prune.disk_usage(path))} on disk, {len(find_runs(path))} run(s)"
        for path in paths
        if path.is_dir() and not is_run_path(path)
    ]


def find(paths: list[Path]) -> RunSet:
    """One run when one path names a run (an unreadable one is an error), else every run the
    paths hold (unreadable ones become warnings)."""
    from harness.runset import RunSet, gather, is_run_path
    from harness.summary import load

    if len(paths) == 1 and (not paths[0].exists() or is_run_path(paths[0])):
        try:
            return RunSet([(paths[0], load(paths[0]))], single=True)
        except ValueError as exc:
            raise HarnessError(f"{exc}") from None
    return gather(paths)
