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

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson

from harness.errors import HarnessError
from harness.tools.base import LaunchContext, Tool, ToolResult, missing_module

TRACE = "trace.json"
DEFAULT_ENTRIES = 300_000
MAX_ENTRIES = 100_000_000  # viztracer allocates the whole ring buffer up front
DEFAULT_MIN_DURATION = "20us"
TOP_N = 10
MB = 1024 * 1024
#: A task lane is a "thread" viztracer names after its task; only asyncio's default names
#: (Task-N) tell it from a real thread, so tasks given their own names are not counted.
_TASK_NAME = re.compile(r"Task-\d+")
#: Rounding of ts and dur (1 ns each) must not turn a sibling into a child.
_NEST_EPS_US = 0.002
#: What viztracer's --min_duration parses (a number, then s, ms, us or ns, or nothing: us).
_DURATION = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[mun]?s)?")
_FUNC = re.compile(r"^(?P<func>.*) \((?P<path>.+):(?P<line>\d+)\)$")
_HINTS = {
    "No module named viztracer": "viztracer is not installed in the target's interpreter: "
    "pip install viztracer",
    "Can't convert": "min_duration must look like 20us or 0.5ms",
    "No such file as": "viztracer could not find the target script",
}


class VizTracer(Tool):
    name = "viztracer"
    description = "function-level timeline for Perfetto (trace.json), asyncio tasks as lanes"
    starts_program = True

    def problem(self) -> str | None:
        return missing_module("viztracer")

    def check_options(self, options: dict[str, str]) -> None:
        entries = options.get("entries", str(DEFAULT_ENTRIES))
        if not (entries.isascii() and entries.isdigit()) or not 0 < int(entries) <= MAX_ENTRIES:
            raise HarnessError(
                f"entries must be a whole number from 1 to {MAX_ENTRIES:,}, not {entries!r}"
            )
        duration = options.get("min_duration", DEFAULT_MIN_DURATION)
        if not _DURATION.fullmatch(duration):
            raise HarnessError(f"min_duration must look like 20us, 0.5ms or 1s, not {duration!r}")

    def command(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        python, script, *args = target_argv
        self.check_options(ctx.options)
        entries = ctx.options.get("entries", str(DEFAULT_ENTRIES))
        cmd = [
            python, "-m", "viztracer", "-o", str(ctx.run_dir / TRACE), "--quiet",
            "--tracer_entries", entries,
            "--min_duration", ctx.options.get("min_duration", DEFAULT_MIN_DURATION),
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
        path = run_dir / TRACE
        if not path.is_file():
            result.problems.append(
                f"no {TRACE}: viztracer saves it when the program exits, which a SIGKILL prevents"
            )
            return result
        try:
            trace = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            result.problems.append(f"{TRACE} is unreadable ({exc.__class__.__name__})")
            return result
        events = trace.get("traceEvents") if isinstance(trace, dict) else None
        if not isinstance(events, list):
            result.problems.append(f"{TRACE} is unreadable (no traceEvents list)")
            return result
        result.artifacts["trace"] = TRACE
        lanes, pids, task_lanes = _scan(events)
        result.metrics.update(
            events=len(events),
            trace_mb=path.stat().st_size / MB,
            processes=len(pids),
            async_task_lanes=task_lanes,
            async_tasks_present=task_lanes > 0,
        )
        overflow = bool((trace.get("viztracer_metadata") or {}).get("overflow"))
        result.metrics["ring_buffer_overflow"] = overflow
        if overflow:
            result.problems.append(
                "viztracer's ring buffer (--set entries=N, the --tracer_entries of each "
                "process) was full: older events were dropped and the trace keeps only the "
                f"latest {len(events):,} (raise entries or shorten the run)"
            )
        if not events:
            result.problems.append(f"{TRACE} holds no events")
        result.top = _rank(lanes)
        return result

    def failure_hint(self, stderr_tail: str) -> str | None:
        return next((hint for key, hint in _HINTS.items() if key in stderr_tail), None)


Lanes = dict[tuple[Any, Any], list[tuple[float, float, str]]]


def _scan(events: list[dict[str, Any]]) -> tuple[Lanes, set[Any], int]:
    """One pass: complete calls per (pid, tid) lane, the processes seen, and asyncio task lanes."""
    lanes: Lanes = defaultdict(list)
    pids: set[Any] = set()
    task_lanes = 0
    for e in events:
        ph = e.get("ph")
        if ph == "X":
            if "dur" in e:
                # -dur: a parent and its first child start together; the parent must come first.
                lanes[(e.get("pid"), e.get("tid"))].append((e["ts"], -e["dur"], e.get("name", "?")))
        elif ph == "M" and e.get("name") == "thread_name":
            task_lanes += bool(_TASK_NAME.fullmatch(str((e.get("args") or {}).get("name", ""))))
        pids.add(e.get("pid"))
    return lanes, pids, task_lanes


def top_functions(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Functions by self time (own duration minus nested calls), from complete ("X") events."""
    return _rank(_scan(events)[0])


def _rank(lanes: Lanes) -> list[dict[str, Any]]:
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])  # calls, incl, self
    for lane in lanes.values():
        _add_lane(lane, totals)
    ranked = sorted(totals.items(), key=lambda item: -item[1][2])[:TOP_N]
    return [
        {
            "where": _where(name),
            "value": round(own / 1000, 3),
            "unit": "ms",
            "inclusive_ms": round(incl / 1000, 3),
            "calls": int(calls),
        }
        for name, (calls, incl, own) in ranked
    ]


def _add_lane(lane: list[tuple[float, float, str]], totals: dict[str, list[float]]) -> None:
    """Nest one thread's (or task's) calls by time and add up calls, inclusive and self time."""
    lane.sort()
    stack: list[list[Any]] = []  # [end, name, duration, time in nested calls]
    open_calls: dict[str, int] = defaultdict(int)
    for ts, neg_dur, name in lane:
        while stack and stack[-1][0] <= ts + _NEST_EPS_US:
            _close(stack.pop(), totals, open_calls)
        dur = -neg_dur
        if stack:
            stack[-1][3] += dur
        totals[name][0] += 1
        open_calls[name] += 1
        stack.append([ts + dur, name, dur, 0.0])
    while stack:
        _close(stack.pop(), totals, open_calls)


def _close(frame: list[Any], totals: dict[str, list[float]], open_calls: dict[str, int]) -> None:
    _, name, dur, nested = frame
    total = totals[name]
    total[2] += max(dur - nested, 0.0)
    open_calls[name] -= 1
    if not open_calls[name]:  # recursion: count the outermost call's duration only
        total[1] += dur


def _where(name: str) -> str:
    """viztracer's `func (file:line)` as `file:line func`; C functions keep their name."""
    match = _FUNC.match(name)
    return f"{match['path']}:{match['line']} {match['func']}" if match else name
