"""What watching costs: the monitor alone, each profiler, and the harness on top of a profiler.

Two workloads from the calibration cases, each doing a fixed amount of work so that a slowdown
shows as a longer run: a CPU-bound pure-Python loop and an I/O-bound loop of small appends +
fsync. The figure held to each target is the ratio of the workload's own elapsed time (its
clock starts after interpreter start-up); the ratio of process wall times, which adds start-up
and the tool's own writing, is given beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import runs
from bench.pairs import Progress, Sample, interleave, ratio
from harness import stats, tools
from workloads.calibration.cases import HERE

MONITOR_TARGET = 1.02
HARNESS_ON_TOOL_TARGET = 1.03
PROFILERS = ("py-spy", "scalene", "memray", "viztracer")
WORKLOADS = {"cpu": "cpu_loop.py", "io": "fsync_small.py"}


def sized(kind: str, seconds: float) -> list[str]:
    """The workload's argv doing about `seconds` of work bare on this machine now."""
    script = str(HERE / WORKLOADS[kind])
    probe = runs.bare([script, "--seconds", "0.5"])
    items = max(100, round((probe.items_per_s or 1000.0) * seconds))
    return [script, "--items", str(items)]


def row(
    section: str,
    figure: str,
    workload: str,
    num: list[Sample],
    den: list[Sample],
    target: float | None,
) -> dict[str, Any]:
    elapsed = ratio(num, den, "elapsed_s")
    wall = ratio(num, den, "wall_s")
    meets = None if target is None or elapsed.median is None else elapsed.median <= target
    base = stats.median(s.elapsed_s for s in den)
    return {
        "section": section,
        "figure": figure,
        "workload": workload,
        "elapsed_ratio": elapsed.to_dict(),
        "wall_ratio": wall.to_dict(),
        "target": None if target is None else f"<= {target:g}",
        "meets": meets,
        "baseline_s": None if base is None else round(base, 3),
    }


def monitor(pairs: int, scratch: Path, seconds: float, say: Progress) -> list[dict[str, Any]]:
    """`harness run X --tool none` against `python X`, for a CPU-bound and an I/O-bound X."""
    rows = []
    for kind in WORKLOADS:
        target = sized(kind, seconds)
        say(f"monitor overhead, {kind} workload ({target[-1]} items)")
        arms: dict[str, Callable[[], Sample]] = {
            "bare": lambda t=target: runs.bare(t),
            "harness": lambda t=target: runs.through_harness("none", t, scratch),
        }
        got = interleave(arms, pairs, warmup=True, progress=say)
        found = row("monitor", "harness --tool none / bare", kind, got["harness"], got["bare"],
                    MONITOR_TARGET)  # fmt: skip
        found["monitor_cores"] = _monitor_cores(got["harness"])
        rows.append(found)
    return rows


def _monitor_cores(samples: list[Sample]) -> float | None:
    """Median CPU the monitor itself used, in cores (exact: its thread's CPU time over wall)."""
    found = stats.median(stats.ratio(s.extra.get("monitor_cpu_s"), s.wall_s) for s in samples)
    return None if found is None else round(found, 4)


def profilers(pairs: int, scratch: Path, seconds: float, say: Progress) -> list[dict[str, Any]]:
    """Each profiler by hand against bare, and through the harness against by hand."""
    rows: list[dict[str, Any]] = []
    targets = {kind: sized(kind, seconds) for kind in WORKLOADS}
    for name in PROFILERS:
        tool = tools.get(name)
        problem = tool.problem()
        if problem:
            rows.append({"section": "tools", "figure": f"{name}: not run", "note": problem})
            continue
        for kind, target in targets.items():
            say(f"{name} overhead, {kind} workload ({target[-1]} items)")
            arms: dict[str, Callable[[], Sample]] = {
                "bare": lambda t=target: runs.bare(t),
                "hand": lambda t=target, tl=tool: runs.by_hand(tl, t, scratch),
                "harness": lambda t=target, n=name: runs.through_harness(n, t, scratch),
            }
            got = interleave(arms, pairs, progress=say)
            rows.append(
                row("tools", f"{name} by hand / bare", kind, got["hand"], got["bare"], None)
            )
            rows.append(
                row("tools", f"harness --tool {name} / {name} by hand", kind, got["harness"],
                    got["hand"], HARNESS_ON_TOOL_TARGET)
            )  # fmt: skip
    return rows
