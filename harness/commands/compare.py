"""`harness compare RUN_A RUN_B`: two runs side by side, in the terminal and as an HTML page
with the differential flame graph beside it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError, one_line

if TYPE_CHECKING:
    from harness.compare import Comparison

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


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
    differential flame graph (red: grew, blue: shrank) when both runs sampled stacks (py-spy)."""
    from harness.compare import compare_runs
    from harness.render.console import ComparisonConsole

    comparison = compare_runs(run_a, run_b)
    for warning in comparison.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(one_line(warning))}", soft_wrap=True)
    ComparisonConsole().print(console, comparison)
    written = write_report(comparison, html or default_html_path(comparison))
    if written.note:
        console.print(written.note, soft_wrap=True)
    console.print(f"  open html: {written.html.resolve()}", soft_wrap=True)
    if written.svg:
        console.print(f"  open differential flamegraph: {written.svg.resolve()}", soft_wrap=True)


@dataclass(frozen=True)
class Written:
    html: Path
    svg: Path | None
    note: str | None


def default_html_path(c: Comparison) -> Path:
    return c.b_dir / f"compare-{c.a_dir.resolve().name}.html"


def write_report(c: Comparison, html_path: Path) -> Written:
    """The HTML page at `html_path` and, where both runs have stacks, the differential flame
    graph beside it (linked by name, so the pair can be moved together and opened from file://)."""
    from harness.compare import diff_flamegraph, write_record
    from harness.files import write_text_atomic
    from harness.render.htmlrenderer import ComparisonHtml

    svg, note = diff_flamegraph(c)
    svg_path = html_path.with_name(f"{html_path.stem}-flamegraph.svg") if svg else None
    page = ComparisonHtml(svg_path.name if svg_path else None, note).render(c)
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        if svg_path and svg:
            write_text_atomic(svg_path, svg)
        write_text_atomic(html_path, page)
        write_record(c, html_path)
    except OSError as exc:
        raise HarnessError(
            f"cannot write {html_path} ({exc.strerror}); pass --html FILE somewhere writable"
        ) from None
    return Written(html_path, svg_path, note)
