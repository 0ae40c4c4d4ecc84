"""The small interface every profiler adapter implements: everything about a tool lives in its
adapter, so the rest of the harness never names one.

An adapter is pure over files: `command()` builds the command line that runs the target under the
tool and writes the tool's output into the run directory; `collect()` reads those files back
(after the run, even a failed or interrupted one) and turns them into artifacts and figures.
Besides, each adapter says which options it takes (typed, parsed by one parser), its lines of
evidence for the verdict, its view of a calibration case, which of its artifacts are worth
opening, whether it adds to the tree's RSS, where its stacks are (`harness export`, compare),
and how a user would run it by hand (the bench's comparison). Adding a profiler is one module
here and one line in tools/__init__.py; tests/tools/test_adapters.py picks it up.
"""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.stacks import RunStacks
from workloads.registry import Param as Option


def missing_module(module: str) -> str | None:
    """One line with the fix when `module` cannot be imported by the harness's interpreter.

    The tools run as `python -m <module>` with that same interpreter, so this is their check.
    """
    if importlib.util.find_spec(module) is None:
        return f"{module} is not installed for {sys.executable}: pip install {module}"
    return None


@dataclass
class ToolResult:
    """What a tool contributed to a run.

    artifacts: name -> path relative to the run directory (only files that exist).
    metrics: the tool's own figures, e.g. gil_held_fraction, active_fraction, peak_heap_mb,
        python_fraction / native_fraction / system_fraction; None or absent where not known.
    top: the hottest places by the tool's own measure, most first:
        {"where": "file.py:12 func", "value": float, "unit": "samples" | "%" | "MB" | ...}.
    problems: one-line warnings about the collection (no samples, truncated output, ...).
    unavailable: the tool could not profile at all; one line naming the fix.
    """

    artifacts: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    top: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: Set when the tool could not profile at all (no ptrace, say): one line with the fix.
    unavailable: str | None = None
    #: Folded stacks with py-spy's `process`/`thread (TID)` root frames, every thread's
    #: samples waiting or not, for joining with the monitor's per-thread causes (callsites.py);
    #: not kept in summary.json.
    stacks: dict[tuple[str, ...], int] | None = None

    def output(self, run_dir: Path, name: str, key: str, missing: str) -> Path | None:
        """`run_dir / name`, recorded as artifact `key`, when the tool wrote it; else None and
        the problem "no NAME: `missing`" (why the tool may not have written it)."""
        path = run_dir / name
        if not path.is_file():
            self.problems.append(f"no {name}: {missing}")
            return None
        self.artifacts[key] = name
        return path


@dataclass
class LaunchContext:
    """What an adapter may need to know to build its command line."""

    run_dir: Path
    python: str
    options: dict[str, str] = field(default_factory=dict)
    is_asyncio: bool = False
    #: The target is a process the harness did not start (`harness attach`): never stop it.
    attached: bool = False
    #: How long an attached recording lasts (None: until the harness detaches it).
    duration_s: float | None = None


@dataclass(frozen=True)
class Truth:
    """What a calibration case is by construction, for a tool's view of it."""

    cpu: float | None  # the share of thread time on a CPU in user mode
    peak_rss_mb: float | None  # the memory the case holds


class Tool(ABC):
    """A profiler the harness can run a target under."""

    name: str = ""
    description: str = ""
    #: The distribution that provides it, whose version a run's manifest records.
    package: str | None = None
    #: Its options (`--set name=value`), typed like the scenarios' parameters; see settings().
    options: tuple[Option, ...] = ()
    #: Its own processes or allocator hooks add to the tree's RSS: peak RSS under it is not
    #: the program's memory (calibration does not hold it to the truth).
    adds_rss: bool = False
    #: Artifacts worth opening, by key (or key prefix: `memray_flamegraph_<pid>`), with the
    #: label the report links them by; printed as paths after a run, in this order.
    openable: tuple[tuple[str, str], ...] = ()
    #: Text the tool prints when it cannot run -> the one-line fix (failure_hint).
    hints: dict[str, str] = {}  # noqa: RUF012 - read only, replaced whole by an adapter
    #: A study runs one representative point per scenario under it, with these options.
    study_options: tuple[tuple[str, str], ...] | None = None
    #: Executable names of the tool's own processes (recorders attached to the tree), which
    #: the monitor leaves out of the workload's figures.
    own_process_names: frozenset[str] = frozenset()
    #: The command's first process is the tool's own launcher; the monitor leaves it out.
    root_is_launcher: bool = False
    #: The tool attaches to running processes: the runner calls attach() for each Python
    #: process of the tree as it appears (harness/follow.py), and command() leaves the
    #: target as it is. Otherwise the tool starts the program itself through command().
    follows_processes: bool = False
    #: command() wraps the program, which must then be a Python command line.
    starts_program: bool = False
    #: `harness attach` can use it on a process the harness did not start.
    can_attach: bool = False

    @abstractmethod
    def problem(self) -> str | None:
        """None if the tool can run here, else one line naming what is wrong and the fix."""

    @abstractmethod
    def command(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        """The command line that runs `target_argv` under the tool: `[python, script, args...]`,
        `[python, "-m", module, args...]` or `[python, "-c", code, args...]` (any command as it
        is for a tool that follows processes)."""

    def program_problem(self, python_argv: list[str] | None) -> str | None:
        """Why the tool cannot start this program (None: it can). `python_argv` is None when
        the command is not a Python command line (a shell, a binary)."""
        if not self.starts_program or python_argv is not None:
            return None
        return (
            f"{self.name} starts Python programs itself (python SCRIPT, python -m MODULE, "
            "python -c CODE or a console script), and this command is none of them"
        )

    def attach_problem(self, pid: int) -> str | None:
        """Why the tool cannot profile the running process `pid` (None: it can)."""
        if not self.can_attach:
            return (
                f"{self.name} cannot attach to a running process: use --tool py-spy, memray or none"
            )
        return None

    def detach(self, pid: int, ctx: LaunchContext, watchers: list[subprocess.Popen]) -> None:
        """End an attached recording of `pid` and let its watchers write their output: SIGINT
        (py-spy, memray and viztracer write what they have on it), SIGKILL after 10 s."""
        for watcher in watchers:
            if watcher.poll() is None:
                watcher.send_signal(signal.SIGINT)
        for watcher in watchers:
            try:
                watcher.wait(timeout=10)
            except subprocess.TimeoutExpired:
                watcher.kill()
                watcher.wait()

    def child_note(self, run_dir: Path, pythons: list[dict[str, Any]]) -> str | None:
        """A note when the tool did not profile some of the run's Python processes
        (`pythons`: pid, ppid, cmdline of each Python process seen), else None."""
        return None

    @abstractmethod
    def collect(self, run_dir: Path) -> ToolResult:
        """Read the tool's output from `run_dir`, render artifacts, return figures."""

    def settings(self, options: dict[str, str]) -> dict[str, Any]:
        """This tool's options from `options` (as given: `--set`, a manifest), typed, the
        defaults filled in; others' options are left alone. HarnessError (one line, exit 2)
        for a value it cannot take; the CLI asks before anything is launched or written."""
        values: dict[str, Any] = {}
        for option in self.options:
            raw = options.get(option.name)
            try:
                values[option.name] = option.default if raw is None else option.parse(raw)
            except ValueError as exc:
                raise HarnessError(f"--set {option.name}={raw}: {exc} ({self.name})") from None
        return values

    def check_options(self, options: dict[str, str]) -> None:
        """HarnessError for an option value this tool cannot take (see settings)."""
        self.settings(options)

    def by_hand(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        """The command line a user would type to run `target_argv` under the tool with the
        flags the harness gives it (the bench sets the harness against it)."""
        return self.command(target_argv, ctx)

    def stacks(self, run_dir: Path) -> RunStacks | None:
        """The stacks the tool recorded in `run_dir`, for `harness export` and compare (None:
        it records none)."""
        return None

    def calibration_view(self, metrics: dict[str, Any], truth: Truth) -> dict[str, Any]:
        """Its own figure closest to a calibration case's truth (see view()); {} for none."""
        return {}

    def attach(self, pid: int, ctx: LaunchContext) -> list[subprocess.Popen]:
        """Start processes that record the running process `pid` (default: none): each Python
        process of a run for a tool that follows processes, the process `harness attach` names.

        The runner stops them after the target ends: it waits for them to finish writing,
        then sends SIGINT, then SIGKILL; `harness attach` calls detach().
        """
        return []

    def failure_hint(self, stderr_tail: str) -> str | None:
        """A one-line fix if the tool's stderr shows it could not run (no ptrace, say): the
        first of `hints` whose text the tail holds."""
        return next((hint for key, hint in self.hints.items() if key in stderr_tail), None)

    def evidence(self, result: ToolResult, split: dict[str, float]) -> list[str]:
        """The tool's own lines for the verdict, set against the monitor's resource `split`
        where they can be (default: none). The verdict quotes them after the counters'."""
        return []


def view(label: str, value: float, truth: float | None) -> dict[str, Any]:
    """A tool's figure beside the truth it is closest to, and the difference."""
    return {
        "label": label,
        "value": value,
        "truth": truth,
        "error": None if truth is None else value - truth,
    }
