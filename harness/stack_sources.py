"""Where a run's stacks are, for `harness export`: py-spy's folded samples (every process it
recorded), or the calls of viztracer's trace, weighted by their own time in microseconds."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from harness import stacks as st
from harness.errors import HarnessError

DEFAULT_RATE = 100
_NEST_EPS_US = 0.002  # rounding of ts and dur must not turn a sibling into a child


@dataclass
class RunStacks:
    """Stacks (root first, py-spy's process and thread frames included) with their weight."""

    name: str
    stacks: st.Stacks
    unit: str  # "samples" | "us"
    rate_hz: float | None  # samples per second, for "samples"
    source: str  # the file(s) they came from
    trace_path: Path | None = None  # a Chrome trace the tool itself wrote


def load(run_dir: Path) -> RunStacks:
    """The stacks of a run; HarnessError (exit 2) when it has none."""
    if not run_dir.is_dir():
        raise HarnessError(f"{run_dir} is not a run directory: give profiles/<run>")
    folded = sorted(p for p in run_dir.glob("pyspy*.folded") if "gil" not in p.name)
    if folded:
        stacks: st.Stacks = {}
        for path in folded:
            for stack, count in st.parse_folded(path.read_text(errors="replace")).items():
                stacks[stack] = stacks.get(stack, 0) + count
        return RunStacks(
            run_dir.name, stacks, "samples", _rate(run_dir), ", ".join(p.name for p in folded)
        )
    trace = run_dir / "trace.json"
    if trace.is_file():
        return RunStacks(run_dir.name, _trace_stacks(trace), "us", None, trace.name, trace)
    raise HarnessError(
        f"{run_dir.name} has no stacks (pyspy.folded or trace.json): profile it with "
        "--tool py-spy or --tool viztracer"
    )


def _rate(run_dir: Path) -> float:
    for name, key in (("pyspy-gil.meta.json", "rate"), ("manifest.json", "options")):
        try:
            data = json.loads((run_dir / name).read_text())
        except (OSError, ValueError):
            continue
        value = data.get(key)
        if isinstance(value, dict):
            value = value.get("rate")
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return DEFAULT_RATE


def _trace_stacks(path: Path) -> st.Stacks:
    """Own time (us) of each call path of a viztracer trace, per process and thread."""
    try:
        events = orjson.loads(path.read_bytes()).get("traceEvents") or []
    except (OSError, orjson.JSONDecodeError, AttributeError) as exc:
        raise HarnessError(f"{path} is unreadable ({exc.__class__.__name__})") from None
    names: dict[tuple[Any, Any], str] = {}
    lanes: dict[tuple[Any, Any], list[tuple[float, float, str]]] = defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            lanes[(e.get("pid"), e.get("tid"))].append((e["ts"], -e["dur"], e.get("name", "?")))
        elif e.get("ph") == "M" and e.get("name") in ("process_name", "thread_name"):
            key = (e.get("pid"), e.get("tid") if e["name"] == "thread_name" else None)
            names[key] = str((e.get("args") or {}).get("name", ""))
    stacks: st.Stacks = {}
    for (pid, tid), lane in lanes.items():
        roots = (
            f'process {pid}:"{names.get((pid, None), "")}"',
            f"thread ({tid}): {names.get((pid, tid), '')}".rstrip(": "),
        )
        _add_lane(sorted(lane), roots, stacks)
    return stacks


def _add_lane(
    lane: list[tuple[float, float, str]], roots: tuple[str, ...], stacks: st.Stacks
) -> None:
    """Nest one thread's calls by time; add each call's own time to its path."""
    open_calls: list[list[Any]] = []  # [end, name, duration, time in nested calls]

    def close() -> None:
        _, name, dur, nested = open_calls.pop()
        path = (*roots, *(c[1] for c in open_calls), name)
        own = round(max(dur - nested, 0.0))
        if own:
            stacks[path] = stacks.get(path, 0) + own

    for ts, neg_dur, name in lane:
        while open_calls and open_calls[-1][0] <= ts + _NEST_EPS_US:
            close()
        if open_calls:
            open_calls[-1][3] += -neg_dur
        open_calls.append([ts - neg_dur, name, -neg_dur, 0.0])
    while open_calls:
        close()
