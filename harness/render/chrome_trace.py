"""Stacks as a Chrome trace (the JSON format Perfetto's UI and chrome://tracing open).

A viztracer run already has one (its trace.json, a real timeline): `harness export` passes it on
as it is. Sampled stacks carry no times, so each thread's stacks are laid out one after the other,
merged by common prefix (what speedscope calls left-heavy): a call's width is its samples over
the sampling rate, but the order is not the order things happened in. The trace says so in its
metadata (`otherData.layout`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness import stacks as st
from harness.render.base import Renderer
from harness.render.folded import label

_PID = re.compile(r"^process (\d+):")
_TID = re.compile(r"^thread \((\d+)\)")
Lane = tuple[int, int, tuple[str, ...], list[str]]
LAYOUT = "samples merged by stack per thread (left-heavy), not a timeline"


@dataclass
class ChromeTrace(
    Renderer[st.Stacks], subject="stacks", format="chrome-trace", extension="trace.json"
):
    """traceEvents: complete ("X") events per thread and the process and thread names ("M");
    `rate_hz` makes a sample's width, `name` and `source` go into the metadata."""

    rate_hz: float = 100.0
    name: str = "profile"
    source: str = ""

    def render(self, data: st.Stacks) -> str:
        return json.dumps(self.trace(data), separators=(",", ":"))

    def trace(self, data: st.Stacks) -> dict[str, Any]:
        us_per_sample = 1e6 / (self.rate_hz or 100.0)
        lanes: dict[tuple[int, int], list[tuple[tuple[str, ...], int]]] = {}
        names: dict[tuple[int, int | None], str] = {}
        for (pid, tid, frames, roots), count in stacks_by_lane(data):
            lanes.setdefault((pid, tid), []).append((frames, count))
            for root in roots:
                names[(pid, None) if _PID.match(root) else (pid, tid)] = label(root)
        events: list[dict[str, Any]] = []
        for (pid, tid), stacks in sorted(lanes.items()):
            events += _lay_out(pid, tid, sorted(stacks), us_per_sample)
        for (pid, tid), name in sorted(names.items(), key=lambda item: str(item[0])):
            kind = "process_name" if tid is None else "thread_name"
            meta: dict[str, Any] = {"name": kind, "ph": "M", "pid": pid, "args": {"name": name}}
            if tid is not None:
                meta["tid"] = tid
            events.append(meta)
        other = {"exporter": "pipeprof", "run": self.name, "layout": LAYOUT}
        other |= {"rate_hz": self.rate_hz, "source": self.source}
        return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": other}


def stacks_by_lane(stacks: st.Stacks) -> Iterator[tuple[Lane, int]]:
    """(pid, tid, frames below the roots, roots) and count of each stack; 0 where unknown."""
    for stack, count in stacks.items():
        pid = tid = 0
        roots = []
        for frame in stack:
            if (p := _PID.match(frame)) is not None:
                pid = int(p[1])
            elif (t := _TID.match(frame)) is not None:
                tid = int(t[1])
            else:
                break
            roots.append(frame)
        if count > 0:
            yield (pid, tid, stack[len(roots) :], roots), count


def _lay_out(
    pid: int, tid: int, stacks: list[tuple[tuple[str, ...], int]], us_per_sample: float
) -> list[dict[str, Any]]:
    """Sorted stacks side by side; a frame shared by neighbours is one event. Parents come
    before their children, so a child as long as its parent still nests under it."""
    events: list[dict[str, Any]] = []
    open_frames: list[dict[str, Any]] = []
    now = 0.0

    def close_to(depth: int) -> None:
        while len(open_frames) > depth:
            event = open_frames.pop()
            event["dur"] = round(now - event["ts"], 3)

    for frames, count in stacks:
        same = 0
        while (
            same < min(len(frames), len(open_frames)) and open_frames[same]["name"] == frames[same]
        ):
            same += 1
        close_to(same)
        for name in frames[same:]:
            event = {
                "name": name,
                "ph": "X",
                "ts": round(now, 3),
                "dur": 0.0,
                "pid": pid,
                "tid": tid,
            }
            events.append(event)
            open_frames.append(event)
        now += count * us_per_sample
    close_to(0)
    return events
