"""Scenario `output` (plan Task 1): serialise and write items, layouts x fsync policies.

Items are loaded from the cached data set before the clock starts, so the profile shows
serialisation and writing only.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson

from workloads import data
from workloads.pipeline.engine import prepare, run_stages
from workloads.pipeline.records import Record
from workloads.scenarios.base import Run, cache_dir, run_scenario
from workloads.scenarios.writing import fill, plan_from


def load_items(count: int, seed: int, params: dict) -> list[dict]:
    ds = data.dataset(count, seed, "jsonl", cache_dir=cache_dir(params))
    with open(ds.path, "rb") as f:
        return [orjson.loads(line) for line in f]


def body(run: Run) -> None:
    p = run.params
    plan = plan_from(run, "layout")
    progress, saved = prepare(plan)
    items = load_items(p["items"], p["seed"], p)[progress.position :]
    chunk = min(256, p["checkpoint_every"] or 256)

    def chunks() -> Iterator[list[Record]]:
        for at in range(0, len(items), chunk):
            yield items[at : at + chunk]

    run.started()
    try:
        run_stages(chunks(), plan, run.result.clock, progress, saved, transform=False)
    finally:
        fill(run, progress)


def main(argv: list[str] | None = None) -> int:
    return run_scenario("output", body, argv)
