"""`harness compare RUN_A RUN_B`: two runs side by side, in the terminal and as an HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.compare import (
    SECTION_TITLES,
    Comparison,
    compare_runs,
    default_html_path,
    write_report,
)
from harness.errors import one_line

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

TREND_STYLE = {"better": "green", "worse": "red"}


def compare_command(
    run_a: Annotated[Path, typer.Argument(metavar="RUN_A", help="the run before: a run directory")],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_B", help="the run after: a run directory")],
    html: Annotated[
        Path | None,
        typer.Option(
            help="write the HTML page here (default RUN_B/compare-<RUN_A name>.html); "
            "the differential flame graph goes beside it"
        ),
    ] = None,
) -> None:
    """Compare two runs: every figure side by side with B/A, the parameters that differ, and a
    differential flame graph (red: grew, blue: shrank) when both are py-spy runs."""
    comparison = compare_runs(run_a, run_b)
    for warning in comparison.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(one_line(warning))}", soft_wrap=True)
    print_comparison(console, comparison)
    written = write_report(comparison, html or default_html_path(comparison))
    if written.note:
        console.print(written.note, soft_wrap=True)
    console.print(f"  open html: {written.html.resolve()}", soft_wrap=True)
    if written.svg:
        console.print(f"  open differential flamegraph: {written.svg.resolve()}", soft_wrap=True)


def print_comparison(out: Console, c: Comparison) -> None:
    out.print(f"[bold]A[/] (before) {escape(c.a.run_id)}  [dim]{escape(str(c.a_dir))}[/]")
    out.print(f"[bold]B[/] (after)  {escape(c.b.run_id)}  [dim]{escape(str(c.b_dir))}[/]")
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("figure", "A", "B", "B/A", "B-A"):
        table.add_column(name, justify="left" if name == "figure" else "right")
    differing = c.differing_params
    if differing:
        table.add_row("[bold]Parameters that differ[/]")
    for p in differing:
        a, b = escape(p.value("a")), escape(p.value("b"))
        table.add_row(f"[yellow]{escape(p.key)}[/]", a, b, "", "[yellow]differs[/]")
    section = None
    for row in c.rows:
        if row.section != section:
            section = row.section
            table.add_row(f"[bold]{SECTION_TITLES.get(section, section)}[/]")
        style = TREND_STYLE.get(row.trend or "", "")
        changed_text = row.kind == "text" and row.changed
        table.add_row(
            f"  {escape(row.label)}",
            escape(row.value("a")),
            escape(row.value("b")),
            _styled(row.ratio_text(), style),
            _styled(row.diff_text(), "yellow" if changed_text else style),
        )
    out.print(table)
    same = [f"{p.key}={p.value('a')}" for p in c.params if not p.differs]
    if same:
        out.print(f"[dim]same parameters: {escape(', '.join(same))}[/]")


def _styled(text: str, style: str) -> str:
    return f"[{style}]{text}[/]" if style and text else text
