"""Scenario `pipeline` (plan Task 2): ingest -> transform -> output, end to end.

Variants by option: sequential (`--ingest-mode sequential`); concurrent ingest with sequential
output (`--ingest-mode threads|processes|asyncio --workers N`); concurrent ingest with batched
output (`--output-layout batched`); checkpoints on or off (`--checkpoint-every K`, `--resume`).
Source files or the loopback API (`--source api`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

from workloads import data
from workloads.pipeline.engine import prepare, run_stages
from workloads.pipeline.ingest_files import FileIngest
from workloads.pipeline.records import Record
from workloads.scenarios.api_source import api_chunks
from workloads.scenarios.base import Run, cache_dir, run_scenario
from workloads.scenarios.writing import fill, plan_from


def body(run: Run) -> None:
    p = run.params
    plan = plan_from(run, "output_layout")
    progress, saved = prepare(plan)
    chunk_size = min(p["chunk_size"], p["checkpoint_every"] or p["chunk_size"])
    with ExitStack() as stack:
        chunks: Iterator[list[Record]]
        if p["source"] == "files":
            ds = data.dataset(p["items"], p["seed"], "files", p["corrupt_rate"], cache_dir(p))
            ingest = stack.enter_context(
                FileIngest(ds, p["ingest_mode"], p["workers"], p["parser"])
            )
            chunks = ingest.chunks(chunk_size, start=progress.position)
        else:
            chunks, api_stats = api_chunks(stack, p, chunk_size, start=progress.position)
        run.started()
        try:
            run_stages(chunks, plan, run.result.clock, progress, saved)
        finally:
            fill(run, progress)
            if p["source"] == "api":
                run.result.extra["api"] = api_stats.as_dict()
    run.result.clock.add_children_cpu("ingest")


def main(argv: list[str] | None = None) -> int:
    return run_scenario("pipeline", body, argv)
