"""The `harness` command: thin typed commands that hand off to the modules doing the work."""

from __future__ import annotations

import errno

import typer
from rich.console import Console
from rich.markup import escape
from typer.exceptions import TyperException

from harness import tools
from harness.commands.attach import attach_command
from harness.commands.calibrate import calibrate_command
from harness.commands.check import check_command
from harness.commands.compare import compare_command
from harness.commands.export import export_command
from harness.commands.prune import prune_command
from harness.commands.report import report_command
from harness.commands.run import DashCommand, run_command
from harness.commands.show import show_command
from harness.commands.study import study_command
from harness.errors import HarnessError, one_line
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


@app.command("list")
def list_command() -> None:
    """List the scenarios with their parameters, and the tools with their availability."""
    for scenario in registry.SCENARIOS.values():
        console.print(f"[bold]{scenario.name}[/]: {scenario.description}")
        for p in scenario.params:
            choices = f" [{'|'.join(p.choices)}]" if p.choices else ""
            line = f"    {p.name} ({p.type}, default {p.default!r}){choices}: {p.help}"
            console.print(escape(line))  # the choices' brackets are not markup
    console.print("[bold]tools[/]:")
    for name, tool in zip(tools.REGISTRY, tools.every(), strict=True):
        problem = tool.problem()
        state = "[green]available[/]" if problem is None else f"[red]missing[/]: {problem}"
        console.print(f"    {name}: {tool.description} - {state}")


app.command("run", cls=DashCommand)(run_command)
app.command("attach")(attach_command)
app.command("show")(show_command)
app.command("compare")(compare_command)
app.command("study")(study_command)
app.command("report")(report_command)
app.command("calibrate")(calibrate_command)
app.command("check")(check_command)
app.command("export")(export_command)
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
