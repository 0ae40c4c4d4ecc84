"""viztracer's trace read back: each thread's (or asyncio task's) complete calls nested by time,
which gives both the functions ranked by self time (the adapter's top) and each call path's
own time in microseconds (the stacks `harness export` writes).

Calls are nested by their start and duration: a call that starts before its predecessor ends
is inside it, give or take the 1 ns rounding of ts and dur. A function's self time is its
duration less that of the calls nested in it; with the adapter's duration floor, that includes
its dropped short callees.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harness import stacks as st

TOP_N = 10
#: A task lane is a "thread" viztracer names after its task; only asyncio's default names
#: (Task-N) tell it from a real thread, so tasks given their own names are not counted.
_TASK_NAME = re.compile(r"Task-\d+")
#: Rounding of ts and dur (1 ns each) must not turn a sibling into a child.
_NEST_EPS_US = 0.002
_FUNC = re.compile(r"^(?P<func>.*) \((?P<path>.+):(?P<line>\d+)\)$")

Lane = list[tuple[float, float, str]]  # (ts, -dur, name): a parent sorts before its first child


@dataclass
class Trace:
    """One pass over the events: complete calls per (pid, tid) lane, names, processes."""

    lanes: dict[tuple[Any, Any], Lane] = field(default_factory=lambda: defaultdict(list))
    names: dict[tuple[Any, Any], str] = field(default_factory=dict)  # (pid, tid or None)
    pids: set[Any] = field(default_factory=set)
    task_lanes: int = 0


def scan(events: list[dict[str, Any]]) -> Trace:
    trace = Trace()
    for e in events:
        ph = e.get("ph")
        if ph == "X" and "dur" in e:
            trace.lanes[(e.get("pid"), e.get("tid"))].append(
                (e["ts"], -e["dur"], e.get("name", "?"))
            )
        elif ph == "M" and e.get("name") in ("process_name", "thread_name"):
            name = str((e.get("args") or {}).get("name", ""))
            tid = e.get("tid") if e["name"] == "thread_name" else None
            trace.names[(e.get("pid"), tid)] = name
            trace.task_lanes += tid is not None and bool(_TASK_NAME.fullmatch(name))
        trace.pids.add(e.get("pid"))
    return trace


def calls(lane: Lane) -> Iterator[tuple[tuple[str, ...], float, float]]:
    """Each call of `lane` as it closes: (its path, outermost first, ending in its own name;
    its duration; its self time), both in microseconds."""
    open_calls: list[list[Any]] = []  # [end, name, duration, time in nested calls]

    def close() -> tuple[tuple[str, ...], float, float]:
        path = tuple(c[1] for c in open_calls)
        _, _, dur, nested = open_calls.pop()
        return path, dur, max(dur - nested, 0.0)

    for ts, neg_dur, name in sorted(lane):
        while open_calls and open_calls[-1][0] <= ts + _NEST_EPS_US:
            yield close()
        if open_calls:
            open_calls[-1][3] += -neg_dur
        open_calls.append([ts - neg_dur, name, -neg_dur, 0.0])
    while open_calls:
        yield close()


def top_functions(trace: Trace) -> list[dict[str, Any]]:
    """Functions by self time; inclusive time counts a recursive function's outermost call."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])  # calls, incl, self
    for lane in trace.lanes.values():
        for path, dur, own in calls(lane):
            total = totals[path[-1]]
            total[0] += 1
            total[2] += own
            if path[-1] not in path[:-1]:
                total[1] += dur
    ranked = sorted(totals.items(), key=lambda item: -item[1][2])[:TOP_N]
    return [
        {
            "where": _where(name),
            "value": round(own / 1000, 3),
            "unit": "ms",
            "inclusive_ms": round(incl / 1000, 3),
            "calls": int(count),
        }
        for name, (count, incl, own) in ranked
    ]


def own_time_stacks(trace: Trace) -> st.Stacks:
    """Own time (us) of each call path, per process and thread, with their root frames."""
    stacks: st.Stacks = {}
    for (pid, tid), lane in trace.lanes.items():
        roots = (
            f'process {pid}:"{trace.names.get((pid, None), "")}"',
            f"thread ({tid}): {trace.names.get((pid, tid), '')}".rstrip(": "),
        )
        for path, _, own in calls(lane):
            if round(own):
                stacks[(*roots, *path)] = stacks.get((*roots, *path), 0) + round(own)
    return stacks


def _where(name: str) -> str:
    """viztracer's `func (file:line)` as `file:line func`; C functions keep their name."""
    match = _FUNC.match(name)
    return f"{match['path']}:{match['line']} {match['func']}" if match else name
