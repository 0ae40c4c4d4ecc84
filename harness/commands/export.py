"""`harness export RUN --format folded|speedscope|chrome-trace`: a run's stacks for other tools."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from harness.errors import HarnessError
from harness.exporters import export


class StackFormat(StrEnum):
    folded = "folded"
    speedscope = "speedscope"
    chrome_trace = "chrome-trace"


def export_command(
    run: Annotated[Path, typer.Argument(help="a run directory with stacks (py-spy, viztracer)")],
    format_: Annotated[
        StackFormat,
        typer.Option(
            "--format",
            "-f",
            help="folded (inferno, flamegraph.pl, Pyroscope), speedscope, or chrome-trace "
            "(Perfetto)",
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write here (default: standard output)")
    ] = None,
) -> None:
    """Write a run's stacks in a standard format: folded stacks with process and thread labels,
    a speedscope file, or a Chrome trace that Perfetto opens."""
    data = export(run, format_.value)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise HarnessError(f"--output {output}: cannot write it ({exc.strerror})") from None
