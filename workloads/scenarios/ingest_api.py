"""Scenario `ingest_api` (plan Task 4): fetch every item from the paginated loopback API.

Sequential (a blocking client, one request at a time) or asyncio (aiohttp, N requests in
flight). Unless --api-url names a running server, one is started in its own process first.
"""

from __future__ import annotations

from contextlib import ExitStack

from workloads.errors import WorkloadError
from workloads.pipeline.api_retry import ApiError
from workloads.scenarios.api_source import connect
from workloads.scenarios.base import Run, run_scenario


def body(run: Run) -> None:
    p = run.params
    clock = run.result.clock
    with ExitStack() as stack:
        ingest = connect(stack, p, p["mode"])
        seen: set[str] = set()
        duplicates = 0
        run.started()
        try:
            for page in clock.timed("ingest", ingest.pages()):
                for item in page:
                    if item["id"] in seen:
                        duplicates += 1
                    seen.add(item["id"])
        except ApiError as exc:
            raise WorkloadError(f"API ingest failed: {exc}") from None
        finally:
            r = run.result
            r.items_in = r.items_out = len(seen) + duplicates
            r.extra.update(api=ingest.stats.as_dict(), duplicates=duplicates, unique_ids=len(seen))


def main(argv: list[str] | None = None) -> int:
    return run_scenario("ingest_api", body, argv)
