"""What the harness costs before it does anything: `harness --help`, and the fixed cost of a
run, `harness run empty.py --tool none` less `python empty.py` in the same round (start-up,
monitor, run directory, summary), wall and CPU seconds, over interleaved rounds.

Targets: `harness --help` under 0.2 s, the fixed cost of a run under 0.3 s. Importing every
command's dependencies at start-up (matplotlib for the report, the profilers' adapters) once
made them 0.75 s and 0.93 s here; each command now imports what it uses when it runs.

The commands run with Python's bytecode cache on, as users' do (the warm-up round writes it):
with PYTHONDONTWRITEBYTECODE set, as in some CI shells, every run compiled the harness's ~80
modules again, ~0.1 s more here.
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.pairs import Progress, Sample, interleave
from bench.runs import PYTHON, BenchError
from harness import stats

HELP_TARGET_S = 0.2
FIXED_COST_TARGET_S = 0.3
TIMEOUT_S = 120.0


def harness_command() -> list[str]:
    """The `harness` console script installed beside this Python, as users call it."""
    script = Path(PYTHON).parent / "harness"
    return [str(script)] if script.is_file() else [PYTHON, "-m", "harness"]


def timed(argv: list[str]) -> Sample:
    """Run `argv` to its end: wall seconds, and its CPU seconds (user + system) in `extra`."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run(argv, capture_output=True, timeout=TIMEOUT_S, env=env, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = done.stderr[-400:].decode(errors="replace")
        raise BenchError(f"{' '.join(argv[:4])} ... exited {done.returncode}: {tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(None, wall, extra={"cpu_s": cpu})


def _figure(name: str, values: list[float], target: float | None) -> dict[str, Any]:
    found = stats.spread(values)
    median = None if found is None else found.median
    return {
        "figure": name,
        "median_s": None if median is None else round(median, 4),
        "values_s": [round(v, 4) for v in values],
        "rel_std": None if found is None else round(found.rel_std, 4),
        "unstable": found is not None and found.unstable,
        "target_s": target,
        "meets": None if median is None or target is None else median <= target,
    }


def startup(rounds: int, scratch: Path, say: Progress) -> list[dict[str, Any]]:
    """`harness --help`, and a run's fixed cost in wall and CPU seconds, with their targets."""
    empty = scratch / "empty.py"
    empty.write_text("")
    harness = harness_command()
    out = scratch / "startup-runs"
    arms = {
        "bare": lambda: timed([PYTHON, str(empty)]),
        "help": lambda: timed([*harness, "--help"]),
        "run": lambda: timed([*harness, "run", str(empty), "--tool", "none", "--out", str(out)]),
    }
    say(f"start-up: {' '.join(harness)} --help and run empty.py --tool none, {rounds} rounds")
    got = interleave(arms, rounds, warmup=True, progress=say)
    paired = list(zip(got["run"], got["bare"], strict=True))
    return [
        _figure("harness --help, wall", [s.wall_s for s in got["help"]], HELP_TARGET_S),
        _figure(
            "harness run empty.py --tool none less python empty.py, wall",
            [run.wall_s - bare.wall_s for run, bare in paired],
            FIXED_COST_TARGET_S,
        ),
        _figure(
            "harness run empty.py --tool none less python empty.py, CPU",
            [run.extra["cpu_s"] - bare.extra["cpu_s"] for run, bare in paired],
            FIXED_COST_TARGET_S,
        ),
        _figure("python empty.py, wall (for scale)", [s.wall_s for s in got["bare"]], None),
    ]
