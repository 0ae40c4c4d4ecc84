"""`harness show RUN...`: one run's summary, or a set of runs as one table, in four formats."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness import render
from harness.errors import HarnessError
from harness.render.console import ConsoleRenderer
from harness.runset import RunSet, gather, is_run_path
from harness.summary import load

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
    for warning in found.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    if not found.runs:
        raise HarnessError(
            f"no readable run summaries in {', '.join(map(str, runs))}; "
            "pass run directories or the --out root of `harness run`"
        )
    renderer = render.get("runs", "console" if chosen is Format.table else chosen.value)()
    if isinstance(renderer, ConsoleRenderer):
        renderer.print(console, found)
    else:
        typer.echo(renderer.render(found), nl=False)


def find(paths: list[Path]) -> RunSet:
    """One run when one path names a run (an unreadable one is an error), else every run the
    paths hold (unreadable ones become warnings)."""
    if len(paths) == 1 and (not paths[0].exists() or is_run_path(paths[0])):
        try:
            return RunSet([(paths[0], load(paths[0]))], single=True)
        except ValueError as exc:
            raise HarnessError(f"{exc}") from None
    return gather(paths)
