"""Stacks as a speedscope file (https://www.speedscope.app), for browsing a profile by thread,
as a time-ordered view or sandwich, beside the flame graph."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness import stacks as st
from harness.render.base import Renderer

SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def to_speedscope(stacks: st.Stacks, name: str) -> dict[str, Any]:
    """A speedscope file: one 'sampled' profile per thread (per process and thread id when stacks
    carry process and thread root frames; busiest first), else one; each distinct stack is one
    sample weighted by its count (unit 'none': samples)."""
    frames: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    by_thread = any(st.is_thread_frame(f) for stack in stacks for f in st.root_frames(stack))
    groups: dict[tuple[str, ...], list[tuple[tuple[str, ...], int]]] = {}
    labels: dict[tuple[str, ...], tuple[str, ...]] = {}
    for stack, count in stacks.items():
        if count > 0:
            roots = st.root_frames(stack) if by_thread else []
            # A sampler names a thread only once Python knows its name: one thread, two labels.
            key = tuple(st.root_id(f) for f in roots)
            groups.setdefault(key, []).append((stack[len(roots) :], count))
            labels[key] = max(labels.get(key, ()), tuple(roots), key=lambda r: sum(map(len, r)))
    if not groups:
        groups[()] = []
    profiles = []
    ordered = sorted(groups.items(), key=lambda item: (-sum(c for _, c in item[1]), item[0]))
    for key, samples in ordered:
        weights = [count for _, count in samples]
        profiles.append(
            {
                "type": "sampled",
                "name": " / ".join(st.root_label(f) for f in labels.get(key, ())) or name,
                "unit": "none",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": [[_frame_index(f, frames, index) for f in s] for s, _ in samples],
                "weights": weights,
            }
        )
    return {
        "$schema": SPEEDSCOPE_SCHEMA,
        "shared": {"frames": frames},
        "profiles": profiles,
        "name": name,
        "activeProfileIndex": 0,
        "exporter": "pipeprof",
    }


def _frame_index(frame: str, frames: list[dict[str, Any]], index: dict[str, int]) -> int:
    if frame not in index:
        name, file, line = st.split_frame(frame)
        entry: dict[str, Any] = {"name": name}
        if file is not None:
            entry["file"] = file
        if line is not None:
            entry["line"] = line
        index[frame] = len(frames)
        frames.append(entry)
    return index[frame]


@dataclass
class Speedscope(
    Renderer[st.Stacks], subject="stacks", format="speedscope", extension="speedscope.json"
):
    """Stacks as speedscope JSON; `name` titles the profile."""

    name: str = "profile"

    def render(self, data: st.Stacks) -> str:
        return json.dumps(to_speedscope(data, self.name))
