"""Hand-built study data for tests: points with chosen medians, no runs needed."""

from __future__ import annotations

from typing import Any

from harness.stats import spread
from harness.study.results import PointResult, RunRecord, Study


def point(
    key: str,
    median: float,
    *,
    group: str | None = None,
    label: str | None = None,
    params: dict[str, Any] | None = None,
    stages: dict[str, float] | None = None,
    bound: str = "cpu",
    tool: str = "none",
    jitter: float = 0.02,
    status: str = "ok",
    items: int | None = None,
) -> PointResult:
    """A point whose three runs lie within ±`jitter` of `median`."""
    scenario = key.split("/")[0]
    runs = [
        RunRecord(
            f"runs/{key.replace('/', '_')}-{i}", status, median * f if status == "ok" else None
        )
        for i, f in enumerate((1.0, 1 - jitter, 1 + jitter))
    ]
    params = params or _params(key)
    if items is not None:
        params["items"] = items
    result = PointResult(key, scenario, group or _group(key), label or key, params, tool, runs)
    result.status = status
    if status == "ok":
        result.throughput = spread([r.items_per_s for r in runs]).to_dict()
        result.median_run = runs[0].dir
        result.warning = spread([r.items_per_s for r in runs]).warning()
    else:
        result.error = "the target exited with code 1"
    result.stages = {k: {"wall_s": v, "share": v} for k, v in (stages or {}).items()}
    result.verdict = {"bound": bound}
    return result


def _group(key: str) -> str:
    scenario = key.split("/")[0]
    return {"output": "layout", "ingest_api": "api", "pipeline": "pipeline"}.get(
        scenario, "parser" if key.endswith("orjson") else "ingest"
    )


def _params(key: str) -> dict[str, Any]:
    part = key.split("/")[1]
    if key.startswith("ingest"):
        mode, _, workers = part.partition("-")
        return {"mode": mode, **({"workers": int(workers)} if workers else {})}
    if key.startswith("output"):
        parts = key.split("/")
        fs, part = (parts[1], parts[2]) if len(parts) == 4 else ("disk", part)
        nested = part == "individual-nested"
        layout = "individual" if nested else part
        return {"layout": layout, "nested": nested, "fsync": key.split("fsync-")[1], "fs": fs}
    return {}


def ingest_study(seq: float, threads: dict[int, float], procs: dict[int, float]) -> Study:
    points = [point("ingest_files/sequential", seq)]
    points += [point(f"ingest_files/threads-{n}", x, bound="gil") for n, x in threads.items()]
    points += [point(f"ingest_files/processes-{n}", x) for n, x in procs.items()]
    return Study(meta={"cores": 2}, points=points)
