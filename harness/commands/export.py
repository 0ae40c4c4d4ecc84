"""`harness export RUN --format folded|speedscope|chrome-trace`: a run's stacks for other tools."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from harness.errors import HarnessError


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


def export(run_dir: Path, fmt: str) -> bytes:
    """The stacks of `run_dir` in format `fmt`: a tracer's own trace is its Chrome trace."""
    from harness import render, stack_sources

    found = stack_sources.load(run_dir)
    if fmt == StackFormat.chrome_trace and found.trace_path is not None:
        return found.trace_path.read_bytes()
    options = {"name": found.name}
    if fmt == StackFormat.chrome_trace:
        options |= {"rate_hz": found.rate_hz or 0.0, "source": found.source}
    elif fmt == StackFormat.folded:
        options = {}
    return render.get("stacks", fmt)(**options).render(found.stacks).encode()
