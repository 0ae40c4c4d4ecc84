"""Ingest items from the paginated API, one page at a time or with N requests in flight.

Both clients deliver pages strictly in order, each exactly once, because the pipeline
checkpoints by item position. They share one retry policy (api_retry.py).

    ingest = ApiIngest(url, token, mode="asyncio", workers=16)
    for items in ingest.pages():  # a plain iterator, for a synchronous caller
        ...
    ingest.stats.as_dict()
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import queue
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any, Literal

import aiohttp

from workloads.pipeline.api_retry import (
    Fetch,
    IngestStats,
    Retryable,
    check_status,
    parse_base,
    span,
    trim,
)

MODES = ("sequential", "asyncio")


def fetch_items_sequential(fetch: Fetch) -> Iterator[list[dict]]:
    """Pages of items from position `fetch.start` (at most `fetch.count` items), one request at
    a time.

    One keep-alive connection, reopened after a drop: the baseline whose throughput is
    page_size / latency. Page 0 always comes first, to learn page_size and total.
    """
    stats, policy, start = fetch.stats, fetch.policy(), fetch.start
    host, port, prefix = parse_base(fetch.url)
    conn = http.client.HTTPConnection(host, port, timeout=fetch.timeout)

    def get(page: int) -> dict[str, Any]:
        attempts = fetch.attempts(page, policy)
        while True:
            try:
                stats.requests += 1
                conn.request("GET", f"{prefix}/items?page={page}", headers=fetch.headers)
                response = conn.getresponse()
                return check_status(page, response.status, response.headers, response.read())
            except (Retryable, OSError, http.client.HTTPException) as err:
                if not isinstance(err, Retryable):
                    conn.close()  # the next request reconnects
                delay = attempts.delay_after(err)
            time.sleep(delay)

    try:
        first = get(0)
        page_size, end, last = span(first, start, fetch.count)
        for page in range(start // page_size, last + 1) if start < end else ():
            body = first if page == 0 else get(page)
            items = trim(body["items"], page, page_size, start, end)
            stats.pages += 1
            stats.items += len(items)
            yield items
    finally:
        conn.close()


def _request_counter(stats: IngestStats) -> aiohttp.TraceConfig:
    """Counts requests as aiohttp sends them, one per connection taken for a request.

    aiohttp silently re-sends an idempotent request once when its connection drops
    (RFC 9112, 9.3.1); counting here keeps those in `requests` and `retries["reset"]`.
    """

    async def on_connection(_session: Any, ctx: Any, _params: Any) -> None:
        stats.requests += 1
        ctx.sent = getattr(ctx, "sent", 0) + 1
        if ctx.sent > 1:
            stats.retries["reset"] += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_reuseconn.append(on_connection)
    trace.on_connection_create_end.append(on_connection)
    return trace


async def fetch_items_asyncio(fetch: Fetch, workers: int = 16) -> AsyncGenerator[list[dict], None]:
    """Pages of items from position `fetch.start`, in order, with `workers` requests in flight.

    Page tasks are created in page order over a sliding window (4 x workers pages ahead), and a
    semaphore caps the requests in flight. Awaiting the oldest task first buffers out-of-order
    completions and bounds memory when the caller is slower than the network.
    """
    stats, policy, start = fetch.stats, fetch.policy(), fetch.start
    parse_base(fetch.url)
    items_url = f"{fetch.url.rstrip('/')}/items"
    in_flight = asyncio.Semaphore(workers)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=workers),
        timeout=aiohttp.ClientTimeout(total=fetch.timeout),
        headers=fetch.headers,
        trace_configs=[_request_counter(stats)],
    )

    async def get(page: int) -> dict[str, Any]:
        attempts = fetch.attempts(page, policy)
        while True:
            try:
                async with (
                    in_flight,
                    session.get(items_url, params={"page": str(page)}) as response,
                ):
                    body = await response.read()
                    return check_status(page, response.status, response.headers, body)
            except (Retryable, TimeoutError, aiohttp.ClientError) as err:
                delay = attempts.delay_after(err)  # a dropped connection, a truncated body...
            await asyncio.sleep(delay)

    window: deque[asyncio.Future[dict[str, Any]]] = deque()
    try:
        first = await get(0)  # learns page_size and total
        page_size, end, last = span(first, start, fetch.count)
        if start >= end:
            return
        todo = iter(range(start // page_size, last + 1))

        def schedule() -> None:
            page = next(todo, None)
            if page == 0:
                done = asyncio.get_running_loop().create_future()
                done.set_result(first)
                window.append(done)
            elif page is not None:
                window.append(asyncio.ensure_future(get(page)))

        for _ in range(4 * workers):
            schedule()
        page = start // page_size
        while window:
            body = await window[0]
            window.popleft()
            schedule()
            items = trim(body["items"], page, page_size, start, end)
            stats.pages += 1
            stats.items += len(items)
            yield items
            page += 1
    finally:
        for task in window:
            task.cancel()
        await asyncio.gather(*window, return_exceptions=True)
        await session.close()


class _Handoff:
    """Runs an async iterator on its own event loop in a thread, for a synchronous caller.

    The loop keeps requests in flight while the caller transforms a page; blocking the loop
    instead would stall them and could fire spurious timeouts. At most `buffered` results
    wait in the hand-off queue, so a slow caller also slows the fetching.
    """

    _DONE = object()

    def __init__(self, make: Callable[[], AsyncGenerator[Any, None]], buffered: int) -> None:
        self._make = make
        self._results: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue()
        self._space = asyncio.Semaphore(buffered)

    async def _pump(self) -> None:
        source = self._make()
        try:
            async for value in source:
                await self._space.acquire()
                self._results.put((value, None))
            self._results.put((self._DONE, None))
        except Exception as exc:
            self._results.put((None, exc))
        finally:
            await source.aclose()

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, task: asyncio.Task[None]) -> None:
        asyncio.set_event_loop(loop)
        try:
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(task)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def __iter__(self) -> Iterator[Any]:
        loop = asyncio.new_event_loop()
        # Created before the loop runs, so cancelling it from this thread cannot race its start.
        task = loop.create_task(self._pump())
        thread = threading.Thread(target=self._run, args=(loop, task), name="api-ingest")
        thread.daemon = True
        thread.start()
        try:
            while True:
                value, error = self._results.get()
                if error is not None:
                    raise error
                if value is self._DONE:
                    return
                with contextlib.suppress(RuntimeError):  # the pump finished, the loop closed
                    loop.call_soon_threadsafe(self._space.release)
                yield value
        finally:
            if thread.is_alive():
                with contextlib.suppress(RuntimeError):  # the loop already closed
                    loop.call_soon_threadsafe(task.cancel)
            thread.join()


class ApiIngest:
    """One ingestion run over the API for a synchronous caller: `pages()` plus `stats`.

    mode "sequential" fetches in the calling thread; "asyncio" runs `workers` concurrent
    requests on an event loop in a background thread. Either way pages arrive in order.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        mode: Literal["sequential", "asyncio"] = "sequential",
        workers: int = 16,
        **fetch: Any,
    ) -> None:
        """`fetch`: start, count, timeout, max_retries, seed (api_retry.Fetch)."""
        if mode not in MODES:
            raise ValueError(f"unknown API ingest mode {mode!r}: use one of {', '.join(MODES)}")
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.mode = mode
        self.workers = workers
        self._fetch = Fetch(url, token, **fetch)
        self.stats = self._fetch.stats

    def pages(self) -> Iterator[list[dict]]:
        """Lists of items, one per page, in page order."""
        if self.mode == "sequential":
            return fetch_items_sequential(self._fetch)

        def make() -> AsyncGenerator[list[dict], None]:
            return fetch_items_asyncio(self._fetch, self.workers)

        return iter(_Handoff(make, buffered=2 * self.workers))
