"""`harness run`: a scenario, a script, `-m package.module` or `-- any command`, under one or more
tools, with the monitor always on."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from harness import tools
from harness.commands.common import console, err_console, tool_options, watched
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.runner import RunRequest
    from harness.targets import Target
    from harness.tools.base import Tool

_AFTER_DASH = "pipeprof.after_dash"


class DashCommand(TyperCommand):
    """Keeps what followed `--`, so `harness run -- cmd args` (a command) is told apart from
    `harness run script.py -- args` (a script and its arguments): both reach the function as
    the same positional words."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta[_AFTER_DASH] = args[args.index("--") + 1 :] if "--" in args else None
        return super().parse_args(ctx, args)


def finite(option: str, value: float | None) -> None:
    """HarnessError (exit 2) for nan or inf, which typer's range checks let through."""
    if value is not None and not math.isfinite(value):
        raise HarnessError(f"{option} {value}: give a finite number of seconds")


def run_command(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            help="a scenario name (see `harness list`) or a path to any Python script; "
            "or nothing, then -m MODULE or -- COMMAND"
        ),
    ] = None,
    script_args: Annotated[
        list[str] | None, typer.Argument(help="arguments for a script or module, after --")
    ] = None,
    module: Annotated[
        str | None,
        typer.Option("--module", "-m", help="run `python -m MODULE`; its arguments after --"),
    ] = None,
    tool: Annotated[
        list[str] | None,
        typer.Option(
            "--tool",
            "-t",
            help="py-spy (default), scalene, memray, viztracer, none, or all; repeat for several",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            help="scenario parameter key=value (repeatable); tool options "
            "native=1, rate=N, entries=N too",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="profiles root")] = Path("profiles"),
    timeout: Annotated[
        float | None,
        typer.Option(help="stop the run after this many seconds (SIGINT, then SIGKILL)", min=0.1),
    ] = None,
    grace: Annotated[
        float, typer.Option(help="seconds between SIGINT and SIGKILL when stopping", min=0.0)
    ] = 15.0,
    baseline: Annotated[
        bool,
        typer.Option(
            help="first make a bare run (--tool none), so each tool's summary gets "
            "its tool_overhead against it"
        ),
    ] = False,
    repeat: Annotated[
        int,
        typer.Option(help="run each tool this many times (a baseline for harness check)", min=1),
    ] = 1,
    keep_leftovers: Annotated[
        bool,
        typer.Option(
            help="leave running the processes of the run that outlive it (they are listed "
            "either way; without this they are ended)"
        ),
    ] = False,
) -> None:
    """Profile a target under one or more tools, with the monitor always on.

    TARGET is a scenario or a script (`harness run my.py -- --items 10`); `-m pkg.mod -- args`
    runs a module; `harness run -- COMMAND...` runs any command (`python -m etl.daily`,
    `pytest -q tests/`, a shell script), and the profiler follows every Python process in it.
    """
    from harness import rundir
    from harness.runner import RunRequest

    finite("--timeout", timeout)
    finite("--grace", grace)
    names = tool or [tools.DEFAULT]
    chosen = tools.expand(names)
    if baseline:  # the bare run goes first, so the tool runs find it
        bare = tools.get(tools.BARE)
        chosen = [bare, *(t for t in chosen if t is not bare)]
    params, options = tool_options(set_ or [], chosen)
    resolved = _resolve(ctx, target, list(script_args or []), module, params)
    strict = {tools.get(n).name for n in names if n != tools.ALL} | (
        {tools.BARE} if baseline else set()
    )
    plan = plan_tools(chosen, resolved, strict)
    for t, _ in plan:  # before anything is launched or written
        t.check_options(options)
    root = rundir.check_writable(out)
    codes = [
        _run_one(
            RunRequest(
                resolved, t, root, timeout, grace, options, notes, keep_leftovers=keep_leftovers
            )
        )
        for t, notes in plan
        for _ in range(repeat)
    ]
    if any(codes):
        raise typer.Exit(max(codes) if 2 not in codes else 2)


def _resolve(
    ctx: typer.Context,
    target: str | None,
    script_args: list[str],
    module: str | None,
    sets: list[str],
) -> Target:
    from harness import targets

    words = ([target] if target is not None else []) + script_args
    after_dash = ctx.meta.get(_AFTER_DASH)
    if module is not None:
        return targets.resolve(None, sets, words, module=module)
    if after_dash is not None and words == after_dash:  # nothing before `--`: a command
        return targets.resolve(None, sets, [], command=words)
    return targets.resolve(target, sets, script_args)


def plan_tools(
    chosen: list[Tool], target: Target, strict: set[str]
) -> list[tuple[Tool, list[str]]]:
    """Each tool that will run, with the notes its run starts with; checked before anything
    starts. A tool asked for by name that cannot run stops everything (exit 2, one line each);
    one that `all` brought in is skipped with a note. A tool that cannot start this program
    (a non-Python command) gives way to the monitor alone, and says so."""
    python_argv = target.python_argv(sys.executable)
    plan: list[tuple[Tool, list[str]]] = []
    refused: list[str] = []
    for tool in chosen:
        problem = tool.problem()
        if problem:
            if tool.name in strict:
                refused.append(f"{tool.name}: {problem}")
            else:
                err_console.print(f"note: {tool.name} skipped: {problem}")
            continue
        unsuited = tool.program_problem(python_argv)
        if unsuited is None:
            plan.append((tool, []))
        elif tool.name in strict:
            followers = " or ".join(t.name for t in tools.every() if t.follows_processes)
            note = (
                f"{unsuited}: this run has the monitor's view only ({followers} follows any Python)"
            )
            err_console.print(f"note: {note}")
            plan.append((tools.get(tools.BARE), [note]))
        else:
            err_console.print(f"note: {tool.name} skipped: {unsuited}")
    if refused:
        raise HarnessError("; ".join(refused) if len(refused) > 1 else refused[0])
    if not plan:
        raise HarnessError("none of the tools asked for can profile this target (see the notes)")
    unique: list[tuple[Tool, list[str]]] = []
    for tool, notes in plan:  # two tools giving way to the monitor make one monitor run
        if all(t is not tool for t, _ in unique):
            unique.append((tool, notes))
    return unique


def _run_one(request: RunRequest) -> int:
    from harness.runner import execute

    label = f"{request.target.name} under {request.tool.name}"
    console.print(f"[bold]run[/] {label}")
    return watched("running", label, lambda progress: execute(request, progress)).exit_code
