"""Items from the loopback API for a scenario: a running server (--api-url, token from the
environment) or one started here, in its own process so it never shows in the profile."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from workloads.api_service import TOKEN_ENV, ApiServerProcess
from workloads.errors import WorkloadError
from workloads.pipeline.api_retry import IngestStats
from workloads.pipeline.ingest_api import ApiIngest


def connect(stack: ExitStack, p: dict[str, Any], mode: str, start: int = 0) -> ApiIngest:
    """An ApiIngest for the scenario parameters `p`, starting a server unless one is given."""
    if p.get("api_url"):
        token = os.environ.get(TOKEN_ENV)
        if not token:
            raise WorkloadError(
                f"--api-url given but {TOKEN_ENV} is not set: export the "
                "server's token in that variable"
            )
        url = p["api_url"]
    else:
        server = stack.enter_context(ApiServerProcess.for_scenario(p))
        url, token = server.url, server.token
    return ApiIngest(
        url,
        token,
        mode=mode,
        workers=p["workers"],
        start=start,
        count=p["items"] - start,
        seed=p["seed"],
    )


def rechunk(pages: Iterator[list[dict]], size: int) -> Iterator[list[Any]]:
    """Pages regrouped into chunks of `size` items (the last may be shorter)."""
    buffer: list[dict] = []
    for page in pages:
        buffer.extend(page)
        while len(buffer) >= size:
            yield buffer[:size]
            buffer = buffer[size:]
    if buffer:
        yield buffer


def api_chunks(
    stack: ExitStack, p: dict[str, Any], chunk_size: int, start: int = 0
) -> tuple[Iterator[list[Any]], IngestStats]:
    mode = p["ingest_mode"]
    if mode not in ("sequential", "asyncio"):
        raise WorkloadError(
            f"--source api supports --ingest-mode sequential or asyncio, not {mode}"
        )
    ingest = connect(stack, p, mode, start)
    return rechunk(ingest.pages(), chunk_size), ingest.stats
