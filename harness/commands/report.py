"""`harness report`: a static HTML page over every run under the profiles root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError, one_line

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def report_command(
    out: Annotated[
        Path,
        typer.Option(
            help="profiles root: every run under it is read, and index.html is written there"
        ),
    ] = Path("profiles"),
) -> None:
    """Write <out>/index.html: every run (sortable, filterable), links to each run's
    flame graphs and traces, SVG plots, and the newest study's answers to Q1-Q4. It opens
    from disk, with no server and no network."""
    from harness.report.build import build  # matplotlib and the templates: this command only

    if not out.is_dir():
        raise HarnessError(f"--out {out}: no such directory; run `harness run` or `study` first")
    built = build(out)
    for warning in built.collection.warnings:
        err_console.print(f"[yellow]warning[/]: {escape(one_line(warning))}", soft_wrap=True)
    rows = built.collection.rows
    readable = sum(r.readable for r in rows)
    console.print(
        f"report: {len(rows)} runs ({readable} readable), {len(built.plots)} plots -> {built.index}"
    )
