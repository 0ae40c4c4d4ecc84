"""One run: make its directory, launch the target under a tool in its own process group, watch
it with the monitor, stop it on timeout or Ctrl-C, collect, and write the summary.

Whatever happens, the run directory keeps what was collected and its summary says how the run
ended (ok / failed / timeout / interrupted).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import (
    assemble,
    descendants,
    diskfull,
    finish,
    leftovers,
    overhead,
    process,
    pycommand,
    rundir,
)
from harness.deadman import Deadman
from harness.errors import HarnessError, ToolUnavailable
from harness.follow import PythonFollower
from harness.monitor import Monitor
from harness.sections import LiveFigures
from harness.summary import RunSummary, load, save
from harness.targets import Target
from harness.tools.base import LaunchContext, Tool
from workloads import registry

DEADMAN_LIST = ".run-processes"  # the run's processes, for the deadman (removed after)
EXIT_CODES = {"ok": 0, "attached": 0, "failed": 1, "timeout": 124, "interrupted": 130}


@dataclass
class RunRequest:
    target: Target
    tool: Tool
    out_root: Path
    timeout_s: float | None = None
    grace_s: float = 15.0
    options: dict[str, str] = field(default_factory=dict)
    #: Said before the run (a tool that could not profile this target, say); kept in the
    #: summary's problems.
    notes: list[str] = field(default_factory=list)
    keep_leftovers: bool = False


@dataclass
class RunOutcome:
    run_dir: Path
    summary: RunSummary

    @property
    def exit_code(self) -> int:
        if self.summary.error and self.summary.error.get("tool_unavailable"):
            return 2
        return EXIT_CODES.get(self.summary.status, 1)


Progress = Callable[[LiveFigures], None]


def execute(request: RunRequest, progress: Progress | None = None) -> RunOutcome:
    """Run the request; returns the outcome (never raises for a failing target).

    The run directory is locked while the run goes on (so `harness prune` leaves it alone);
    running out of space raises DiskFull (one line, exit 1) with what was written kept."""
    problem = request.tool.problem()
    if problem:
        raise ToolUnavailable(f"{request.tool.name}: {problem}")
    if prep_problem := request.target.prepare_problem():
        raise HarnessError(prep_problem)
    with diskfull.guard(request.out_root):
        run_dir = rundir.create(request.out_root, request.target.name, request.tool.name)
    with rundir.in_progress(run_dir), diskfull.guard(request.out_root, run_dir):
        return _execute_in(request, run_dir, progress)


def _execute_in(request: RunRequest, run_dir: Path, progress: Progress | None) -> RunOutcome:
    target, tool = request.target, request.tool
    summary = RunSummary(
        run_id=run_dir.name,
        target=target.name,
        kind=target.kind,
        tool=tool.name,
        params=dict(target.params),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        command=target.argv(sys.executable),
        problems=list(request.notes),
    )
    save(summary, run_dir)  # status "running": a harness killed now still leaves a marked run
    with ExitStack() as stack:
        env = dict(os.environ)
        python_argv = target.python_argv(sys.executable)
        target_argv = (
            python_argv if tool.starts_program and python_argv else target.argv(sys.executable)
        )
        target_argv += _prepared(stack, target, run_dir, summary, env)
        ctx = LaunchContext(
            run_dir=run_dir,
            python=sys.executable,
            options=request.options,
            is_asyncio=target.is_asyncio,
        )
        command = tool.command(target_argv, ctx)
        rundir.write_manifest(
            run_dir,
            run_id=run_dir.name,
            target=target.name,
            kind=target.kind,
            tool=tool.name,
            params=target.params,
            argv=command,
            options=request.options,
            timeout_s=request.timeout_s,
            target_spec=target.spec(),
        )
        # Orphans of the run come to us, not to init; and should the harness be killed, the
        # deadman ends the run's processes (started before them: it is no process of theirs).
        with descendants.subreaper(), Deadman(run_dir / DEADMAN_LIST) as deadman:
            _watch(request, summary, run_dir, command, env, ctx, progress, deadman)
    _add_tool_overhead(request, summary, run_dir)
    return RunOutcome(run_dir, summary)


def _prepared(
    stack: ExitStack, target: Target, run_dir: Path, summary: RunSummary, env: dict[str, str]
) -> list[str]:
    """The arguments a target running a built-in scenario gets from the scenario's hook (its
    environment goes into `env`); what the hook starts lasts as long as `stack`."""
    preparing = target.prepare(run_dir.name, run_dir / assemble.RESULT_NAME)
    if preparing is None:
        return []
    try:
        prep = stack.enter_context(preparing)
    except registry.WorkloadError as exc:
        raise HarnessError(str(exc)) from None
    env.update(prep.env)
    summary.filesystem = prep.filesystem
    summary.problems += [f"{target.name}: {note}" for note in prep.notes]
    return prep.args


def _add_tool_overhead(request: RunRequest, summary: RunSummary, run_dir: Path) -> None:
    """Set the run against the newest bare run of the same target and parameters, if any."""
    if request.tool.name == overhead.BASELINE_TOOL or summary.status != "ok":
        return
    target = request.target
    script = target.script if target.kind == "script" else None
    base = overhead.find_baseline(request.out_root, target.name, summary.params, script)
    if base is None:
        return
    summary.tool_overhead = overhead.overhead(
        summary, load(base), str(base.relative_to(request.out_root))
    )
    save(summary, run_dir)


def _watch(
    request: RunRequest,
    summary: RunSummary,
    run_dir: Path,
    command: list[str],
    env: dict[str, str],
    ctx: LaunchContext,
    progress: Progress | None,
    deadman: Deadman,
) -> None:
    tool = request.tool
    stdout, stderr = run_dir / finish.STDOUT_NAME, run_dir / finish.STDERR_NAME
    started = time.monotonic()
    proc = process.launch(command, stdout, stderr, env=env)
    tracker = descendants.Descendants(proc.pid, own_names=tool.own_process_names)
    deadman.update((t.pid, t.start_ticks) for t in tracker.members.values())
    monitor = Monitor(
        proc.pid, exclude_names=tool.own_process_names, exclude_root=tool.root_is_launcher
    )
    monitor.start()
    follower = _follower(tool, proc.pid, ctx)
    exited_at: float | None = None
    status = "running"
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while (exited_at := process.wait_exit(proc, 0.1)) is None:
            leftovers.show_adopted(monitor, tracker.scan())
            deadman.update((t.pid, t.start_ticks) for t in tracker.members.values())
            elapsed = time.monotonic() - started
            if request.timeout_s is not None and elapsed >= request.timeout_s:
                status = "timeout"
                break
            if progress:
                progress(LiveFigures.of(elapsed, monitor.snapshot()))
    except KeyboardInterrupt:
        status = "interrupted"
    except BaseException:  # a harness error: nothing of the run may outlive it
        _abandon(proc, tracker, monitor, follower, previous_term)
        raise
    try:
        if status != "running":
            summary.problems.append(_stop_note(status, request))
            summary.problems += leftovers.stop_all(proc, tracker, request.grace_s)
        else:
            keep = request.keep_leftovers
            rows, notes = leftovers.after_exit(proc, tracker, request.grace_s, keep)
            summary.leftovers = rows
            summary.problems += notes
    except KeyboardInterrupt:  # a second Ctrl-C: stop waiting politely
        leftovers.kill_all(proc, tracker)
        status = "interrupted"
    finally:
        signal.signal(signal.SIGTERM, previous_term)
    wall = (exited_at if status == "running" and exited_at else time.monotonic()) - started
    report = monitor.stop().to_dict()  # before reaping, so a zombie's last counters count
    proc.wait()
    if status == "running":
        status = "ok" if proc.returncode == 0 else "failed"
    watchers = follower.stop() if follower else []
    _stop_watchers(watchers, request.grace_s)
    returncode = proc.returncode
    pythons = follower.listed() if follower else _pythons(report, proc.pid)
    summary.python_processes = pythons
    note = tool.child_note(run_dir, pythons)
    if note:
        summary.problems.append(note)
    script = request.target.script
    roots = [script.parent] if script else []
    finish.finish(summary, run_dir, tool, status, returncode, wall, report, [*roots, Path.cwd()])


def _abandon(
    proc: subprocess.Popen,
    tracker: descendants.Descendants,
    monitor: Monitor,
    follower: PythonFollower | None,
    previous_term: Any,
) -> None:
    signal.signal(signal.SIGTERM, previous_term)
    leftovers.kill_all(proc, tracker)
    monitor.stop()
    proc.wait()
    _stop_watchers(follower.stop() if follower else [], 0.0)


def _follower(tool: Tool, root_pid: int, ctx: LaunchContext) -> PythonFollower | None:
    """For a tool that attaches: a follower that hands it each Python process of the tree."""
    if not tool.follows_processes:
        return None
    follower = PythonFollower(root_pid, lambda pid: tool.attach(pid, ctx))
    follower.start()
    return follower


def _pythons(report: dict[str, Any], root_pid: int) -> list[dict[str, Any]]:
    """The Python processes the monitor saw, the launched one first."""
    found = [
        {"pid": p.get("pid"), "cmdline": p.get("cmdline_short", "")}
        for p in report.get("per_process") or []
        if pycommand.is_python_name(str(p.get("name", "")))
    ]
    return sorted(found, key=lambda p: p["pid"] != root_pid)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_note(status: str, request: RunRequest) -> str:
    if status == "timeout":
        return (
            f"stopped after the {request.timeout_s:g} s timeout (SIGINT to every process of "
            f"the run, SIGKILL after {request.grace_s:g} s)"
        )
    return "interrupted (Ctrl-C or SIGTERM): SIGINT sent to every process of the run"


def _stop_watchers(watchers: list[Any], grace_s: float) -> None:
    """Let a tool's watchers finish writing now that the target is gone; then stop them."""
    deadline = time.monotonic() + max(grace_s, 5.0)
    for watcher in watchers:
        try:
            watcher.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            watcher.send_signal(signal.SIGINT)
            try:
                watcher.wait(timeout=5)
            except subprocess.TimeoutExpired:
                watcher.kill()
                watcher.wait()
