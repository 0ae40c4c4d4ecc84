"""`harness attach PID`: the monitor and a profiler on a process tree the harness did not start,
for a window of S seconds (or until Ctrl-C), then let go.

The process must not notice: nothing here signals it or stops it. The monitor only reads /proc;
each tool says how it attaches (Tool.attach; the sampler reads memory without a ptrace stop, the
allocation tracker is the exception: gdb stops the process for about a second to inject it,
said in a note).
The run directory and summary are those of any run, with status `attached`, the process's
command line in `command`, and the window as `wall_s`.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from harness import assemble, diskfull, rundir
from harness.errors import HarnessError
from harness.follow import PythonFollower
from harness.monitor import Monitor
from harness.runner import RunOutcome
from harness.sections import LiveFigures
from harness.summary import RunSummary, save
from harness.tools import access
from harness.tools.base import LaunchContext, Tool, ToolResult

STATUS = "attached"
Progress = Callable[[LiveFigures], None]


@dataclass
class AttachRequest:
    pid: int
    tool: Tool
    out_root: Path
    duration_s: float | None = None
    options: dict[str, str] = field(default_factory=dict)


def check(request: AttachRequest) -> None:
    """Everything that would make the attach fail, before anything starts: HarnessError (one
    line naming the fix, exit 2)."""
    pid, tool = request.pid, request.tool
    if request.duration_s is not None and request.duration_s <= 0:
        raise HarnessError(f"--duration {request.duration_s:g}: give a number of seconds above 0")
    owner = access.owner(pid) if pid > 0 else None
    if owner is None:
        raise HarnessError(f"no process has pid {pid}: find the one to attach to with ps or pgrep")
    if pid in _own_line():
        raise HarnessError(
            f"pid {pid} is this harness or one of its parents: attach to a process outside it"
        )
    problem = access.attach_problem(access.Facts.here(), pid, owner, _io_probe(pid))
    if problem:
        raise HarnessError(problem)
    problem = tool.problem() or tool.attach_problem(pid)
    if problem:
        raise HarnessError(f"{tool.name}: {problem}")


def execute(request: AttachRequest, progress: Progress | None = None) -> RunOutcome:
    """Watch and profile `request.pid` for the window; the run directory and its summary."""
    command = _cmdline(request.pid)
    name = os.path.basename(command[0]) if command else f"pid{request.pid}"
    with diskfull.guard(request.out_root):
        run_dir = rundir.create(request.out_root, name, request.tool.name)
    with rundir.in_progress(run_dir), diskfull.guard(request.out_root, run_dir):
        return _execute_in(request, run_dir, name, command, progress)


def _execute_in(
    request: AttachRequest,
    run_dir: Path,
    name: str,
    command: list[str],
    progress: Progress | None,
) -> RunOutcome:
    pid, tool = request.pid, request.tool
    summary = RunSummary(
        run_id=run_dir.name,
        target=name,
        kind="attach",
        tool=tool.name,
        params={"pid": pid, "argv": command},
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        command=command,
    )
    save(summary, run_dir)
    rundir.write_manifest(
        run_dir,
        run_id=run_dir.name,
        target=name,
        kind="attach",
        tool=tool.name,
        params=summary.params,
        argv=command,
        options=request.options,
        duration_s=request.duration_s,
    )
    ctx = LaunchContext(
        run_dir, sys.executable, request.options, attached=True, duration_s=request.duration_s
    )
    monitor = Monitor(pid)
    monitor.start()
    started = time.monotonic()
    follower: PythonFollower | None = None
    watchers: list[subprocess.Popen] = []
    if tool.follows_processes:
        follower = PythonFollower(pid, lambda p: tool.attach(p, ctx))
        follower.start()
    else:
        watchers = tool.attach(pid, ctx)
    how = _wait(pid, started, request.duration_s, monitor, progress)
    wall = time.monotonic() - started
    if follower is not None:
        watchers = follower.stop()
        summary.python_processes = follower.listed()
    tool.detach(pid, ctx, watchers)
    report = monitor.stop().to_dict()
    summary.problems.extend(_notes(how, wall, pid, tool))
    _finish(summary, run_dir, tool, wall, report)
    return RunOutcome(run_dir, summary)


def _wait(
    pid: int,
    started: float,
    duration_s: float | None,
    monitor: Monitor,
    progress: Progress | None,
) -> str:
    """Until the window ends: "duration", "interrupted" (Ctrl-C or SIGTERM) or "exited"."""
    previous_term = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        fd = None
    try:
        while True:
            elapsed = time.monotonic() - started
            if duration_s is not None and elapsed >= duration_s:
                return "duration"
            step = 0.1 if duration_s is None else min(0.1, duration_s - elapsed)
            if fd is not None:
                if select.select([fd], [], [], step)[0]:
                    return "exited"
            else:
                time.sleep(step)
                if not psutil.pid_exists(pid):
                    return "exited"
            if progress:
                progress(LiveFigures.of(elapsed, monitor.snapshot()))
    except KeyboardInterrupt:
        return "interrupted"
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        if fd is not None:
            os.close(fd)


def _notes(how: str, wall: float, pid: int, tool: Tool) -> list[str]:
    notes = []
    if how == "exited":
        notes.append(f"pid {pid} ended {wall:.1f} s into the window")
    elif how == "interrupted":
        notes.append(f"stopped by Ctrl-C or SIGTERM after {wall:.1f} s; pid {pid} was left running")
    notes.append(
        "attached to a running process: CPU, I/O and the split cover the window only; peak RSS "
        "is the process's high-water mark since it started"
    )
    if tool.starts_program:
        notes.append(f"{tool.name} stops the process for about a second to inject its tracker")
    return notes


def _finish(
    summary: RunSummary, run_dir: Path, tool: Tool, wall: float, report: dict[str, Any]
) -> None:
    try:
        tool_result = tool.collect(run_dir)
    except Exception as exc:  # a collector bug must not lose the run
        tool_result = ToolResult(problems=[f"{tool.name}: collecting its output failed: {exc}"])
    summary.status = STATUS
    summary.wall_s = round(wall, 4)
    summary.artifacts["manifest"] = "manifest.json"
    assemble.fill(summary, report, tool_result, None, tool, _source_roots(summary))
    if tool_result.unavailable:
        summary.error = {"message": tool_result.unavailable, "tool_unavailable": True}
    save(summary, run_dir)


def _source_roots(summary: RunSummary) -> list[Path]:
    """Where the attached program's source files may be: its working directory."""
    pid = summary.params.get("pid")
    try:
        return [Path(os.readlink(f"/proc/{pid}/cwd")), Path.cwd()]
    except OSError:
        return [Path.cwd()]


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.rstrip(b"\0").split(b"\0")]


def _own_line() -> set[int]:
    """This process and its ancestors: attaching to them would profile the harness itself."""
    pids = {os.getpid()}
    try:
        pids.update(p.pid for p in psutil.Process().parents())
    except psutil.Error:
        pass
    return pids


def _io_probe(pid: int) -> int | None:
    """The monitor reads /proc/<pid>/io, which the kernel guards as it guards ptrace reads."""
    try:
        Path(f"/proc/{pid}/io").read_bytes()
    except OSError as exc:
        return exc.errno
    return None
