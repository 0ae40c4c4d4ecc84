"""`harness attach PID`: profile a running process tree for a while, then let it go on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness import rundir, tools
from harness.attach import AttachRequest, check, execute
from harness.commands.run import TOOL_OPTION_KEYS, live_line
from harness.errors import HarnessError
from harness.render.console import print_summary

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
ATTACHABLE = ("py-spy", "memray", "none")


def attach_command(
    pid: Annotated[int, typer.Argument(help="the process to watch (its children too)")],
    duration: Annotated[
        float | None,
        typer.Option(help="seconds to watch (default: until Ctrl-C)"),
    ] = None,
    tool: Annotated[
        str, typer.Option("--tool", "-t", help="py-spy (default), memray or none")
    ] = "py-spy",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="tool options: native=1, rate=N"),
    ] = None,
    out: Annotated[Path, typer.Option(help="profiles root")] = Path("profiles"),
) -> None:
    """Watch a running process and its children with the monitor and a profiler for DURATION
    seconds (or until Ctrl-C), then detach: the process keeps running, is never signalled, and
    the run directory holds a summary like any run's (status `attached`)."""
    if tool not in ATTACHABLE:
        raise HarnessError(f"--tool {tool}: harness attach takes {', '.join(ATTACHABLE)}")
    options = {}
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in TOOL_OPTION_KEYS:
            raise HarnessError(f"--set {item}: attach takes tool options only (native=1, rate=N)")
        options[key.strip()] = value.strip()
    request = AttachRequest(pid, tools.get(tool), out, duration, options)
    check(request)
    request.out_root = rundir.check_writable(out)
    window = f"{duration:g} s" if duration is not None else "until Ctrl-C"
    label = f"pid {pid} under {tool}"
    console.print(f"[bold]attach[/] {label} ({window})")
    with console.status(f"watching {label}") as status:

        def progress(snap: dict) -> None:
            status.update(live_line(f"watching {label}", snap))

        outcome = execute(request, progress)
    print_summary(console, outcome.summary, outcome.run_dir)
    if outcome.summary.error:
        err_console.print(f"error: {outcome.summary.run_id}: {outcome.summary.error['message']}")
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)
