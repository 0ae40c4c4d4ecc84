"""`harness study`: run the matrix that answers Q1-Q4 and write findings.md."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness.study.matrix import FULL, QUICK

console = Console(highlight=False)


def study_command(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help=f"smaller sizes and sweeps, {QUICK.repeat} runs per point (under 3 minutes)",
        ),
    ] = False,
    repeat: Annotated[
        int | None,
        typer.Option(
            help=f"runs per point (default: {QUICK.repeat} with --quick, else {FULL.repeat})",
            min=1,
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="profiles root; the study goes in <out>/study-<UTC time>/")
    ] = Path("profiles"),
) -> None:
    """Run the study matrix (output layouts x fsync, ingest modes and worker sweeps, API
    concurrency, pipeline variants; each point repeated, plus py-spy and memray runs), then
    answer the plan's Q1-Q4 in findings.md with links to the runs."""
    from harness import rundir
    from harness.study.execute import run_study
    from harness.study.results import FINDINGS_NAME, load

    root = rundir.check_writable(out)
    study_dir = run_study(quick, repeat, root, console)
    study = load(study_dir)
    failed = study.failed()
    if failed:
        console.print(f"[red]{len(failed)} point(s) failed[/]: see Failed points in findings")
    console.print(f"findings: {study_dir / FINDINGS_NAME}", soft_wrap=True)
    if study.meta.get("interrupted"):
        raise typer.Exit(130)
    if failed:
        raise typer.Exit(1)
