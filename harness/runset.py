"""The runs some paths name, and each run flattened to one row of COLUMNS, so a set of runs
reads as one table (the renderers under harness/render/ write it out as a table, JSON, CSV or
Markdown)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.summary import MANIFEST_NAME, SPLIT_KEYS, SUMMARY_NAME, RunSummary, find_runs, load
from harness.verdict.families import FAMILIES

#: The verdict's shares by family of causes, one column each ("cause_disk"...).
CAUSE_COLUMNS = tuple(f"cause_{f}" for f in FAMILIES)

COLUMNS = (
    "run_id",
    "target",
    "tool",
    "status",
    "params",
    "wall_s",
    "items_per_s",
    "cores_used",
    *SPLIT_KEYS,
    "gil_held",
    "gil_waiting",
    "peak_rss_mb",
    "peak_heap_mb",
    "read_mb",
    "write_mb",
    "bound",
    "confidence",
    *CAUSE_COLUMNS,
    "top_call_site",
)
TEXT_COLUMNS = frozenset(
    {"run_id", "target", "tool", "status", "params", "bound", "confidence", "top_call_site"}
)


@dataclass
class RunSet:
    """The runs found for some paths, with one warning per path that gave none."""

    runs: list[tuple[Path, RunSummary]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    single: bool = False  # one run was asked for (not a set that happens to hold one)

    @property
    def summaries(self) -> list[RunSummary]:
        return [s for _, s in self.runs]


def is_run_path(path: Path) -> bool:
    """A summary.json, or a directory that is one run (not a root holding runs)."""
    if path.is_file():
        return True
    return (path / SUMMARY_NAME).exists() or (path / MANIFEST_NAME).exists()


def gather(paths: Sequence[Path]) -> RunSet:
    """Every run the paths name (run directories, summary files, or roots meaning every run
    under them), each once and in the order given; unreadable ones become warnings."""
    found = RunSet()
    seen: set[Path] = set()
    for path in paths:
        if not path.exists():
            found.warnings.append(f"{path} does not exist; skipped")
            continue
        run_dirs = [path] if is_run_path(path) else find_runs(path)
        if not run_dirs:
            found.warnings.append(f"{path} holds no runs; skipped")
        for run_dir in run_dirs:
            key = (run_dir.parent if run_dir.is_file() else run_dir).resolve()
            if key in seen:
                continue
            seen.add(key)
            try:
                found.runs.append((run_dir, load(run_dir)))
            except ValueError as exc:
                found.warnings.append(f"{exc}; skipped")
    return found


def params_text(params: dict[str, Any]) -> str:
    """'k=v;k=v', values as JSON except plain strings (so booleans read true/false)."""
    return ";".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in params.items())


def flatten(s: RunSummary) -> dict[str, Any]:
    """One run as one row of COLUMNS (None where the run lacks the figure)."""
    split, io_ = s.split, s.io
    verdict = s.verdict or {}
    return {
        "run_id": s.run_id,
        "target": s.target,
        "tool": s.tool,
        "status": s.status,
        "params": params_text(s.params),
        "wall_s": s.wall_s,
        "items_per_s": s.throughput.items_per_s,
        "cores_used": s.cpu.cores_used,
        **{k: getattr(split, k) for k in SPLIT_KEYS},
        "gil_held": s.gil.held_fraction,
        "gil_waiting": s.gil.waiting_fraction,
        "peak_rss_mb": s.memory.peak_rss_mb,
        "peak_heap_mb": s.memory.peak_heap_mb,
        "read_mb": io_.read_mb,
        "write_mb": io_.write_mb,
        "bound": verdict.get("bound"),
        "confidence": verdict.get("confidence"),
        **{f"cause_{f}": (verdict.get("shares") or {}).get(f) for f in FAMILIES},
        "top_call_site": s.callsites[0]["where"] if s.callsites else None,
    }


def varying_params(summaries: Sequence[RunSummary]) -> list[str]:
    """The parameter names whose values are not the same in every run, in first-seen order."""
    keys = list(dict.fromkeys(k for s in summaries for k in s.params))
    missing = object()
    return [k for k in keys if len({repr(s.params.get(k, missing)) for s in summaries}) > 1]
