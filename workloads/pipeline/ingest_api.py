"""Ingest items from the paginated API, one page at a time or with N requests in flight.

Both clients deliver pages strictly in order, each exactly once, because the pipeline
checkpoints by item position. They share one retry policy: 429 waits for Retry-After (not a
failure), 5xx, dropped connections and timeouts back off exponentially with seeded jitter,
401 fails at once.

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
import random
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import aiohttp
import orjson

RETRY_CAUSES = ("429", "5xx", "reset", "timeout")
MODES = ("sequential", "asyncio")


class ApiError(RuntimeError):
    """The API could not deliver a page."""


class ApiAuthError(ApiError):
    """The server rejected the bearer token: retrying cannot help."""


class ApiFetchError(ApiError):
    """A page failed for good: too many consecutive failures, or an unretryable status."""


@dataclass
class IngestStats:
    """Counters for the scenario's result JSON: what the network cost, beyond the items."""

    requests: int = 0
    pages: int = 0
    items: int = 0
    retries: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RETRY_CAUSES, 0))
    throttled_s: float = 0.0  # Retry-After waits, summed: concurrent waits overlap in time

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Retryable(Exception):
    def __init__(self, cause: str, detail: str, wait: float | None = None) -> None:
        super().__init__(detail)
        self.cause = cause
        self.wait = wait  # the server's Retry-After, for 429


@dataclass
class RetryPolicy:
    """Capped exponential backoff with jitter; a seeded RNG keeps runs reproducible."""

    max_retries: int = 8
    base_s: float = 0.05
    cap_s: float = 2.0
    max_throttle_s: float = 120.0  # per page: beyond this a 429 storm is an outage
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def backoff(self, failures: int) -> float:
        delay = min(self.cap_s, self.base_s * 2 ** (failures - 1))
        return delay * (0.5 + self._rng.random() / 2)


class _PageAttempts:
    """One page's retry bookkeeping: how long to wait after each failed attempt, or give up."""

    def __init__(self, page: int, policy: RetryPolicy, stats: IngestStats) -> None:
        self.page = page
        self._policy = policy
        self._stats = stats
        self._failures = 0
        self._throttled = 0.0

    def delay_after(self, err: _Retryable) -> float:
        self._stats.retries[err.cause] += 1
        if err.cause == "429":
            # A floor, so that "Retry-After: 0" cannot turn into a busy loop.
            wait = max(self._policy.base_s, err.wait if err.wait is not None else 0.0)
            if self._throttled + wait > self._policy.max_throttle_s:
                raise ApiFetchError(
                    f"page {self.page}: still rate limited after {self._throttled:.0f} s of waiting"
                ) from err
            self._throttled += wait
            self._stats.throttled_s += wait
            return wait
        self._failures += 1
        if self._failures > self._policy.max_retries:
            raise ApiFetchError(
                f"page {self.page}: gave up after {self._failures} consecutive failures; "
                f"last error: {err.cause}: {err}"
            ) from err
        return self._policy.backoff(self._failures)


def _check_status(page: int, status: int, headers: Any, body: bytes) -> dict[str, Any]:
    """The decoded page for a 200; otherwise raise what the status means for retrying."""
    if status == 200:
        return orjson.loads(body)
    if status == 401:
        raise ApiAuthError(f"page {page}: the API rejected the bearer token (HTTP 401)")
    if status == 429:
        raise _Retryable("429", "HTTP 429", _retry_after(headers.get("Retry-After")))
    if status >= 500:
        raise _Retryable("5xx", f"HTTP {status}")
    raise ApiFetchError(f"page {page}: HTTP {status}: {body[:200].decode(errors='replace')}")


def _retry_after(value: str | None) -> float | None:
    # Only delay-seconds: the server never sends an HTTP-date.
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _span(first: dict[str, Any], start: int, count: int | None) -> tuple[int, int, int]:
    """(page_size, end item position, last page) learned from the first response."""
    page_size = int(first["page_size"])
    total = int(first["total"])
    end = total if count is None else min(total, start + count)
    return page_size, end, (end - 1) // page_size


def _trim(items: list[dict], page: int, page_size: int, start: int, end: int) -> list[dict]:
    """The part of a page inside [start, end)."""
    first = page * page_size
    return items[max(0, start - first) : max(0, end - first)]


def _parse_base(url: str) -> tuple[str, int, str]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"expected an http:// base URL, got {url!r}")
    return parts.hostname, parts.port or 80, parts.path.rstrip("/")


def fetch_items_sequential(
    url: str,
    token: str,
    *,
    start: int = 0,
    count: int | None = None,
    timeout: float = 5.0,
    max_retries: int = 8,
    seed: int = 0,
    stats: IngestStats | None = None,
) -> Iterator[list[dict]]:
    """Pages of items from position `start` (at most `count` items), one request at a time.

    One keep-alive connection, reopened after a drop: the baseline whose throughput is
    page_size / latency. Page 0 always comes first, to learn page_size and total.
    """
    stats = stats if stats is not None else IngestStats()
    policy = RetryPolicy(max_retries=max_retries, seed=seed)
    host, port, prefix = _parse_base(url)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def get(page: int) -> dict[str, Any]:
        attempts = _PageAttempts(page, policy, stats)
        while True:
            try:
                stats.requests += 1
                conn.request("GET", f"{prefix}/items?page={page}", headers=headers)
                response = conn.getresponse()
                body = response.read()
                return _check_status(page, response.status, response.headers, body)
            except _Retryable as err:
                delay = attempts.delay_after(err)
            except TimeoutError as err:
                conn.close()
                delay = attempts.delay_after(_Retryable("timeout", repr(err)))
            except (OSError, http.client.HTTPException) as err:
                conn.close()  # the next request reconnects
                delay = attempts.delay_after(_Retryable("reset", repr(err)))
            time.sleep(delay)

    try:
        first = get(0)
        page_size, end, last = _span(first, start, count)
        for page in range(start // page_size, last + 1) if start < end else ():
            body = first if page == 0 else get(page)
            items = _trim(body["items"], page, page_size, start, end)
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


async def fetch_items_asyncio(
    url: str,
    token: str,
    *,
    workers: int = 16,
    start: int = 0,
    count: int | None = None,
    timeout: float = 5.0,
    max_retries: int = 8,
    seed: int = 0,
    stats: IngestStats | None = None,
) -> AsyncGenerator[list[dict], None]:
    """Pages of items from position `start`, in order, with `workers` requests in flight.

    Page tasks are created in page order over a sliding window (4 x workers pages ahead), and a
    semaphore caps the requests in flight. Awaiting the oldest task first buffers out-of-order
    completions and bounds memory when the caller is slower than the network.
    """
    stats = stats if stats is not None else IngestStats()
    policy = RetryPolicy(max_retries=max_retries, seed=seed)
    _parse_base(url)
    items_url = f"{url.rstrip('/')}/items"
    in_flight = asyncio.Semaphore(workers)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=workers),
        timeout=aiohttp.ClientTimeout(total=timeout),
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        trace_configs=[_request_counter(stats)],
    )

    async def get(page: int) -> dict[str, Any]:
        attempts = _PageAttempts(page, policy, stats)
        while True:
            try:
                async with (
                    in_flight,
                    session.get(items_url, params={"page": str(page)}) as response,
                ):
                    body = await response.read()
                    return _check_status(page, response.status, response.headers, body)
            except _Retryable as err:
                delay = attempts.delay_after(err)
            except TimeoutError as err:  # before ClientError: aiohttp's timeouts are both
                delay = attempts.delay_after(_Retryable("timeout", repr(err)))
            except aiohttp.ClientError as err:  # dropped connection, reset, truncated body
                delay = attempts.delay_after(_Retryable("reset", repr(err)))
            await asyncio.sleep(delay)

    window: deque[asyncio.Future[dict[str, Any]]] = deque()
    try:
        first = await get(0)  # learns page_size and total
        page_size, end, last = _span(first, start, count)
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
            items = _trim(body["items"], page, page_size, start, end)
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
        start: int = 0,
        count: int | None = None,
        timeout: float = 5.0,
        max_retries: int = 8,
        seed: int = 0,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown API ingest mode {mode!r}: use one of {', '.join(MODES)}")
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.mode = mode
        self.workers = workers
        self.stats = IngestStats()
        self._url = url
        self._token = token
        self._options: dict[str, Any] = {
            "start": start,
            "count": count,
            "timeout": timeout,
            "max_retries": max_retries,
            "seed": seed,
            "stats": self.stats,
        }

    def pages(self) -> Iterator[list[dict]]:
        """Lists of items, one per page, in page order."""
        if self.mode == "sequential":
            return fetch_items_sequential(self._url, self._token, **self._options)

        def make() -> AsyncGenerator[list[dict], None]:
            return fetch_items_asyncio(
                self._url, self._token, workers=self.workers, **self._options
            )

        return iter(_Handoff(make, buffered=2 * self.workers))
