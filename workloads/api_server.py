"""A paginated JSON API on loopback that serves the synthetic items, for the API ingest workload.

It runs in its own process (see `ApiServerProcess`) so its CPU never shows up in the client's
profile. What the client should find is the network: per-request latency, rate limiting and
injected faults, all deterministic for a given seed.

    python -m workloads.api_server --port 0   # prints `URL http://127.0.0.1:PORT`, then serves

Its configuration and the child process that runs it for others: workloads/api_service.py.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import ipaddress
import math
import os
import random
import secrets
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from workloads.api_service import (
    DEFAULT_LATENCY_MS,
    DEFAULT_PAGE_SIZE,
    FAULT_KINDS,
    TOKEN_ENV,
    ServerConfig,
)
from workloads.data import corrupt_indices, corrupt_item, make_item


class PageCache:
    """Serialised pages, built on first request so start-up stays instant for large item counts."""

    def __init__(self, config: ServerConfig) -> None:
        self._config = config
        self._corrupt = corrupt_indices(config.items, config.seed, config.corrupt_rate)
        self._pages: dict[int, bytes] = {}

    def get(self, page: int) -> bytes:
        body = self._pages.get(page)
        if body is None:
            body = self._pages[page] = self._build(page)
        return body

    def _build(self, page: int) -> bytes:
        cfg = self._config
        first = page * cfg.page_size
        items = []
        for index in range(first, min(first + cfg.page_size, cfg.items)):
            item = make_item(index, cfg.seed)
            kind = self._corrupt.get(index)
            items.append(corrupt_item(item, kind) if kind else item)
        has_next = page + 1 < cfg.pages
        return orjson.dumps(
            {
                "items": items,
                "page": page,
                "page_size": cfg.page_size,
                "total": cfg.items,
                "pages": cfg.pages,
                "next": f"/items?page={page + 1}" if has_next else None,
            }
        )


class TokenBucket:
    """Requests/s limit with a small burst; says how long until the next token frees up."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.capacity = burst
        self._tokens = burst
        self._stamp = time.monotonic()

    def take(self) -> float:
        """0.0 if a token was taken, else the seconds until one is available."""
        now = time.monotonic()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


@dataclass
class ServerStats:
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(FAULT_KINDS, 0)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "by_status": {str(code): n for code, n in sorted(self.by_status.items())},
            "faults": dict(self.faults),
        }


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps({"error": message, "status": status}),
        content_type="application/json",
        headers=headers,
    )


class ItemsApi:
    """The request handlers and the state they share (one instance per server process)."""

    def __init__(self, config: ServerConfig, token: str) -> None:
        self.config = config
        self._token = token.encode()
        self._cache = PageCache(config)
        self._bucket = (
            TokenBucket(config.rate_limit, max(1.0, config.rate_limit / 10))
            if config.rate_limit > 0
            else None
        )
        self._fault_rng = random.Random(config.seed * 65_537 + 11)
        self._faults_injected = 0
        self.stats = ServerStats()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/items", self.items)
        app.router.add_get("/stats", self.stats_view)
        return app

    def _authorised(self, request: web.Request) -> bool:
        scheme, _, supplied = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(supplied.strip().encode("utf-8", "surrogateescape"), self._token)

    def _next_fault(self) -> str | None:
        if self.config.fault_rate <= 0 or self._fault_rng.random() >= self.config.fault_rate:
            return None
        # Round-robin rather than a random pick: every kind shows up once three faults have.
        kind = FAULT_KINDS[self._faults_injected % len(FAULT_KINDS)]
        self._faults_injected += 1
        self.stats.faults[kind] += 1
        return kind

    def _reply(self, response: web.Response) -> web.Response:
        self.stats.by_status[response.status] += 1
        return response

    async def items(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        if not self._authorised(request):
            return self._reply(_error(401, "missing or invalid bearer token"))
        if self._bucket is not None:
            wait = self._bucket.take()
            if wait > 0:
                retry_after = str(max(1, math.ceil(wait)))
                return self._reply(
                    _error(429, "rate limit exceeded", headers={"Retry-After": retry_after})
                )
        try:
            page = int(request.query.get("page", "0"))
        except ValueError:
            return self._reply(_error(400, "page must be an integer"))
        fault = self._next_fault()
        await asyncio.sleep(self.config.latency_ms / 1000)
        if fault == "http_500":
            return self._reply(_error(500, "injected fault"))
        if fault == "drop":
            # Closing first makes aiohttp's write fail quietly, so the client just sees EOF.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)
        if fault == "slow":
            await asyncio.sleep(self.config.slow_delay_s)
        if not 0 <= page < self.config.pages:
            return self._reply(_error(404, f"page {page} out of range 0..{self.config.pages - 1}"))
        return self._reply(
            web.Response(body=self._cache.get(page), content_type="application/json")
        )

    async def stats_view(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "missing or invalid bearer token")
        return web.Response(
            body=orjson.dumps(self.stats.as_dict()), content_type="application/json"
        )


def loopback_host(host: str) -> str:
    """`host` if it is a loopback IP literal; anything else could expose the server."""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError(f"--host must be a loopback address such as 127.0.0.1, not {host!r}")


def _resolve_token(token_file: str | None) -> tuple[str, Path | None]:
    """The bearer token, and the temporary file it was written to (None if no such file: the
    server removes it when it stops, as the token is good for this server only)."""
    token = os.environ.get(TOKEN_ENV)
    if token:
        if token_file:
            _write_secret(Path(token_file), token)
        return token, None
    token = secrets.token_urlsafe(24)
    temporary = None
    if token_file:
        path = Path(token_file)
        _write_secret(path, token)
    else:
        fd, name = tempfile.mkstemp(prefix="pipeprof-api-token-")  # created 0600
        with os.fdopen(fd, "w") as out:
            out.write(token)
        path = temporary = Path(name)
    # The path goes to stderr: stdout carries exactly one line, the URL.
    print(f"token file: {path}", file=sys.stderr, flush=True)
    return token, temporary


def _write_secret(path: Path, secret: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not apply to an existing file
    with os.fdopen(fd, "w") as out:
        out.write(secret)


async def serve(host: str, port: int, api: ItemsApi) -> None:
    """Serve until SIGTERM or SIGINT. Prints the URL line once the socket listens."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    # No access log: it is noise on stdout and the wrong place to risk logging headers.
    runner = web.AppRunner(api.app(), access_log=None, handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.SockSite(runner, sock).start()
        url_host = f"[{host}]" if family == socket.AF_INET6 else host
        print(f"URL http://{url_host}:{bound_port}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m workloads.api_server", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="loopback address only")
    p.add_argument("--port", type=int, default=0, help="0: a free port chosen by the OS")
    p.add_argument("--items", type=int, default=ServerConfig.items)
    p.add_argument("--seed", type=int, default=ServerConfig.seed)
    p.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE)
    p.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS)
    p.add_argument("--rate-limit", type=float, default=0.0, help="requests/s, 0: off")
    p.add_argument("--fault-rate", type=float, default=0.0, help="probability per request")
    p.add_argument("--corrupt-rate", type=float, default=0.0)
    p.add_argument("--token-file", default=None, help="where a generated token is written")
    args = p.parse_args(argv)
    if args.page_size < 1 or args.items < 0 or args.latency_ms < 0 or args.rate_limit < 0:
        p.error("--page-size must be >= 1; --items, --latency-ms, --rate-limit must be >= 0")
    if not 0 <= args.fault_rate <= 1 or not 0 <= args.corrupt_rate <= 1:
        p.error("--fault-rate and --corrupt-rate must be within 0..1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        host = loopback_host(args.host)
    except ValueError as exc:
        print(f"api_server: {exc}", file=sys.stderr)
        return 2
    config = ServerConfig.of(vars(args))
    token, temporary = _resolve_token(args.token_file)
    try:
        asyncio.run(serve(host, args.port, ItemsApi(config, token)))
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
