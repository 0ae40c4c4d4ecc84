"""The ways a workload runs in the bench: bare, under a tool by hand, and through the harness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.pairs import Sample
from harness.summary import find_runs, load
from harness.tools.base import LaunchContext, Tool

PYTHON = sys.executable
TIMEOUT_S = 600.0


class BenchError(RuntimeError):
    """A bench run that did not finish as it should; the message says which and why."""


def result_line(stdout: str) -> dict:
    """The workload's result: the last line of its stdout that is a JSON object."""
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    raise BenchError(f"no result line in the output: {stdout[-300:]!r}")


def timed(argv: list[str], env: dict[str, str] | None = None) -> Sample:
    """Run `argv` to the end; its wall time and the result line it printed."""
    t0 = time.perf_counter()
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=TIMEOUT_S, env=env, check=False
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv[:6])} ... exited {done.returncode}: {done.stderr[-500:]}")
    result = result_line(done.stdout)
    return Sample(result.get("elapsed_s"), wall, result.get("items_per_s"), result)


def bare(target: list[str], env: dict[str, str] | None = None) -> Sample:
    """`python <script> args`: the workload alone."""
    return timed([PYTHON, *target], env)


def by_hand(tool: Tool, target: list[str], scratch: Path) -> Sample:
    """The tool run by hand on `target` (Tool.by_hand: the command line a user would type, with
    the flags the harness gives it), its output written to a fresh directory."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"hand-{tool.name}-", dir=scratch))
    return timed(tool.by_hand([PYTHON, *target], LaunchContext(run_dir=run_dir, python=PYTHON)))


def through_harness(tool: str, target: list[str], out_root: Path) -> Sample:
    """`harness run <script> --tool T -- args`; the figures come from the run's summary."""
    out = Path(tempfile.mkdtemp(prefix=f"harness-{tool}-", dir=out_root))
    script, *args = target
    argv = [PYTHON, "-m", "harness", "run", script, "--tool", tool, "--out", str(out)]
    t0 = time.perf_counter()
    done = subprocess.run(
        [*argv, "--", *args] if args else argv,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    total = time.perf_counter() - t0
    runs = find_runs(out)
    if done.returncode != 0 or not runs:
        raise BenchError(
            f"harness run {script} --tool {tool} exited {done.returncode}: "
            f"{(done.stderr or done.stdout)[-500:]}"
        )
    s = load(runs[-1])
    return Sample(
        s.throughput.elapsed_s,
        s.wall_s,
        s.throughput.items_per_s,
        {
            "harness_total_s": round(total, 3),
            "run_dir": str(runs[-1]),
            "monitor_cpu_s": (s.monitor or {}).get("monitor_cpu_s"),
        },
    )
