"""What a run leaves behind once its processes are gone: the tool's output collected, the
summary filled from it, the monitor's report and the workload's result, and for a run that did
not end well one line saying why. A bug in a collector or in building the figures is a
problem in the summary, never a lost run.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from harness import assemble, rundir
from harness.summary import RunSummary, save
from harness.tools.base import Tool, ToolResult

STDOUT_NAME, STDERR_NAME = "stdout.txt", "stderr.txt"


def finish(
    summary: RunSummary,
    run_dir: Path,
    tool: Tool,
    status: str,
    returncode: int | None,
    wall: float,
    report: dict[str, Any],
    roots: list[Path],
) -> None:
    """Collect the tool's output, fill the summary from it, the monitor's report and the
    workload's result, say why a run that did not end well ended so, and save it."""
    try:
        tool_result = tool.collect(run_dir)
    except Exception as exc:  # a collector bug must not lose the run
        tool_result = ToolResult(problems=[f"{tool.name}: collecting its output failed: {exc}"])
    result = assemble.workload_result(run_dir, run_dir / STDOUT_NAME)
    summary.status = status
    summary.exit_code = returncode
    summary.wall_s = round(wall, 4)
    summary.artifacts.update(
        {"stdout": STDOUT_NAME, "stderr": STDERR_NAME, "manifest": "manifest.json"}
    )
    if (run_dir / assemble.RESULT_NAME).exists():
        summary.artifacts["result"] = assemble.RESULT_NAME
    try:
        assemble.fill(summary, report, tool_result, result, tool, roots, run_dir)
    except Exception as exc:  # a bug in building the figures must not lose the run
        summary.problems.append(
            f"building the summary's figures failed ({type(exc).__name__}: {exc}); "
            "the tool's and the workload's output are kept in the run directory"
        )
    summary.disk = rundir.sizes(run_dir, summary.artifacts)
    if tool_result.unavailable and status == "ok":
        status = summary.status = "failed"
    if status != "ok":
        tail = _tail(run_dir / STDERR_NAME)
        hint = tool_result.unavailable or (tool.failure_hint(tail) if status == "failed" else None)
        summary.error = {
            "message": hint or _failure_line(status, returncode, tail),
            "stderr_tail": tail[-1500:],
            "tool_unavailable": bool(hint),
        }
    save(summary, run_dir)


def _failure_line(status: str, returncode: int | None, tail: str) -> str:
    if status == "failed":
        if returncode is not None and returncode < 0:
            name = (
                signal.Signals(-returncode).name
                if -returncode in signal.valid_signals()
                else str(-returncode)
            )
            return f"the target was killed by {name}"
        last = tail.strip().splitlines()[-1] if tail.strip() else "no output on stderr"
        return f"the target exited with code {returncode}: {last}"
    return f"run {status}"


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - limit))
            return f.read().decode(errors="replace").strip()
    except OSError:
        return ""
