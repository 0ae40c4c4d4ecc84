"""py-spy's recordings read back: the main recording merged with those of further Python
processes, the flame graph and speedscope file drawn from them, and the figures they give.

- samples: thread-samples of the main recording (each round adds one per live thread).
- idle_fraction: share of those whose stack ends in a recognisable blocking call
  (`stacks.is_waiting_stack`). py-spy knows from the OS which threads sleep, but its raw
  output drops that mark, and a blocking C call made from user code (time.sleep, file I/O)
  looks like running code: a lower bound. active_fraction = 1 - idle_fraction: on CPU or
  blocked where the stack cannot show it. The monitor's exact on-CPU split is the reference.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness import stacks as st
from harness.files import write_text_atomic
from harness.tools import pyspy_gil
from harness.tools.base import ToolResult

FOLDED = "pyspy.folded"
FLAMEGRAPH = "flamegraph.svg"
SPEEDSCOPE = "profile.speedscope.json"
TOP_N = 10
_PID = re.compile(r"^process (\d+):")
_TID = re.compile(r"^thread \((\d+)\)")


def recordings(run_dir: Path) -> list[Path]:
    """The main recording, then those of further Python processes (pyspy.<pid>.folded)."""
    main = run_dir / FOLDED
    extra = sorted(p for p in run_dir.glob("pyspy.*.folded") if p.name != pyspy_gil.FOLDED)
    return [main, *extra] if main.is_file() else extra


def free_stem(run_dir: Path, stem: str) -> str:
    """`stem`, or `stem.N` when a recording of that process (before its exec) exists."""
    n = 1
    name = stem
    while (run_dir / f"{name}.log").exists():
        n += 1
        name = f"{stem}.{n}"
    return name


def merged(parts: list[Path], malformed: list[str] | None = None) -> st.Stacks:
    stacks: st.Stacks = {}
    for part in parts:
        found = st.parse_folded(part.read_text(errors="replace"), malformed=malformed)
        for stack, count in found.items():
            stacks[stack] = stacks.get(stack, 0) + count
    return stacks


def read(run_dir: Path, result: ToolResult) -> st.Stacks:
    """Every recording of the run merged; problems and artifacts into `result`."""
    parts = recordings(run_dir)
    if not parts:
        result.problems.append(
            f"py-spy wrote no {FOLDED}: it writes it only when it stops by itself or on SIGINT "
            "(killed, timed out, or it could not start)"
        )
        return {}
    malformed: list[str] = []
    stacks = merged(parts, malformed)
    if malformed:
        result.problems.append(
            f"{FOLDED}: skipped {len(malformed)} malformed line(s) (truncated file?)"
        )
    for part in parts[1:] if parts[0].name == FOLDED else parts:
        result.artifacts[part.stem.replace(".", "_")] = part.name
    if not stacks:
        result.problems.append(f"{FOLDED} holds no samples")
    return stacks


def render(run_dir: Path, stacks: st.Stacks, rate: Any, result: ToolResult) -> None:
    """The flame graph (waiting frames in blue) and the speedscope file of `stacks`."""
    from harness.render.flamegraph import FlameGraph
    from harness.render.speedscope import Speedscope

    total = st.total_samples(stacks)
    at = f" at {rate} Hz" if rate else ""
    subtitle = (
        f"{total} thread samples{at}, threads and processes merged; "
        "blue: waiting in a lock, join, select or socket call"
    )
    svg = FlameGraph(f"py-spy: {run_dir.name}", subtitle).render(st.strip_roots(stacks))
    write_text_atomic(run_dir / FLAMEGRAPH, svg)
    write_text_atomic(run_dir / SPEEDSCOPE, Speedscope(run_dir.name).render(stacks))
    result.artifacts["flamegraph"] = FLAMEGRAPH
    result.artifacts["speedscope"] = SPEEDSCOPE


def figures(stacks: st.Stacks, result: ToolResult) -> None:
    """Samples, processes, threads, the idle and active shares, and the hottest frames."""
    total = st.total_samples(stacks)
    idle = st.waiting_samples(stacks) / total
    pids: set[str] = set()
    threads: set[str] = set()
    for stack in stacks:
        for frame in stack:
            if (pid := _PID.match(frame)) is not None:
                pids.add(pid[1])
            elif (tid := _TID.match(frame)) is not None:
                threads.add(tid[1])
            else:
                break
    result.metrics.update(
        samples=total,
        processes=len(pids),
        threads=len(threads),
        idle_fraction=round(idle, 4),
        active_fraction=round(1 - idle, 4),
    )
    result.top = [
        {
            "where": _where(frame),
            "value": float(count),
            "unit": "samples",
            "share": round(count / total, 4),
            "waiting": st.is_waiting_frame(frame),
        }
        for frame, count in st.top_frames(st.strip_roots(stacks), TOP_N)
    ]


def _where(frame: str) -> str:
    name, file, line = st.split_frame(frame)
    if file is None:
        return name
    return f"{file}:{line} {name}" if line is not None else f"{file} {name}"
