"""What both API clients share: the errors, the counters, and one retry policy.

429 waits for Retry-After (not a failure), 5xx, dropped connections and timeouts back off
exponentially with seeded jitter, 401 fails at once. Also the page arithmetic: which pages
cover positions [start, end) and which part of a page lies inside.
"""

from __future__ import annotations

import random
import urllib.parse
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

RETRY_CAUSES = ("429", "5xx", "reset", "timeout")


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


@dataclass
class Fetch:
    """One client's request: where from, which items, how patiently; and its counters."""

    url: str
    token: str
    start: int = 0
    count: int | None = None  # None: to the last item
    timeout: float = 5.0
    max_retries: int = 8
    seed: int = 0
    stats: IngestStats = field(default_factory=IngestStats)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def attempts(self, page: int, policy: RetryPolicy | None = None) -> PageAttempts:
        """The retry bookkeeping of one page (`policy`: one shared by the client's pages)."""
        return PageAttempts(page, policy or self.policy(), self.stats)

    def policy(self) -> RetryPolicy:
        return RetryPolicy(max_retries=self.max_retries, seed=self.seed)


class Retryable(Exception):
    """A failed attempt worth another: 429 (with the server's Retry-After), 5xx, a timeout,
    a dropped connection."""

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


class PageAttempts:
    """One page's retry bookkeeping: how long to wait after each failed attempt, or give up."""

    def __init__(self, page: int, policy: RetryPolicy, stats: IngestStats) -> None:
        self.page = page
        self._policy = policy
        self._stats = stats
        self._failures = 0
        self._throttled = 0.0

    def delay_after(self, err: Exception) -> float:
        """Seconds to wait before the next attempt after `err`: a Retryable, or a timeout or
        dropped connection of either client; ApiFetchError when the page is given up."""
        if not isinstance(err, Retryable):  # TimeoutError first: aiohttp's timeouts are both
            err = Retryable("timeout" if isinstance(err, TimeoutError) else "reset", repr(err))
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


def check_status(page: int, status: int, headers: Any, body: bytes) -> dict[str, Any]:
    """The decoded page for a 200; otherwise raise what the status means for retrying."""
    if status == 200:
        return orjson.loads(body)
    if status == 401:
        raise ApiAuthError(f"page {page}: the API rejected the bearer token (HTTP 401)")
    if status == 429:
        raise Retryable("429", "HTTP 429", retry_after(headers.get("Retry-After")))
    if status >= 500:
        raise Retryable("5xx", f"HTTP {status}")
    raise ApiFetchError(f"page {page}: HTTP {status}: {body[:200].decode(errors='replace')}")


def retry_after(value: str | None) -> float | None:
    # Only delay-seconds: the server never sends an HTTP-date.
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def span(first: dict[str, Any], start: int, count: int | None) -> tuple[int, int, int]:
    """(page_size, end item position, last page) learned from the first response."""
    page_size = int(first["page_size"])
    total = int(first["total"])
    end = total if count is None else min(total, start + count)
    return page_size, end, (end - 1) // page_size


def trim(items: list[dict], page: int, page_size: int, start: int, end: int) -> list[dict]:
    """The part of a page inside [start, end)."""
    first = page * page_size
    return items[max(0, start - first) : max(0, end - first)]


def parse_base(url: str) -> tuple[str, int, str]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"expected an http:// base URL, got {url!r}")
    return parts.hostname, parts.port or 80, parts.path.rstrip("/")
