"""Two runs side by side: every summary figure with B/A (and percentage points for shares), the
parameters that differ, and a differential flame graph of their folded stacks.

Pure over run directories: reads summary.json and the stacks the runs' tools recorded, runs
nothing, so any two runs can be compared again later without profiling.

The record beside a compare page (`<page stem>.compare.json`), its format history (bump
RECORD_SCHEMA with a line here):
  1: kind "pipeprof-compare", the page's file name, and its two runs, absolute and relative.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import stack_sources, tools
from harness import stacks as st
from harness.errors import HarnessError
from harness.files import write_json_atomic
from harness.render import fmt
from harness.stats import ratio
from harness.summary import SPLIT_KEYS, SUMMARY_NAME, RunSummary, find_runs, load

#: Changes of a figure smaller than this (as a ratio) or a share smaller than this (in percentage
#: points) are printed plainly rather than marked better or worse.
NOTABLE_RATIO = 0.05
NOTABLE_PP = 2.0
#: A run whose threads waited this share of their time for a CPU shared the machine with other
#: work: two identical runs here measured 937 and 4,560 items/s at 73% and 0.1% CPU wait.
CONTENDED = 0.2
MISSING = object()
#: The record beside a compare page naming its two runs (`<page stem>.compare.json`).
RECORD_SUFFIX = ".compare.json"
RECORD_KIND = "pipeprof-compare"
RECORD_SCHEMA = 1
SECTION_TITLES = {
    "time": "Time and throughput",
    "cpu": "CPU",
    "split": "Where thread time went (shares)",
    "gil": "GIL",
    "memory": "Memory",
    "io": "I/O",
    "stages": "Stages",
    "outcome": "Outcome",
}


@dataclass(frozen=True)
class Row:
    """One figure of both runs: `kind` is "number", "share" (a fraction of 1) or "text";
    `better` says which way is an improvement ("higher", "lower") where one is."""

    section: str
    label: str
    a: Any
    b: Any
    kind: str = "number"
    unit: str = ""
    digits: int = 2
    better: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.kind == "text" or not fmt.is_number(self.a) or not fmt.is_number(self.b):
            return None
        return ratio(self.b, self.a)

    @property
    def diff_pp(self) -> float | None:
        if self.kind != "share" or not fmt.is_number(self.a) or not fmt.is_number(self.b):
            return None
        return 100 * (self.b - self.a)

    @property
    def changed(self) -> bool:
        return self.a != self.b

    @property
    def trend(self) -> str | None:
        """ "better", "worse" or None (no direction, or too small a change to call)."""
        if self.better is None:
            return None
        if self.kind == "share":
            change = self.diff_pp
            notable = change is not None and abs(change) >= NOTABLE_PP
        else:
            change = None if self.ratio is None else self.ratio - 1
            notable = change is not None and abs(change) >= NOTABLE_RATIO
        if not notable or change is None:
            return None
        return "better" if (change > 0) == (self.better == "higher") else "worse"

    def value(self, side: str) -> str:
        value = self.a if side == "a" else self.b
        if self.kind == "share" and fmt.is_number(value):
            return fmt.percent(value, 1)
        return fmt.number(value, self.digits, self.unit)

    def ratio_text(self) -> str:
        return "" if self.ratio is None else fmt.ratio(self.ratio)

    def diff_text(self) -> str:
        if self.kind == "share":
            return "" if self.diff_pp is None else fmt.points(self.diff_pp / 100)
        return "changed" if self.kind == "text" and self.changed else ""


@dataclass(frozen=True)
class Param:
    key: str
    a: Any
    b: Any

    @property
    def differs(self) -> bool:
        return self.a != self.b

    def value(self, side: str) -> str:
        value = self.a if side == "a" else self.b
        return "(absent)" if value is MISSING else str(value)


@dataclass
class Comparison:
    """What `compare` shows: A is the run before, B the run after."""

    a: RunSummary
    b: RunSummary
    a_dir: Path
    b_dir: Path
    rows: list[Row] = field(default_factory=list)
    params: list[Param] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def row(self, section: str, label: str) -> Row:
        return next(r for r in self.rows if r.section == section and r.label == label)

    @property
    def differing_params(self) -> list[Param]:
        return [p for p in self.params if p.differs]


def load_run(path: Path, which: str) -> tuple[RunSummary, Path]:
    """The summary and directory of run `which` ("A" or "B"); HarnessError naming the fix."""
    if not path.exists():
        raise HarnessError(
            f"run {which}: {path} does not exist; pass a run directory "
            "(`harness show PROFILES_ROOT` lists them)"
        )
    run_dir = path.parent if path.is_file() else path
    if path.is_dir() and not (path / SUMMARY_NAME).exists():
        inside = [r for r in find_runs(path) if r != path]
        if inside:
            raise HarnessError(
                f"run {which}: {path} holds {len(inside)} runs, not one; "
                f"pass one of them, e.g. {inside[-1]}"
            )
    try:
        return load(path), run_dir
    except ValueError as exc:
        raise HarnessError(f"run {which}: {exc}; pass a finished run's directory") from None


def compare_runs(path_a: Path, path_b: Path) -> Comparison:
    (a, a_dir), (b, b_dir) = load_run(path_a, "A"), load_run(path_b, "B")
    return compare_summaries(a, b, a_dir, b_dir)


def compare_summaries(
    a: RunSummary, b: RunSummary, a_dir: Path = Path("A"), b_dir: Path = Path("B")
) -> Comparison:
    keys = [*a.params, *(k for k in b.params if k not in a.params)]
    params = [Param(k, a.params.get(k, MISSING), b.params.get(k, MISSING)) for k in keys]
    return Comparison(a, b, a_dir, b_dir, _rows(a, b), params, _warnings(a, b))


def _rows(a: RunSummary, b: RunSummary) -> list[Row]:
    def pair(part: str, key: str) -> tuple[Any, Any]:
        """The figure `key` of section `part` of each run (None from a section not measured)."""
        sections = getattr(a, part), getattr(b, part)
        return tuple(getattr(s, key) if s else None for s in sections)  # type: ignore[return-value]

    rows = [
        Row("time", "wall", a.wall_s, b.wall_s, unit=" s", digits=3, better="lower"),
        Row("time", "items/s", *pair("throughput", "items_per_s"), digits=1, better="higher"),
        Row("time", "items", *pair("throughput", "items")),
        Row("time", "elapsed", *pair("throughput", "elapsed_s"), unit=" s", digits=3),
        Row("cpu", "cores used", *pair("cpu", "cores_used")),
        Row("cpu", "user CPU", *pair("cpu", "user_s"), unit=" s"),
        Row("cpu", "sys CPU", *pair("cpu", "sys_s"), unit=" s"),
    ]
    rows += [Row("split", k, *pair("split", k), kind="share") for k in SPLIT_KEYS]
    rows += [
        Row("gil", "held", *pair("gil", "held_fraction"), kind="share"),
        Row("gil", "waiting", *pair("gil", "waiting_fraction"), kind="share"),
        Row("memory", "peak RSS", *pair("memory", "peak_rss_mb"), unit=" MB", digits=1),
        Row("memory", "peak heap", *pair("memory", "peak_heap_mb"), unit=" MB", digits=1),
        Row("io", "read", *pair("io", "read_mb"), unit=" MB", digits=1),
        Row("io", "write", *pair("io", "write_mb"), unit=" MB", digits=1),
    ]
    for name in [*a.stages, *(s for s in b.stages if s not in a.stages)]:
        sa, sb = _stage(a.stages.get(name)), _stage(b.stages.get(name))
        rows += [
            Row("stages", f"{name} wall", sa.get("wall_s"), sb.get("wall_s"), unit=" s", digits=3),
            Row("stages", f"{name} cpu", sa.get("cpu_s"), sb.get("cpu_s"), unit=" s", digits=3),
            Row("stages", f"{name} share", sa.get("share"), sb.get("share"), kind="share"),
        ]
    rows += [
        Row("outcome", "verdict", _verdict(a), _verdict(b), kind="text"),
        Row("outcome", "status", a.status, b.status, kind="text"),
    ]
    return rows


def _stage(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return {"wall_s": value} if fmt.is_number(value) else {}


def _verdict(s: RunSummary) -> str | None:
    v = s.verdict or {}
    if not v.get("bound"):
        return None
    return f"{v['bound']} ({v.get('confidence', '?')})"


def _warnings(a: RunSummary, b: RunSummary) -> list[str]:
    warnings = []
    if a.target != b.target:
        warnings.append(
            f"different targets ({a.target} vs {b.target}): the runs did different work, "
            "so their figures compare only loosely"
        )
    if a.tool != b.tool:
        warnings.append(
            f"different tools ({a.tool} vs {b.tool}): profiler overhead differs, "
            "so times are not like for like"
        )
    for which, s in (("A", a), ("B", b)):
        if s.status != "ok":
            warnings.append(f"run {which} is {s.status}: its figures cover only part of the work")
        cpu_wait = s.split.cpu_wait or 0.0
        if cpu_wait >= CONTENDED:
            warnings.append(
                f"run {which} waited for a CPU {fmt.percent(cpu_wait)} of its thread time: the "
                "machine was busy, so its times say as much about that load as about the code"
            )
    return warnings


# -- the differential flame graph ----------------------------------------------------------------


def diff_flamegraph(c: Comparison) -> tuple[str | None, str | None]:
    """(SVG text, None), or (None, one line saying why there is none)."""
    from harness.render.flamegraph import DiffFlameGraph

    stacks = []
    for which, s, run_dir in (("A", c.a, c.a_dir), ("B", c.b, c.b_dir)):
        try:
            recorded = stack_sources.load(run_dir)
        except HarnessError:
            recorded = None
        if recorded is None or recorded.unit != "samples":
            samplers = ", ".join(t.name for t in tools.with_stacks() if t.follows_processes)
            return None, (
                f"no differential flame graph: run {which} ({s.tool}) has no sampled stacks; "
                f"only {samplers} runs record them"
            )
        found = st.strip_roots(recorded.stacks)
        if st.total_samples(found) == 0:
            return None, (
                f"no differential flame graph: run {which}'s {recorded.source} holds no samples"
            )
        stacks.append(found)
    title = f"{c.a.target}: {_label(c, 'a')} → {_label(c, 'b')}"
    return DiffFlameGraph(title).render((stacks[0], stacks[1])), None


def _label(c: Comparison, side: str) -> str:
    differing = ", ".join(f"{p.key}={p.value(side)}" for p in c.differing_params)
    return differing or (c.a.run_id if side == "a" else c.b.run_id)


def record_path(html_path: Path) -> Path:
    return html_path.with_name(f"{html_path.stem}{RECORD_SUFFIX}")


def write_record(c: Comparison, html_path: Path) -> Path:
    """Beside the page, which runs it shows: `harness prune` keeps runs a compare references."""
    path = record_path(html_path)
    where = path.parent.resolve()
    runs = [d.resolve() for d in (c.a_dir, c.b_dir)]
    write_json_atomic(
        path,
        {
            "kind": RECORD_KIND,
            "schema": RECORD_SCHEMA,
            "html": html_path.name,
            "runs": [str(r) for r in runs],
            "runs_relative": [os.path.relpath(r, where) for r in runs],
        },
    )
    return path
