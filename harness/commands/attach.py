"""`harness attach PID`: profile a running process tree for a while, then let it go on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness import tools
from harness.commands.common import console, watched
from harness.errors import HarnessError


def attach_command(
    pid: Annotated[int, typer.Argument(help="the process to watch (its children too)")],
    duration: Annotated[
        float | None,
        typer.Option(help="seconds to watch (default: until Ctrl-C)"),
    ] = None,
    tool: Annotated[
        str, typer.Option("--tool", "-t", help="py-spy (default), memray or none")
    ] = tools.DEFAULT,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="tool options: native=1, rate=N"),
    ] = None,
    out: Annotated[Path, typer.Option(help="profiles root")] = Path("profiles"),
) -> None:
    """Watch a running process and its children with the monitor and a profiler for DURATION
    seconds (or until Ctrl-C), then detach: the process keeps running, is never signalled, and
    the run directory holds a summary like any run's (status `attached`)."""
    from harness import rundir
    from harness.attach import AttachRequest, check, execute

    attachable = tools.attachable()
    if tool not in attachable:
        raise HarnessError(f"--tool {tool}: harness attach takes {', '.join(attachable)}")
    chosen = tools.get(tool)
    takes = {option.name for option in chosen.options}
    options = {}
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in takes:
            listed = ", ".join(sorted(takes)) or "none"
            raise HarnessError(f"--set {item}: attach takes {tool}'s options only ({listed})")
        options[key.strip()] = value.strip()
    request = AttachRequest(pid, chosen, out, duration, options)
    check(request)
    request.out_root = rundir.check_writable(out)
    window = f"{duration:g} s" if duration is not None else "until Ctrl-C"
    label = f"pid {pid} under {tool}"
    console.print(f"[bold]attach[/] {label} ({window})")
    outcome = watched("watching", label, lambda progress: execute(request, progress))
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)
