"""What a profiler costs: a run under a tool set against a bare run (`--tool none`) of the same
target with the same parameters, found under the same profiles root.

Ratios are tool / bare: wall_ratio > 1 and items_per_s_ratio < 1 mean the tool slowed the run.
wall_ratio includes the tool's start-up and the writing of its output; elapsed_ratio, from the
workload's own clock where it reports one, is the slowdown of the work itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.summary import MANIFEST_NAME, RunSummary, find_runs, load

BASELINE_TOOL = "none"


def _script(run_dir: Path) -> str | None:
    """The script a run launched (argv[1] of its manifest), to tell same-named scripts apart."""
    try:
        argv = json.loads((run_dir / MANIFEST_NAME).read_text()).get("argv") or []
    except (OSError, ValueError):
        return None
    return str(argv[1]) if len(argv) > 1 else None


def find_baseline(
    out_root: Path, target_name: str, params: dict[str, Any], script: Path | None = None
) -> Path | None:
    """The newest finished bare run of `target_name` with exactly `params` under `out_root`.

    For a script target, pass `script` too: two scripts of the same name in different
    directories are different targets.
    """
    found: list[tuple[str, Path]] = []
    for run_dir in find_runs(out_root):
        try:
            s = load(run_dir)
        except ValueError:
            continue
        if (
            s.tool != BASELINE_TOOL
            or s.status != "ok"
            or s.target != target_name
            or s.params != params
        ):
            continue
        if script is not None and _script(run_dir) != str(script):
            continue
        found.append((s.started_at or run_dir.name, run_dir))
    return max(found, key=lambda item: item[0])[1] if found else None


def _ratio(value: Any, base: Any) -> float | None:
    if not isinstance(value, int | float) or not isinstance(base, int | float) or base <= 0:
        return None
    return round(value / base, 4)


def overhead(
    summary: RunSummary, baseline: RunSummary, baseline_run: str | None = None
) -> dict[str, Any]:
    """`tool_overhead` of `summary` against the bare run `baseline` (named `baseline_run`)."""
    tp, base_tp = summary.throughput, baseline.throughput
    return {
        "baseline_run": baseline_run or baseline.run_id,
        "wall_ratio": _ratio(summary.wall_s, baseline.wall_s),
        "items_per_s_ratio": _ratio(tp.items_per_s, base_tp.items_per_s),
        "elapsed_ratio": _ratio(tp.elapsed_s, base_tp.elapsed_s),
    }
