"""`harness show RUN...`: one run's summary, or a set of runs as one table, in four formats."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness import display, export, prune
from harness.errors import HarnessError, one_line
from harness.summary import RunSummary, find_runs, load

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
WIDE = 130


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
    single = len(runs) == 1 and (not runs[0].exists() or export.is_run_path(runs[0]))
    if single:
        try:
            found = export.RunSet([(runs[0], load(runs[0]))])
        except ValueError as exc:
            raise HarnessError(f"{exc}") from None
    else:
        found = export.gather(runs)
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
    summaries = found.summaries
    if chosen is Format.json:
        typer.echo(export.to_json(summaries, single=single), nl=False)
    elif chosen is Format.csv:
        typer.echo(export.to_csv(summaries), nl=False)
    elif chosen is Format.markdown:
        typer.echo(export.to_markdown(summaries), nl=False)
    elif single:
        run_path, summary = found.runs[0]
        display.print_summary(console, summary, run_path if run_path.is_dir() else run_path.parent)
    else:
        print_runs(console, summaries)
        for line in root_lines(runs):
            console.print(escape(line))


def root_lines(paths: list[Path]) -> list[str]:
    """For each profiles root among `paths`: its size on disk and how many runs it holds."""
    return [
        f"{path}: {prune.human_size(prune.disk_usage(path))} on disk, {len(find_runs(path))} run(s)"
        for path in paths
        if path.is_dir() and not export.is_run_path(path)
    ]


def print_runs(out: Console, summaries: list[RunSummary]) -> None:
    """One line per run, with the parameters that vary across the set (and a status other than
    ok before the verdict); the split of thread time only where the terminal is wide enough."""
    varying = export.varying_params(summaries)
    with_split = out.width >= WIDE
    table = Table(box=None, padding=(0, 1, 0, 0), header_style="bold")
    table.add_column("run", no_wrap=True)
    table.add_column("params")
    for name in ("wall s", "items/s", "cores"):
        table.add_column(name, justify="right", no_wrap=True)
    if with_split:
        table.add_column("split")
    table.add_column("verdict")
    for s in summaries:
        row = export.flatten(s)
        cells = [
            escape(s.run_id),
            escape(" ".join(f"{k}={s.params.get(k, '-')}" for k in varying)),
            display.fmt(row["wall_s"], digits=3),
            display.fmt(row["items_per_s"], digits=1),
            display.fmt(row["cores_used"]),
        ]
        if with_split:
            cells.append(display.split_line(s.split or {}))
        verdict = escape(f"{row['bound'] or '-'}, {row['confidence'] or '-'}")
        cells.append(verdict if s.status == "ok" else f"[yellow]{s.status}[/]: {verdict}")
        table.add_row(*cells)
    out.print(table)
