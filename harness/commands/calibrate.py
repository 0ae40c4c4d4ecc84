"""`harness calibrate`: the ground-truth cases under the monitor and each tool, as a table of
truth against findings, with calibration.json and calibration.md."""

from __future__ import annotations

import math
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness import rundir
from harness.calibrate import (
    CaseRun,
    calibrate,
    choose_cases,
    choose_tools,
    default_out_dir,
    to_json,
)
from harness.errors import HarnessError
from harness.summary import write_json_atomic

console = Console(highlight=False, soft_wrap=True)
if not console.is_terminal:  # piped or captured: rich would assume 80 columns
    console.width = 160
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

JSON_NAME = "calibration.json"
MD_NAME = "calibration.md"
HEADERS = (
    "case",
    "truth",
    "tool",
    "harness says",
    "CPU error",
    "cores",
    "peak RSS MB",
    "tool's own view",
    "result",
)
NOTES = """\
- *truth*: the expected verdict and CPU share of each case, by construction (`~`: measured on the
  reference machine, shown but not checked).
- *CPU share*: the verdict's CPU share of the working threads' time: on a CPU, or queued for one
  after a preemption; queueing after a wake-up (the neighbours' load) is left out. On an idle
  machine it is the schedstat on-CPU share.
- The mixes' verdicts follow from the verdict rule (a share must be >= 0.5 and 1.5x the next):
  0.25 CPU leaves sleep 0.75 dominant, 0.75 CPU dominates sleep 0.25, and 0.50 +- 0.10 never
  reaches 1.5x the other share, hence mixed.
- *cores* is judged only when other programs used under 0.3 cores during the run.
- *tool's own view*: py-spy's active-sample fraction against the CPU share, scalene's system
  share against 1 - CPU share, memray's peak heap against the memory held; shown, never failed.
"""


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
    if seconds is not None and not math.isfinite(seconds):
        raise HarnessError(f"--seconds {seconds}: give a finite number of seconds")
    chosen_cases = choose_cases(cases)
    chosen_tools, skipped = choose_tools(tool)
    for note in skipped:
        err_console.print(f"[yellow]skipped[/] {escape(note)}")
    out_dir = rundir.check_writable(out or default_out_dir())
    started = datetime.now(UTC)
    load_before = [round(x, 2) for x in os.getloadavg()]

    def progress(n: int, total: int, run: CaseRun) -> None:
        mark = "[red]FAIL[/]" if run.failed else "[green]ok[/]"
        console.print(
            f"[{n}/{total}] {run.case} under {run.tool}: {run.bound} "
            f"(truth {run.expected_bound or '-'}), CPU share {_f(run.cpu_share)} "
            f"in {run.wall_s:.1f} s {mark}"
        )

    runs = calibrate(chosen_cases, chosen_tools, out_dir, seconds, progress)
    meta = {
        "created_at": started.isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "tools": [t.name for t in chosen_tools],
        "skipped_tools": skipped,
        "seconds": seconds,
    }
    data = to_json(runs, meta)
    write_json_atomic(out_dir / JSON_NAME, data)
    (out_dir / MD_NAME).write_text(markdown(runs, data))
    console.print(table(runs))
    for run in runs:
        for check in run.checks:
            if check.ok is False:
                console.print(f"[red]wrong[/] {run.case} under {run.tool}: {check.detail}")
    console.print(f"calibration: {out_dir / JSON_NAME}, {out_dir / MD_NAME}")
    if not data["passed"]:
        raise typer.Exit(1)


def _f(value: float | None, digits: int = 2, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def row(run: CaseRun) -> list[str]:
    """One run as the table's cells (plain text, shared by the terminal and Markdown)."""
    truth_cpu = _f(run.expected_cpu)
    if run.expected_cpu is not None and not any(c.name == "cpu" for c in run.checks):
        truth_cpu = "~" + truth_cpu
    cores = _f(run.cores_used)
    cores_check = next((c for c in run.checks if c.name == "cores"), None)
    if cores_check is not None and cores_check.ok is None:
        cores += " (busy)"
    return [
        run.case,
        f"{run.expected_bound or '-'}, {truth_cpu}",
        run.tool,
        f"{run.bound or '-'}, {_f(run.cpu_share)}",
        _f(run.cpu_error, signed=True),
        cores,
        _f(run.peak_rss_mb, 0),
        _view_text(run.tool_view),
        _result(run),
    ]


def _view_text(view: dict[str, Any]) -> str:
    if not view:
        return "-"
    digits = 0 if view["label"].endswith("MB") else 2
    text = f"{view['label']} {_f(view['value'], digits)}"
    if view.get("truth") is not None:
        text += f" vs {_f(view['truth'], digits)} ({_f(view['error'], digits, signed=True)})"
    if view.get("gil_held") is not None:
        text += f", GIL held {_f(view['gil_held'])}"
    return text


def _result(run: CaseRun) -> str:
    wrong = [c.name for c in run.checks if c.ok is False]
    return "FAIL: " + ", ".join(wrong) if wrong else "ok"


def table(runs: list[CaseRun]) -> Table:
    out = Table(box=None, padding=(0, 1, 0, 0), header_style="bold")
    for name in HEADERS:
        out.add_column(name, justify="right" if name in ("CPU error", "peak RSS MB") else "left")
    for run in runs:
        cells = [escape(c) for c in row(run)]
        if run.failed:
            cells[-1] = f"[red]{cells[-1]}[/]"
        out.add_row(*cells)
    return out


def markdown(runs: list[CaseRun], data: dict[str, Any]) -> str:
    """calibration.md: when and where, the table, what was wrong, how to read it."""
    lines = [
        "# Calibration",
        "",
        f"{data['created_at']} on {data['host']} ({data['cpu_count']} cores), load average "
        f"{data['load_average_before'][0]} before and {data['load_average_after'][0]} after; "
        f"tools: {', '.join(data['tools'])}. "
        + (
            "**All runs passed.**"
            if data["passed"]
            else f"**{data['failed_runs']} run(s) failed.**"
        ),
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" for _ in HEADERS) + "|",
    ]
    lines += ["| " + " | ".join(row(r)) + " |" for r in runs]
    wrong = [(r, c) for r in runs for c in r.checks if c.ok is False]
    if wrong:
        lines += ["", "## Wrong", ""]
        lines += [f"- {r.case} under {r.tool}: {c.detail} ({r.run_dir})" for r, c in wrong]
    unjudged = [(r, c) for r in runs for c in r.checks if c.ok is None]
    if unjudged:
        lines += ["", "## Not judged", ""]
        lines += [f"- {r.case} under {r.tool}: {c.detail}" for r, c in unjudged]
    if data.get("skipped_tools"):
        lines += ["", "## Tools skipped", ""]
        lines += [f"- {note}" for note in data["skipped_tools"]]
    lines += ["", "## How to read it", "", NOTES]
    return "\n".join(lines)
