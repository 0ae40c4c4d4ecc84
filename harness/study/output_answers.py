"""Q4 per filesystem, and the storage model's answer to the plan's "SSD vs HDD" question.

Q4 compares layouts and fsync policies on each filesystem the study could make, quoting each
point's median, its repeat spread and its system time per item (the figure that moves when the
filesystem's state, not the code, changed), and for the slowest configuration on each
filesystem where its time went (by cause when the runs carry causes).
"""

from __future__ import annotations

from typing import Any

from harness.stats import compare
from harness.study import causes, storage
from harness.study.results import PointResult, Study

LAYOUTS = ("individual", "individual nested", "collection", "batched")
FS_ORDER = ("disk", "tmpfs", "ext4", "xfs", "btrfs")


def _median(p: PointResult) -> float:
    return p.throughput["median"] if p.throughput else 0.0


def layout_name(p: PointResult) -> str:
    layout = p.params.get("layout", "individual")
    return "individual nested" if layout == "individual" and p.params.get("nested") else layout


def fs_of(p: PointResult) -> str:
    return p.params.get("fs", "disk")


def rate(p: PointResult) -> str:
    return f"{_median(p):,.0f} items/s (±{100 * p.throughput['rel_std']:.0f}%)"


def by_filesystem(study: Study) -> dict[str, list[PointResult]]:
    """The successful output points per filesystem, filesystems in the study's order."""
    found: dict[str, list[PointResult]] = {}
    for p in study.group("layout"):
        found.setdefault(fs_of(p), []).append(p)
    return dict(sorted(found.items(), key=lambda kv: _fs_rank(kv[0])))


def _fs_rank(fs: str) -> int:
    return FS_ORDER.index(fs) if fs in FS_ORDER else len(FS_ORDER)


def _fsync_costs(points: list[PointResult]) -> list[str]:
    by = {(layout_name(p), p.params.get("fsync")): p for p in points}
    out = []
    for layout in LAYOUTS:
        none = by.get((layout, "none"))
        synced = by.get((layout, "each")) or by.get((layout, "batch"))
        if none and synced and _median(none):
            out.append(f"{layout} {_median(synced) / _median(none):.2f}x")
    return out


def per_filesystem(fs: str, points: list[PointResult]) -> str:
    fast, slow = max(points, key=_median), min(points, key=_median)
    part = f"{fs}: {fast.label.rsplit(', ', 1)[0]} {rate(fast)}"
    if slow is not fast:
        part += f" down to {slow.label.rsplit(', ', 1)[0]} {rate(slow)}"
        part += f", {_median(fast) / max(_median(slow), 1e-9):.1f}x apart"
    costs = _fsync_costs(points)
    if costs:
        part += "; fsync keeps " + ", ".join(costs)
    where = causes.describe(slow.causes, slow.split)
    if where and slow is not fast:
        part += f"; the slowest is {where}"
    return part


def q4(study: Study, question: str, plan_rate: float) -> dict[str, Any]:
    """Does output performance change with the format, on each filesystem measured?"""
    groups = by_filesystem(study)
    pts = [p for points in groups.values() for p in points]
    if len(pts) < 2:
        return _answer(question, "Not answered: fewer than two output points succeeded.", [])
    fast, slow = max(pts, key=_median), min(pts, key=_median)
    lead = "No" if compare(fast.spread, slow.spread) == "same" else "Yes"
    text = (
        f"{lead}, on each of the {len(groups)} filesystem(s) measured "
        f"({', '.join(groups)}): overall {fast.label} writes {rate(fast)} and {slow.label} "
        f"{rate(slow)} ({_median(fast) / max(_median(slow), 1e-9):.1f}x apart). Per filesystem, "
        "fastest down to slowest (fsync per item, per batch for batched, as a share of the "
        "unsynced throughput): "
        + "; ".join(per_filesystem(fs, points) for fs, points in groups.items())
        + "."
    )
    ingest = study.point("ingest_files/sequential")
    slower_plan = sum(_median(p) < plan_rate for p in pts)
    if ingest is not None and ingest.ok:
        slower = sum(_median(p) < _median(ingest) for p in pts)
        text += (
            f" {slower} of {len(pts)} output points are slower than the sequential ingestion "
            f"measured here ({_median(ingest):,.0f} items/s), {slower_plan} slower than the "
            f"plan's {plan_rate:,.0f} items/s baseline."
        )
    table = {
        fs: {
            f"{layout_name(p)}|{p.params.get('fsync')}": {
                "median": _median(p),
                "rel_std": p.throughput["rel_std"],
                "minimum": p.throughput["minimum"],
                "maximum": p.throughput["maximum"],
                "sys_per_item_us": p.sys_per_item_us,
                "run": p.median_run,
            }
            for p in points
        }
        for fs, points in groups.items()
    }
    cited = [fast, slow] + [max(points, key=_median) for points in groups.values()]
    return _answer(question, text, _cite(cited), table=table)


def _cite(points: list[PointResult]) -> list[dict[str, str]]:
    seen, out = set(), []
    for p in points:
        if p.median_run and p.median_run not in seen:
            seen.add(p.median_run)
            out.append({"label": p.label, "path": p.median_run})
    return out


def _answer(question: str, text: str, cited: list, **data: Any) -> dict[str, Any]:
    return {"question": question, "text": text, "citations": cited, "data": data}


def storage_answer(study: Study) -> dict[str, Any]:
    """The model checked on every probed filesystem, and what it predicts for storage classes."""
    fsinfo = study.meta.get("filesystems") or {}
    rows = storage.check(study.group("layout"), fsinfo)
    reference = study.meta.get("reference_fs") or "disk"
    ref = reference if any(r["fs"] == reference for r in rows) else None
    ref = ref or (rows[0]["fs"] if rows else None)
    ordered = sorted(fsinfo.items(), key=lambda kv: _fs_rank(kv[0]))
    latencies = {fs: entry["fsync"] for fs, entry in ordered if entry.get("fsync")}
    worst = max((abs(r["error"]) for r in rows), default=None)
    classes = storage.classes(rows, ref) if ref else []
    return {
        "question": 'What would an HDD do? (the plan\'s "different filesystems (SSD vs HDD)")',
        "model": storage.MODEL,
        "rows": rows,
        "latencies": latencies,
        "worst_error": worst,
        "within": worst is not None and worst <= storage.TOLERANCE,
        "classes_fs": ref,
        "classes": classes,
        "storage_classes": [list(c) for c in storage.STORAGE_CLASSES],
        "text": _storage_text(rows, worst, classes),
        "citations": [],
    }


def _storage_text(rows: list[dict[str, Any]], worst: float | None, classes: list) -> str:
    if not rows or worst is None:
        return "Not answered: no synced output point with a probed filesystem."
    fss = list(dict.fromkeys(r["fs"] for r in rows))
    verdict = "within" if worst <= storage.TOLERANCE else "NOT within"
    text = (
        f"The model {storage.MODEL} is {verdict} 25% of the measurements on every filesystem "
        f"measured ({', '.join(fss)}; worst error {100 * worst:.0f}%)."
    )
    if classes:
        text += " " + hdd_answer(classes, [list(c) for c in storage.STORAGE_CLASSES])
    return text


def hdd_answer(classes: list[dict[str, Any]], storage_classes: list[list[Any]]) -> str:
    """The plan's SSD-vs-HDD question in one paragraph, from the predictions."""
    hdd, ssd, nvme = (c[0] for c in storage_classes)
    per_item = [c for c in classes if c["flushes_per_item"] >= 0.5]
    batched = [c for c in classes if c["flushes_per_item"] < 0.5]
    parts = []
    if per_item:
        worst = min(per_item, key=lambda c: c["predicted"][hdd])
        parts.append(
            f"with fsync per item a {hdd} caps output at about "
            f"{worst['predicted'][hdd]:,.0f} items/s ({worst['layout']}), a {ssd} at "
            f"{worst['predicted'][ssd]:,.0f} and an {nvme} at {worst['predicted'][nvme]:,.0f}"
        )
    if batched:
        best = max(batched, key=lambda c: c["predicted"][hdd])
        parts.append(
            f"syncing once per batch ({best['layout']}, f={best['flushes_per_item']:.3f}) keeps "
            f"{best['predicted'][hdd]:,.0f} items/s even on the {hdd}"
        )
    return (
        "Answer (prediction): " + "; ".join(parts) + ". On storage that flushes slowly the "
        "fsync policy, not the serialiser or the layout's CPU cost, sets the throughput."
    )
