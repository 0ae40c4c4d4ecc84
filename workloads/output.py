"""Scenario `output` (plan Task 1): serialise and write items, layouts x fsync policies.

Items are loaded from the cached data set before the clock starts, so the profile shows
serialisation and writing only.
"""

from __future__ import annotations

import orjson

from workloads import data
from workloads.pipeline.engine import OutputPlan, prepare, run_stages
from workloads.pipeline.records import Record
from workloads.scenario import Run, cache_dir, main


def plan_from(run: Run, layout_key: str) -> OutputPlan:
    p = run.params
    return OutputPlan(
        out_dir=run.out_dir,
        layout=p[layout_key],
        fsync=p["fsync"],
        encoder=p["encoder"],
        batch_size=p["batch_size"],
        fmt=p["format"],
        nested=p["nested"],
        checkpoint_every=p["checkpoint_every"],
        resume=p["resume"],
    )


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

    def chunks():
        for at in range(0, len(items), chunk):
            part: list[Record] = items[at : at + chunk]
            yield part

    run.started()
    try:
        run_stages(chunks(), plan, run.result.clock, progress, saved, transform=False)
    finally:
        fill(run, progress)


def fill(run: Run, progress) -> None:
    r = run.result
    r.items_in, r.items_out = progress.items_in, progress.items_out
    r.items_quarantined = progress.items_quarantined
    r.extra.update(
        resumed_from=progress.start,
        committed=progress.committed,
        checkpoints=progress.checkpoints,
        complete=progress.complete,
        totals=progress.totals,
    )


if __name__ == "__main__":
    raise SystemExit(main("output", body))
