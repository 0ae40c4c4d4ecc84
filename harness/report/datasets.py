"""What each plot shows, taken from the newest study when there is one, else from the runs.

A study's points are the cleaner source (same sizes, repeats, warm-ups); without one, runs are
grouped by configuration and their medians used, so ad-hoc `harness run`s still get plots.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from harness import scaling, stats
from harness.report.collect import Row
from harness.study.questions import MODES, sweeps
from harness.study.results import Study

LAYOUTS = ("individual", "individual nested", "collection", "batched")
FSYNC = ("none", "each / batch", "end")
STAGE_ORDER = ("ingest", "transform", "output", "checkpoint")


@dataclass
class Series:
    """One mode's worker sweep: (workers, median, min, max) per point, and its fitted curve."""

    label: str
    panel: str  # "files" or "api": the two differ by orders of magnitude
    points: list[tuple[float, float, float, float]]
    fit: dict[str, Any] | None


def _spread(values: list[float]) -> tuple[float, float, float]:
    found = stats.spread(values)
    assert found is not None  # groups are built by appending, so never empty
    return found.median_range


def _ok(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.state == "ok" and r.items_per_s and "warm-up" not in r.where]


def scaling_series(study: Study | None, rows: list[Row]) -> list[Series]:
    if study is not None and (found := sweeps(study)):
        return [
            Series(label, "api" if "API" in label else "files", s["points"], s["fit"])
            for label, s in found.items()
        ]
    out = []
    for scenario, mode, label in MODES:
        by_n: dict[float, list[float]] = defaultdict(list)
        for r in _ok(rows):
            p = r.params_full
            if r.target == scenario and r.tool == "none" and p.get("mode") == mode:
                by_n[float(p.get("workers", 1))].append(r.items_per_s)
        if len(by_n) >= 2:
            points = [(n, *_spread(v)) for n, v in sorted(by_n.items())]
            fitted = scaling.fit([p[0] for p in points], [p[1] for p in points])
            panel = "api" if scenario == "ingest_api" else "files"
            out.append(Series(label, panel, points, fitted.to_dict() if fitted else None))
    return out


def stage_bars(study: Study | None, rows: list[Row]) -> list[tuple[str, dict[str, float]]]:
    """(label, {stage: share}) per pipeline configuration."""
    if study is not None and (pipeline := [p for p in study.group("pipeline") if p.stages]):
        return [(p.label, {k: v["share"] for k, v in p.stages.items()}) for p in pipeline]
    groups: dict[str, list[dict[str, float]]] = defaultdict(list)
    for r in _ok(rows):
        if r.target == "pipeline" and r.stages:
            groups[r.params or "defaults"].append(r.stages)
    return [
        (label, {k: statistics.fmean(s.get(k, 0.0) for s in shares) for k in STAGE_ORDER})
        for label, shares in groups.items()
    ]


def split_bars(
    rows: list[Row], limit: int = 45, field: str = "split"
) -> list[tuple[str, dict[str, float], int]]:
    """(label, mean shares, runs) per configuration (target, parameters, tool), newest first;
    the shares of each row's `field`: its split, or its causes by family."""
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for r in rows:
        if r.readable and getattr(r, field) and "warm-up" not in r.where:
            groups.setdefault((r.target, r.params, r.tool), []).append(r)
    out = []
    for (target, params, tool), members in list(groups.items())[:limit]:
        keys = {k for m in members for k in getattr(m, field)}
        split = {k: statistics.fmean(getattr(m, field).get(k, 0.0) for m in members) for k in keys}
        label = f"{target} {params}".strip() + ("" if tool == "none" else f" [{tool}]")
        out.append((label, split, len(members)))
    return out


def mode_bars(study: Study | None, rows: list[Row]) -> list[tuple[str, float, float, float]]:
    """File ingestion per mode at its best worker count: (label, median, min, max)."""
    groups: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    if study is not None and study.group("ingest"):
        for p in study.group("ingest") + study.group("parser"):
            key = (
                p.params.get("mode", "sequential"),
                p.params.get("parser", "json"),
                p.params.get("workers", 1),
            )
            groups[key] = [p.throughput["median"], p.throughput["minimum"], p.throughput["maximum"]]
        spreads = {k: tuple(v) for k, v in groups.items()}
    else:
        for r in _ok(rows):
            if r.target == "ingest_files" and r.tool == "none":
                p = r.params_full
                key = (p.get("mode", "sequential"), p.get("parser", "json"), p.get("workers", 1))
                groups[key].append(r.items_per_s)
        spreads = {k: _spread(v) for k, v in groups.items()}
    best: dict[tuple[str, str], tuple[int, tuple[float, ...]]] = {}
    for (mode, parser, workers), spread in spreads.items():
        if (mode, parser) not in best or spread[0] > best[(mode, parser)][1][0]:
            best[(mode, parser)] = (workers, spread)
    out = []
    for (mode, parser), (workers, spread) in sorted(best.items(), key=_mode_order):
        label = mode if mode == "sequential" else f"{mode}\nbest N={workers}"
        label += "" if parser == "json" else f"\n{parser}"
        out.append((label, *spread[:3]))
    return out


def _mode_order(item: tuple[tuple[str, str], Any]) -> tuple[int, str]:
    (mode, parser), _ = item
    order = ("sequential", "threads", "processes", "asyncio")
    return (order.index(mode) if mode in order else 9, parser)


def _layout_of(params: dict[str, Any]) -> tuple[str, str]:
    layout = params.get("layout", "individual")
    if layout == "individual" and params.get("nested"):
        layout = "individual nested"
    fsync = params.get("fsync", "none")
    return layout, "each / batch" if fsync in ("each", "batch") else fsync


def layout_bars(study: Study | None, rows: list[Row]) -> dict[tuple[str, str], tuple[float, ...]]:
    """(layout, fsync) -> (median, min, max) items/s of the output scenario."""
    if study is not None and (layouts := study.group("layout")):
        return {
            _layout_of(p.params): (
                p.throughput["median"],
                p.throughput["minimum"],
                p.throughput["maximum"],
            )
            for p in layouts
        }
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in _ok(rows):
        if r.target == "output" and r.tool == "none":
            groups[_layout_of(r.params_full)].append(r.items_per_s)
    return {k: _spread(v) for k, v in groups.items()}
