"""The `harness` command: thin typed commands that hand off to the modules doing the work."""

from __future__ import annotations

import errno
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from harness import leftovers, rundir, targets, tools
from harness.commands.calibrate import calibrate_command
from harness.commands.compare import compare_command
from harness.commands.prune import prune_command
from harness.commands.report import report_command
from harness.commands.show import show_command
from harness.commands.study import study_command
from harness.errors import HarnessError, ToolUnavailable, one_line
from harness.render.console import print_summary
from harness.runner import RunRequest, execute
from workloads import registry

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Profile Python data pipelines: CPU, GIL, disk or network?",
)
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

#: OSErrors that mean the user pointed at a path that cannot be: bad input, exit 2.
PATH_ERRNOS = frozenset(
    {errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EACCES,
     errno.EPERM, errno.EROFS, errno.EINVAL, errno.EEXIST}
)  # fmt: skip
TOOL_OPTION_KEYS = ("native", "rate", "entries", "memory", "min_duration")


@app.command("list")
def list_command() -> None:
    """List the scenarios with their parameters, and the tools with their availability."""
    for scenario in registry.SCENARIOS.values():
        console.print(f"[bold]{scenario.name}[/]: {scenario.description}")
        for p in scenario.params:
            choices = f" [{'|'.join(p.choices)}]" if p.choices else ""
            console.print(f"    {p.name} ({p.type}, default {p.default!r}){choices}: {p.help}")
    console.print("[bold]tools[/]:")
    for name, tool in tools.TOOLS.items():
        problem = tool.problem()
        state = "[green]available[/]" if problem is None else f"[red]missing[/]: {problem}"
        console.print(f"    {name}: {tool.description} - {state}")


def finite(option: str, value: float | None) -> None:
    """HarnessError (exit 2) for nan or inf, which typer's range checks let through."""
    if value is not None and not math.isfinite(value):
        raise HarnessError(f"{option} {value}: give a finite number of seconds")


def _split_sets(sets: list[str], scenario_target: bool) -> tuple[list[str], dict[str, str]]:
    """--set items go to the scenario, except tool options (native=1, rate=200, ...)."""
    params, options = [], {}
    for item in sets:
        key = item.partition("=")[0].strip().replace("-", "_")
        if key in TOOL_OPTION_KEYS:
            options[key] = item.partition("=")[2].strip()
        else:
            params.append(item)
    return params, options


@app.command("run")
def run_command(
    target: Annotated[
        str,
        typer.Argument(help="a scenario name (see `harness list`) or a path to any Python script"),
    ],
    script_args: Annotated[
        list[str] | None, typer.Argument(help="arguments for a script, after --")
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
    keep_leftovers: Annotated[
        bool,
        typer.Option(
            help="leave running the processes of the run that outlive it (they are listed "
            "either way; without this they are ended)"
        ),
    ] = False,
) -> None:
    """Profile TARGET under one or more tools, with the monitor always on."""
    finite("--timeout", timeout)
    finite("--grace", grace)
    params, options = _split_sets(set_ or [], target in registry.SCENARIOS)
    chosen = tools.expand(tool or [])
    if baseline:  # the bare run goes first, so the tool runs find it
        bare = tools.get("none")
        chosen = [bare, *(t for t in chosen if t is not bare)]
    resolved = targets.resolve(target, params, script_args or [])
    for t in chosen:  # before anything is launched or written
        t.check_options(options)
    root = rundir.check_writable(out)
    codes: list[int] = []
    for t in chosen:
        try:
            request = RunRequest(resolved, t, root, timeout, grace, options, keep_leftovers)
            codes.append(_run_one(request))
        except ToolUnavailable as exc:
            err_console.print(f"error: {escape(one_line(exc.message))}")
            codes.append(2)
            if len(chosen) == 1:
                break
    if any(codes):
        raise typer.Exit(max(codes) if 2 not in codes else 2)


def _run_one(request: RunRequest) -> int:
    label = f"{request.target.name} under {request.tool.name}"
    console.print(f"[bold]run[/] {label}")
    with console.status(f"running {label}") as status:

        def progress(snap: dict) -> None:
            status.update(
                f"running {label}: {snap['elapsed_s']:.1f} s, "
                f"{snap.get('cores_used', 0):.2f} cores, "
                f"{snap.get('rss_mb', 0):.0f} MB RSS, {snap.get('threads', 0)} threads"
            )

        outcome = execute(request, progress)
    print_summary(console, outcome.summary, outcome.run_dir)
    for line in leftovers.lines(outcome.summary.leftovers):
        console.print(f"  [yellow]leftover:[/] {escape(line)}")
    if outcome.summary.error:
        message = one_line(f"{outcome.summary.run_id}: {outcome.summary.error['message']}")
        err_console.print(f"error: {escape(message)}")
    return outcome.exit_code


app.command("show")(show_command)
app.command("compare")(compare_command)
app.command("study")(study_command)
app.command("report")(report_command)
app.command("calibrate")(calibrate_command)
app.command("prune")(prune_command)


def main() -> None:
    """Entry point: HarnessError and usage errors become one line on stderr and an exit code."""
    try:
        code = app(standalone_mode=False)  # returns typer.Exit's code instead of exiting
    except HarnessError as exc:
        err_console.print(f"error: {escape(one_line(exc.message))}")
        raise SystemExit(exc.exit_code) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except OSError as exc:  # a path the system refuses: too long, a loop, not a directory...
        where = f"{exc.filename}: " if exc.filename else ""
        err_console.print(f"error: {escape(one_line(where + (exc.strerror or str(exc))))}")
        raise SystemExit(2 if exc.errno in PATH_ERRNOS else 1) from None
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        raise SystemExit(130) from None
    except TyperException as exc:  # usage errors: bad option, bad value, missing argument
        message = one_line(" ".join(exc.format_message().split()))
        err_console.print(f"error: {escape(message)} (see harness --help)")
        raise SystemExit(exc.exit_code) from None
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
