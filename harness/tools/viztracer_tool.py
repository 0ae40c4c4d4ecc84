"""VizTracer: a function-level timeline (`trace.json`) for Perfetto or chrome://tracing.

VizTracer logs every call, so its trace grows with the call rate, not the run time: 0.4 s of a
tight loop gave 130 MB here with its defaults (a 1,000,000-entry buffer, no duration floor). We
drop calls shorter than 20 us (`--min_duration`; that 0.4 s run shrinks to 1 MB) and cap the ring
buffer at 300,000 entries (`--tracer_entries`, 30-40 MB of JSON at most; when it wraps only the
latest entries are kept and the trace says so). `--set entries=N` and `--set min_duration=5us`
override them. Because of the floor, a function's self time includes its dropped short callees.

VizTracer writes the trace when the program exits: on SIGINT (KeyboardInterrupt) and SIGTERM too,
not on SIGKILL. Saving takes time (about 3 s for 130 MB here), which the runner's grace period must
cover. Forked and `python` subprocess children are traced by default and merged into one trace.
`--log_async` (asyncio targets) shows each task as its own lane named after the task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from harness.errors import HarnessError
from harness.stacks import RunStacks
from harness.tools import viztracer_trace
from harness.tools.base import LaunchContext, Option, Tool, ToolResult, missing_module

TRACE = "trace.json"
DEFAULT_ENTRIES = 300_000
MAX_ENTRIES = 100_000_000  # viztracer allocates the whole ring buffer up front
DEFAULT_MIN_DURATION = "20us"
MB = 1024 * 1024
#: What viztracer's --min_duration parses (a number, then s, ms, us or ns, or nothing: us).
_DURATION = (r"(?:\d+\.?\d*|\.\d+)(?:[mun]?s)?", "20us, 0.5ms or 1s")
_HINTS = {
    "No module named viztracer": "viztracer is not installed in the target's interpreter: "
    "pip install viztracer",
    "Can't convert": "min_duration must look like 20us or 0.5ms",
    "No such file as": "viztracer could not find the target script",
}


class VizTracer(Tool):
    name = "viztracer"
    description = "function-level timeline for Perfetto (trace.json), asyncio tasks as lanes"
    hints = _HINTS
    package = "viztracer"
    starts_program = True
    options = (
        Option(
            "entries", "int", DEFAULT_ENTRIES, "ring buffer entries", minimum=1, maximum=MAX_ENTRIES
        ),
        Option(
            "min_duration",
            "str",
            DEFAULT_MIN_DURATION,
            "calls shorter are dropped",
            pattern=_DURATION,
        ),
    )
    adds_rss = True  # its ring buffer lives in the profiled processes
    openable = (("trace", "trace"),)

    def problem(self) -> str | None:
        return missing_module("viztracer")

    def command(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        python, script, *args = target_argv
        settings = self.settings(ctx.options)
        cmd = [
            python, "-m", "viztracer", "-o", str(ctx.run_dir / TRACE), "--quiet",
            "--tracer_entries", str(settings["entries"]),
            "--min_duration", settings["min_duration"],
            "--ignore_frozen",
        ]  # fmt: skip
        if ctx.is_asyncio:
            cmd.append("--log_async")
        # After `--` viztracer parses nothing, so the program's own flags reach the program;
        # `-m module` and `-c code` go before it (viztracer 1.1 eats a `--quiet` after them).
        if script in ("-m", "-c") and args:
            return [*cmd, script, args[0], "--", *args[1:]]
        return [*cmd, "--", script, *args]

    def collect(self, run_dir: Path) -> ToolResult:
        result = ToolResult()
        path = result.output(
            run_dir,
            TRACE,
            "trace",
            "viztracer saves it when the program exits, which a SIGKILL prevents",
        )
        loaded = _read(path, result) if path is not None else None
        if path is None or loaded is None:
            result.artifacts.pop("trace", None)  # not a trace anyone can open
            return result
        events = loaded["traceEvents"]
        trace = viztracer_trace.scan(events)
        result.metrics.update(
            events=len(events),
            trace_mb=path.stat().st_size / MB,
            processes=len(trace.pids),
            async_task_lanes=trace.task_lanes,
            async_tasks_present=trace.task_lanes > 0,
        )
        overflow = bool((loaded.get("viztracer_metadata") or {}).get("overflow"))
        result.metrics["ring_buffer_overflow"] = overflow
        if overflow:
            result.problems.append(
                "viztracer's ring buffer (--set entries=N, the --tracer_entries of each "
                "process) was full: older events were dropped and the trace keeps only the "
                f"latest {len(events):,} (raise entries or shorten the run)"
            )
        if not events:
            result.problems.append(f"{TRACE} holds no events")
        result.top = viztracer_trace.top_functions(trace)
        return result

    def stacks(self, run_dir: Path) -> RunStacks | None:
        """The calls of its trace, each path weighted by its own time in microseconds; the
        trace itself is already a Chrome trace."""
        path = run_dir / TRACE
        if not path.is_file():
            return None
        result = ToolResult()
        loaded = _read(path, result)
        if loaded is None:
            raise HarnessError(f"{path.parent.name}: {result.problems[0]}")
        found = viztracer_trace.own_time_stacks(viztracer_trace.scan(loaded["traceEvents"]))
        return RunStacks(run_dir.name, found, "us", None, path.name, path)


def _read(path: Path, result: ToolResult) -> dict[str, Any] | None:
    """The trace, with its list of events, or None with the problem said."""
    try:
        trace = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        result.problems.append(f"{TRACE} is unreadable ({exc.__class__.__name__})")
        return None
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        result.problems.append(f"{TRACE} is unreadable (no traceEvents list)")
        return None
    return trace


def top_functions(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Functions by self time (own duration minus nested calls), from complete ("X") events."""
    return viztracer_trace.top_functions(viztracer_trace.scan(events))
