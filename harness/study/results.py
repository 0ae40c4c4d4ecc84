"""What a study measured: per-run records, per-point aggregates, and study.json.

study.json format history (bump STUDY_SCHEMA and keep loading older versions):
  1: first version.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness import readback
from harness.files import read_json_object, write_json_atomic
from harness.sections import Io
from harness.stats import Spread, spread
from harness.study.causes import mean_causes
from harness.study.matrix import Point
from harness.summary import SPLIT_KEYS, RunSummary

STUDY_SCHEMA = 1
STUDY_NAME = "study.json"
FINDINGS_NAME = "findings.md"
WARM_SHARE = 0.1  # read from disk at most this share of what was read: the page cache served it


@dataclass
class RunRecord:
    """One run of a point; `dir` is relative to the study directory (None if none was made)."""

    dir: str | None
    status: str
    items_per_s: float | None = None
    wall_s: float | None = None
    cache: str = "unknown"
    error: str | None = None
    sys_per_item_us: float | None = None  # system CPU of the timed work per item


@dataclass
class PointResult:
    """A point's runs and what they add up to: median throughput, stages, split, verdict."""

    key: str
    scenario: str
    group: str
    label: str
    params: dict[str, Any]
    tool: str
    runs: list[RunRecord] = field(default_factory=list)
    status: str = "failed"
    error: str | None = None
    throughput: dict[str, Any] | None = None
    median_run: str | None = None
    stages: dict[str, dict[str, float]] = field(default_factory=dict)
    split: dict[str, float] = field(default_factory=dict)
    verdict: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: float | None = None
    cache: dict[str, int] = field(default_factory=dict)
    warning: str | None = None
    samples: dict[str, Any] | None = None  # sampled runs: samples by stage (attribution.py)
    sys_per_item_us: float | None = None  # median over the runs
    filesystem: dict[str, Any] | None = None  # the median run's output mount
    causes: dict[str, Any] | None = None  # mean cause and family shares, when runs have them

    @property
    def spread(self) -> Spread | None:
        return Spread.from_dict(self.throughput) if self.throughput else None

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "partial") and self.throughput is not None

    def run_dirs(self) -> list[str]:
        return [r.dir for r in self.runs if r.dir]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PointResult:
        known = set(cls.__dataclass_fields__)
        point = cls(**{k: v for k, v in data.items() if k in known})
        point.runs = [RunRecord(**r) for r in data.get("runs", [])]
        return point


@dataclass
class Study:
    """Everything study.json holds."""

    meta: dict[str, Any] = field(default_factory=dict)
    points: list[PointResult] = field(default_factory=list)
    warmups: list[RunRecord] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    schema: int = STUDY_SCHEMA

    def point(self, key: str) -> PointResult | None:
        return next((p for p in self.points if p.key == key), None)

    def group(self, group: str, ok_only: bool = True) -> list[PointResult]:
        return [p for p in self.points if p.group == group and (p.ok or not ok_only)]

    def failed(self) -> list[PointResult]:
        return [p for p in self.points if p.status != "ok"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "kind": "pipeprof-study",
            "meta": self.meta,
            "points": [asdict(p) for p in self.points],
            "warmups": [asdict(r) for r in self.warmups],
            "answers": self.answers,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Study:
        schema = data.get("schema")
        if not isinstance(schema, int) or schema > STUDY_SCHEMA:
            raise ValueError(f"study schema {schema!r} is not one this version reads")
        return cls(
            meta=data.get("meta", {}),
            points=[PointResult.from_dict(p) for p in data.get("points", [])],
            warmups=[RunRecord(**r) for r in data.get("warmups", [])],
            answers=data.get("answers", {}),
            schema=schema,
        )


def save(study: Study, study_dir: Path) -> Path:
    path = study_dir / STUDY_NAME
    write_json_atomic(path, study.to_dict())
    return path


def load(path: Path) -> Study:
    """The study in `path` (a study.json or its directory); ValueError if unreadable."""
    path = path / STUDY_NAME if path.is_dir() else path
    data = read_json_object(path)
    try:
        readback.check_study(data)
        return Study.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


def cache_state(io: Io) -> str:
    """'warm' when the page cache served the reads (psutil read_bytes << read_chars)."""
    chars, disk = io.read_chars_mb or 0.0, io.read_mb or 0.0
    if chars < 0.05:
        return "unknown"
    return "warm" if disk <= WARM_SHARE * chars else "cold"


def _sys_per_item_us(result: dict[str, Any] | None) -> float | None:
    timed, items = (result or {}).get("timed_cpu"), (result or {}).get("items_in")
    if not timed or not items:
        return None
    return round(1e6 * timed["sys_s"] / items, 2)


def record(summary: RunSummary, rel_dir: str, result: dict[str, Any] | None = None) -> RunRecord:
    """A run's record; `result` is the workload's result JSON, when there is one."""
    error = (summary.error or {}).get("message")
    items_per_s = summary.throughput.items_per_s if summary.status == "ok" else None
    if summary.status == "ok" and items_per_s is None:
        error = "the run ended without a throughput (no workload result)"
    return RunRecord(
        rel_dir,
        summary.status,
        items_per_s,
        summary.wall_s,
        cache_state(summary.io),
        error,
        _sys_per_item_us(result),
    )


def aggregate(point: Point, pairs: list[tuple[RunRecord, RunSummary | None]]) -> PointResult:
    """A point's result from its runs, each with its summary (None where none was written)."""
    runs = [r for r, _ in pairs]
    result = PointResult(
        point.key, point.scenario, point.group, point.label, point.params, point.tool, runs
    )
    good = [(r, s) for r, s in pairs if s is not None and r.items_per_s is not None]
    bad = [r for r in runs if r.items_per_s is None]
    result.cache = dict(Counter(r.cache for r in runs))
    if bad:
        result.error = "; ".join(sorted({r.error or f"status {r.status}" for r in bad}))
    if not good:
        result.status = "failed"
        return result
    result.status = "partial" if bad else "ok"
    values = [r.items_per_s for r, _ in good]
    stats = spread(values)
    assert stats is not None
    result.throughput = stats.to_dict()
    result.warning = stats.warning()
    median_record, median_summary = min(good, key=lambda rs: abs(rs[0].items_per_s - stats.median))
    result.median_run = median_record.dir
    result.stages = _stages([s for _, s in good])
    result.split = {
        k: round(statistics.fmean(s.split.shares()[k] for _, s in good), 4) for k in SPLIT_KEYS
    }
    votes = Counter((s.verdict or {}).get("bound", "unknown") for _, s in good)
    result.verdict = {
        "bound": votes.most_common(1)[0][0],
        "confidence": (median_summary.verdict or {}).get("confidence"),
        "votes": dict(votes),
    }
    peaks = [s.memory.peak_rss_mb for _, s in good if s.memory.peak_rss_mb]
    result.peak_rss_mb = round(statistics.median(peaks), 1) if peaks else None
    sys_items = [r.sys_per_item_us for r, _ in good if r.sys_per_item_us is not None]
    result.sys_per_item_us = round(statistics.median(sys_items), 2) if sys_items else None
    result.filesystem = getattr(median_summary, "filesystem", None)
    result.causes = mean_causes([s for _, s in good])
    return result


def _stages(summaries: list[RunSummary]) -> dict[str, dict[str, float]]:
    names = {name for s in summaries for name in s.stages}
    medians = {
        name: statistics.median(s.stages.get(name, {}).get("wall_s", 0.0) for s in summaries)
        for name in names
    }
    total = sum(medians.values()) or 1.0
    return {
        name: {"wall_s": round(v, 6), "share": round(v / total, 4)}
        for name, v in sorted(medians.items(), key=lambda kv: -kv[1])
        if v > 0
    }
