"""Rows of the report: one per run directory under the profiles root, readable or not.

A run directory whose summary is missing, corrupt, from a newer schema, or still says
"running" (its harness was killed) becomes a row that says so rather than vanishing, and a
warning for the terminal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness import tools
from harness.study.results import STUDY_NAME, Study
from harness.study.results import load as load_study
from harness.summary import MANIFEST_NAME, SUMMARY_NAME, RunSummary, find_runs, load
from workloads import registry

HIDDEN_PARAMS = frozenset({"out_dir", "data_dir", "result", "api_url"})


@dataclass
class Row:
    """What the runs table shows of one run directory."""

    name: str
    href: str  # the run directory, relative to the report
    state: str  # ok / failed / timeout / interrupted / incomplete / unreadable
    target: str = "?"
    tool: str = "?"
    params: str = ""
    params_full: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # the study it belongs to ("study-..., warm-up"), else ""
    started_at: str = ""
    wall_s: float | None = None
    items_per_s: float | None = None
    split: dict[str, float] = field(default_factory=dict)
    gil_held: float | None = None
    lock_wait: float | None = None
    peak_rss_mb: float | None = None
    peak_heap_mb: float | None = None
    bound: str = ""
    confidence: str = ""
    causes: dict[str, float] = field(default_factory=dict)  # the verdict's shares by family
    top_site: str = ""  # the call site with the most wall time, and its split
    stages: dict[str, float] = field(default_factory=dict)
    artifacts: list[tuple[str, str]] = field(default_factory=list)
    problem: str = ""

    @property
    def readable(self) -> bool:
        return self.state not in ("unreadable", "incomplete")


@dataclass
class Collection:
    rows: list[Row]
    warnings: list[str]
    studies: list[tuple[Path, Study]]  # newest first


def href(path: Path, root: Path) -> str:
    return quote(path.relative_to(root).as_posix())


def shown_params(target: str, params: dict[str, Any]) -> str:
    """The parameters that differ from the scenario's defaults, as `k=v` (script: its argv)."""
    if "argv" in params and target not in registry.SCENARIOS:
        return " ".join(map(str, params.get("argv") or []))
    defaults = registry.SCENARIOS[target].defaults() if target in registry.SCENARIOS else {}
    return " ".join(
        f"{k}={str(v).lower() if isinstance(v, bool) else v}"
        for k, v in params.items()
        if k not in HIDDEN_PARAMS and (k not in defaults or defaults[k] != v)
    )


def _where(run_dir: Path, root: Path) -> str:
    parts = run_dir.relative_to(root).parts[:-1]
    study = next((p for p in parts if p.startswith("study-")), "")
    return f"{study}, warm-up" if study and "warmup" in parts else study


def _from_summary(row: Row, s: RunSummary, run_dir: Path, root: Path) -> Row:
    row.state = "incomplete" if s.status == "running" else s.status
    if s.status == "running":
        row.problem = "summary still says running: its harness was stopped before it finished"
    row.target, row.tool = s.target, s.tool
    row.params_full = dict(s.params)
    row.params = shown_params(s.target, s.params)
    row.started_at = s.started_at
    row.wall_s = s.wall_s or None
    row.items_per_s = s.throughput.items_per_s
    row.split = s.split.shares() if s.split else {}
    row.gil_held, row.lock_wait = s.gil.held_fraction, s.gil.waiting_fraction
    row.peak_rss_mb = s.memory.peak_rss_mb
    row.peak_heap_mb = s.memory.peak_heap_mb
    row.bound = (s.verdict or {}).get("bound", "")
    row.confidence = (s.verdict or {}).get("confidence", "")
    if s.causes:
        row.causes = dict((s.verdict or {}).get("shares") or {})
    if s.callsites:
        top = s.callsites[0]
        split = ", ".join(f"{k} {v:.0%}" for k, v in top.get("families", {}).items() if v >= 0.05)
        row.top_site = f"{top['where']}: {split}"
    row.stages = {k: v.get("share", 0.0) for k, v in s.stages.items() if isinstance(v, dict)}
    for prefix, label in tools.openable(s.tool):  # each tool says what is worth a link
        for key, rel in sorted(s.artifacts.items()):
            pid = key.removeprefix(prefix + "_")  # a child process's own: <key>_<pid>
            if key != prefix and not (pid != key and pid.isdigit()):
                continue
            if (run_dir / rel).is_file():
                row.artifacts.append((f"{label} {pid}" if key != prefix else label,
                                      href(run_dir / rel, root)))  # fmt: skip
    return row


def _from_manifest(row: Row, run_dir: Path) -> None:
    try:
        manifest = json.loads((run_dir / MANIFEST_NAME).read_text())
        row.target, row.tool = manifest.get("target", "?"), manifest.get("tool", "?")
        row.started_at = manifest.get("created_at", "")
        row.params_full = manifest.get("params") or {}
        row.params = shown_params(row.target, row.params_full)
    except (OSError, ValueError, AttributeError):
        pass


def row_for(run_dir: Path, root: Path) -> Row:
    """The row of one run directory; never raises for a broken one."""
    row = Row(run_dir.name, href(run_dir, root), "unreadable", where=_where(run_dir, root))
    if not (run_dir / SUMMARY_NAME).exists():
        _from_manifest(row, run_dir)
        row.state = "incomplete"
        row.problem = "no summary.json: the run was stopped before writing one"
        return row
    try:
        summary = load(run_dir)
    except ValueError as exc:
        _from_manifest(row, run_dir)
        row.problem = str(exc).replace(str(root) + "/", "")
        return row
    return _from_summary(row, summary, run_dir, root)


def _studies(root: Path, warnings: list[str]) -> list[tuple[Path, Study]]:
    found = []
    for path in root.glob(f"**/{STUDY_NAME}"):
        try:
            found.append((path.parent, load_study(path)))
        except ValueError as exc:
            warnings.append(f"{path.relative_to(root)}: {exc}")
    return sorted(found, key=lambda ps: ps[1].meta.get("started_at", ""), reverse=True)


def collect(root: Path) -> Collection:
    """Every run under `root` (newest first), the studies there, and warnings to print."""
    warnings: list[str] = []
    rows = [row_for(d, root) for d in find_runs(root)]
    for row in rows:
        if not row.readable:
            warnings.append(f"{row.href}: {row.state}: {row.problem}")
    rows.sort(key=lambda r: (r.started_at, r.name), reverse=True)
    return Collection(rows, warnings, _studies(root, warnings))
