"""Scenario `ingest_files` (plan baseline and Task 3): read and parse JSON items from files.

Sequential, asyncio with N coroutines, N threads or N processes; stdlib json or orjson; one
file per item or one JSONL file. The data set is generated (or found in the cache) before the
clock starts.
"""

from __future__ import annotations

from workloads import data
from workloads.pipeline.ingest_files import FileIngest
from workloads.pipeline.records import Rejected
from workloads.scenarios.base import Run, cache_dir, run_scenario

# Items are parsed, counted and dropped chunk by chunk, as a streaming ingester would: holding
# every parsed item made Python's garbage collector cost ~30% more CPU than the parsing.
CHUNK = 1000


def body(run: Run) -> None:
    p = run.params
    ds = data.dataset(p["items"], p["seed"], p["layout"], p["corrupt_rate"], cache_dir(p))
    clock = run.result.clock
    parsed = rejected = 0
    reasons: dict[str, int] = {}
    run.started()
    with FileIngest(ds, p["mode"], p["workers"], p["parser"]) as ingest:
        for chunk in clock.timed("ingest", ingest.chunks(chunk_size=CHUNK)):
            for record in chunk:
                if isinstance(record, Rejected):
                    rejected += 1
                    key = record.reason.split(":")[0]
                    reasons[key] = reasons.get(key, 0) + 1
                else:
                    parsed += 1
    clock.add_children_cpu("ingest")
    run.result.items_in = parsed + rejected
    run.result.items_out = parsed
    run.result.items_quarantined = rejected
    run.result.extra["rejected_by_reason"] = reasons


def main(argv: list[str] | None = None) -> int:
    return run_scenario("ingest_files", body, argv)
