"""What a flush costs on each filesystem, and a model of output throughput built on it.

The probe times a flush the way the output writers make it: a new ~1 KB file written and synced
(`create`: individual files), ~1 KB appended to one open file and synced (`append`: the
collection), and a new file of a batch (100 x 1 KB) synced, renamed into place and its directory
synced (`batch`: the batched layout). The model then says what the output scenario should do:

    items/s = 1 / (c + f x L)

c is the per-item cost with no fsync (the same layout's `fsync none` point on that filesystem),
f the flushes per item the writer makes, and L the mean latency the probe measured there for
that kind of flush. It is checked against every synced point on every filesystem. Then, with L
set to a named storage class's latency per device flush (a batch makes two: file and
directory), it predicts what a spinning disk or an SSD would do: predictions, not measurements.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Any

from harness.study.results import PointResult

ITEM_BYTES = 1024
PATTERNS = ("create", "append", "batch")
PROBE_BATCH = 100  # items per batch file, the batched layout's default
TOLERANCE = 0.25
# Flush latency per fsync of a small write: typical figures, not measured here.
STORAGE_CLASSES = (
    ("spinning disk (7,200 rpm)", 8.0),
    ("SATA SSD", 1.0),
    ("NVMe SSD with power-loss protection", 0.05),
)
MODEL = "items/s = 1 / (c + f x L)"


def probe(directory: Path, count: int) -> dict[str, list[float]]:
    """fsync latencies in seconds, `count` of each pattern, written under `directory`."""
    directory.mkdir(parents=True)
    payload = b"x" * (ITEM_BYTES - 1) + b"\n"
    out: dict[str, list[float]] = {"create": [], "append": []}
    for n in range(count):
        fd = os.open(directory / f"{n}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, payload)
            t0 = time.perf_counter()
            os.fsync(fd)
            out["create"].append(time.perf_counter() - t0)
        finally:
            os.close(fd)
    fd = os.open(directory / "appended.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for _ in range(count):
            os.write(fd, payload)
            t0 = time.perf_counter()
            os.fsync(fd)
            out["append"].append(time.perf_counter() - t0)
    finally:
        os.close(fd)
    out["batch"] = _probe_batches(directory, max(5, count // 5), payload * PROBE_BATCH)
    return out


def _probe_batches(directory: Path, count: int, data: bytes) -> list[float]:
    """As BatchedWriter: write to a temp name, fsync, rename, fsync the directory."""
    batches = directory / "batches"
    batches.mkdir()
    dir_fd = os.open(batches, os.O_RDONLY | os.O_DIRECTORY)
    found = []
    try:
        for n in range(count):
            tmp = batches / f"batch-{n:08d}.jsonl.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, data)
                t0 = time.perf_counter()
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, tmp.with_suffix(""))
            os.fsync(dir_fd)
            found.append(time.perf_counter() - t0)
    finally:
        os.close(dir_fd)
    return found


def latency_stats(samples_s: list[float]) -> dict[str, float] | None:
    """n, mean, p50 and p99 in milliseconds."""
    if not samples_s:
        return None
    ordered = sorted(samples_s)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "n": len(ordered),
        "mean_ms": round(1e3 * statistics.fmean(ordered), 4),
        "p50_ms": round(1e3 * pick(0.50), 4),
        "p99_ms": round(1e3 * pick(0.99), 4),
    }


def flushes(
    layout: str, fsync: str, items: int, batch_size: int
) -> tuple[str, float, float] | None:
    """(probe pattern, its flushes per item, device flushes per item) of a writer; None for
    `none` and `end`.

    Counted from workloads/pipeline/output.py: `each` syncs every file (and the directory once
    at close); the collection syncs its one file per item (and file + directory at close);
    batched syncs each batch file and then its directory (`each` and `batch` alike): one
    `batch` flush, two device flushes. `end` is one syncfs writing back the whole run at once:
    not a per-item flush, so outside the model.
    """
    if fsync in ("none", "end"):
        return None
    if layout == "collection":
        per_item = (1.0 if fsync == "each" else 1.0 / batch_size) + 2.0 / items
        return "append", per_item, per_item
    if layout == "batched":
        return "batch", 1.0 / batch_size, 2.0 / batch_size
    if fsync == "each":
        return "create", 1.0 + 1.0 / items, 1.0 + 1.0 / items
    return None  # individual files synced B at a time share journal commits: not modelled


def predict(c_s: float, per_item: float, latency_s: float) -> float:
    return 1.0 / (c_s + per_item * latency_s)


def _layout_name(p: PointResult) -> str:
    layout = p.params.get("layout", "individual")
    return "individual nested" if layout == "individual" and p.params.get("nested") else layout


def _median(p: PointResult) -> float:
    return p.throughput["median"] if p.throughput else 0.0


def latency_s(filesystems: dict[str, Any], fs: str, pattern: str) -> float | None:
    stats = ((filesystems.get(fs) or {}).get("fsync") or {}).get(pattern)
    return stats["mean_ms"] / 1e3 if stats else None


def check(points: list[PointResult], filesystems: dict[str, Any]) -> list[dict[str, Any]]:
    """The model against every synced output point whose filesystem was probed."""
    ok = [p for p in points if p.ok and p.group == "layout"]
    unsynced = {
        (p.params.get("fs", "disk"), _layout_name(p)): p
        for p in ok
        if p.params.get("fsync") == "none"
    }
    rows = []
    for p in ok:
        fs, layout = p.params.get("fs", "disk"), _layout_name(p)
        base = unsynced.get((fs, layout))
        how = flushes(
            p.params.get("layout", "individual"),
            p.params.get("fsync", "none"),
            int(p.params.get("items", 1)),
            int(p.params.get("batch_size", 100)),
        )
        latency = latency_s(filesystems, fs, how[0]) if how else None
        if base is None or how is None or latency is None or not _median(base):
            continue
        c = 1.0 / _median(base)
        predicted = predict(c, how[1], latency)
        rows.append(
            {
                "key": p.key,
                "fs": fs,
                "layout": layout,
                "fsync": p.params.get("fsync"),
                "c_us": round(1e6 * c, 4),
                "flushes_per_item": round(how[1], 4),
                "device_flushes_per_item": round(how[2], 4),
                "pattern": how[0],
                "latency_ms": round(1e3 * latency, 4),
                "predicted": round(predicted, 1),
                "measured": _median(p),
                "spread": p.throughput,
                "error": round(predicted / _median(p) - 1.0, 4),
            }
        )
    return rows


def classes(rows: list[dict[str, Any]], fs: str) -> list[dict[str, Any]]:
    """Each synced layout's predicted items/s for the named storage classes, with c from `fs`."""
    out = []
    for row in (r for r in rows if r["fs"] == fs):
        c = row["c_us"] / 1e6
        out.append(
            {
                "layout": row["layout"],
                "fsync": row["fsync"],
                "c_us": row["c_us"],
                "flushes_per_item": row["device_flushes_per_item"],
                "unsynced": round(1.0 / c, 1),
                "predicted": {
                    name: round(predict(c, row["device_flushes_per_item"], ms / 1e3), 1)
                    for name, ms in STORAGE_CLASSES
                },
            }
        )
    return out
