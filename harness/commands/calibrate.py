"""`harness calibrate`: the ground-truth cases under the monitor and each tool, as a table of
truth against findings, with calibration.json and calibration.md."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.calibrate import CaseRun

console = Console(highlight=False, soft_wrap=True)
if not console.is_terminal:  # piped or captured: rich would assume 80 columns
    console.width = 160
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

JSON_NAME = "calibration.json"
MD_NAME = "calibration.md"


def calibrate_command(
    tool: Annotated[
        list[str] | None,
        typer.Option(
            "--tool",
            "-t",
            help="a tool to run every case under besides none (repeatable; default py-spy; "
            "all: every profiler)",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="where the runs, calibration.json and calibration.md go "
            "(default profiles/calibration-<UTC time>/)"
        ),
    ] = None,
    cases: Annotated[
        str | None, typer.Option(help="comma-separated case names (default: every case)")
    ] = None,
    seconds: Annotated[
        float | None,
        typer.Option(help="run each case this long (default: its own, 2.5-3 s)", min=0.5),
    ] = None,
) -> None:
    """Measure the harness's accuracy on ground-truth cases (workloads/calibration): each runs
    under the monitor alone and under each tool, and what the harness finds is held to what the
    case is by construction. Exits 1 if a verdict is wrong, a CPU share known by construction is
    off by more than its tolerance, or peak RSS is off by more than 10%."""
    from harness import machine, rundir
    from harness.calibrate import (
        Calibration,
        calibrate,
        choose_cases,
        choose_tools,
        default_out_dir,
        to_json,
    )
    from harness.files import write_json_atomic, write_text_atomic
    from harness.render import fmt
    from harness.render.console import CalibrationConsole
    from harness.render.markdown import CalibrationMarkdown

    if seconds is not None and not math.isfinite(seconds):
        raise HarnessError(f"--seconds {seconds}: give a finite number of seconds")
    chosen_cases = choose_cases(cases)
    chosen_tools, skipped = choose_tools(tool)
    for note in skipped:
        err_console.print(f"[yellow]skipped[/] {escape(note)}")
    out_dir = rundir.check_writable(out or default_out_dir())
    started = datetime.now(UTC)
    load_before = machine.load_average()

    def progress(n: int, total: int, run: CaseRun) -> None:
        mark = "[red]FAIL[/]" if run.failed else "[green]ok[/]"
        console.print(
            f"[{n}/{total}] {run.case} under {run.tool}: {run.bound} "
            f"(truth {run.expected_bound or '-'}), CPU share {fmt.number(run.cpu_share)} "
            f"in {fmt.seconds(run.wall_s, 1)} {mark}"
        )

    runs = calibrate(chosen_cases, chosen_tools, out_dir, seconds, progress)
    meta = {
        "created_at": started.isoformat(timespec="seconds"),
        **machine.describe(),
        "load_average_before": load_before,
        "load_average_after": machine.load_average(),
        "tools": [t.name for t in chosen_tools],
        "skipped_tools": skipped,
        "seconds": seconds,
    }
    found = Calibration(runs, to_json(runs, meta))
    write_json_atomic(out_dir / JSON_NAME, found.data)
    write_text_atomic(out_dir / MD_NAME, CalibrationMarkdown().render(found))
    CalibrationConsole().print(console, found)
    console.print(f"calibration: {out_dir / JSON_NAME}, {out_dir / MD_NAME}")
    if not found.data["passed"]:
        raise typer.Exit(1)
