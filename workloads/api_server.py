"""A paginated JSON API on loopback that serves the synthetic items, for the API ingest workload.

It runs in its own process (see `ApiServerProcess`) so its CPU never shows up in the client's
profile. What the client should find is the network: per-request latency, rate limiting and
injected faults, all deterministic for a given seed.

    python -m workloads.api_server --port 0   # prints `URL http://127.0.0.1:PORT`, then serves
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import ipaddress
import math
import os
import random
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from workloads.data import corrupt_indices, corrupt_item, make_item

TOKEN_ENV = "PIPEPROF_API_TOKEN"
FAULT_KINDS = ("http_500", "slow", "drop")
DEFAULT_PAGE_SIZE = 10
# 10 items per 140 ms round trip puts a sequential client at ~70 items/s, the measured baseline.
DEFAULT_LATENCY_MS = 140.0
_SLOW_MIN_S = 1.0
_SLOW_MAX_S = 3.0  # well inside a 5 s client timeout: the client survives but notices


@dataclass(frozen=True)
class ServerConfig:
    items: int = 1000
    seed: int = 42
    page_size: int = DEFAULT_PAGE_SIZE
    latency_ms: float = DEFAULT_LATENCY_MS
    rate_limit: float = 0.0
    fault_rate: float = 0.0
    corrupt_rate: float = 0.0

    @property
    def pages(self) -> int:
        return math.ceil(self.items / self.page_size)

    @property
    def slow_delay_s(self) -> float:
        return min(max(_SLOW_MIN_S, 10 * self.latency_ms / 1000), _SLOW_MAX_S)


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


def _resolve_token(token_file: str | None) -> str:
    token = os.environ.get(TOKEN_ENV)
    if token:
        if token_file:
            _write_secret(Path(token_file), token)
        return token
    token = secrets.token_urlsafe(24)
    if token_file:
        path = Path(token_file)
        _write_secret(path, token)
    else:
        fd, name = tempfile.mkstemp(prefix="pipeprof-api-token-")  # created 0600
        with os.fdopen(fd, "w") as out:
            out.write(token)
        path = Path(name)
    # The path goes to stderr: stdout carries exactly one line, the URL.
    print(f"token file: {path}", file=sys.stderr, flush=True)
    return token


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
    config = ServerConfig(
        items=args.items,
        seed=args.seed,
        page_size=args.page_size,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        fault_rate=args.fault_rate,
        corrupt_rate=args.corrupt_rate,
    )
    api = ItemsApi(config, _resolve_token(args.token_file))
    asyncio.run(serve(host, args.port, api))
    return 0


class ApiServerProcess:
    """Runs the server in a child process (its own session) for scenarios and tests.

    with ApiServerProcess(items=500, latency_ms=5) as server:
        fetch(server.url, server.token)
    """

    def __init__(
        self,
        *,
        items: int = 1000,
        seed: int = 42,
        page_size: int = DEFAULT_PAGE_SIZE,
        latency_ms: float = DEFAULT_LATENCY_MS,
        rate_limit: float = 0.0,
        fault_rate: float = 0.0,
        corrupt_rate: float = 0.0,
        token: str | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self.url = ""
        self.returncode: int | None = None
        self._args = [
            *("--items", str(items), "--seed", str(seed), "--page-size", str(page_size)),
            *("--latency-ms", str(latency_ms), "--rate-limit", str(rate_limit)),
            *("--fault-rate", str(fault_rate), "--corrupt-rate", str(corrupt_rate)),
        ]
        self._startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout = b""
        self._stderr_file: Any = None
        self._stderr_text = ""

    @classmethod
    def for_scenario(cls, params: Mapping[str, Any], token: str | None = None) -> ApiServerProcess:
        """The server a scenario's parameters describe (one mapping for both callers)."""
        return cls(
            items=params["items"],
            seed=params["seed"],
            page_size=params["page_size"],
            latency_ms=params["latency_ms"],
            rate_limit=params["rate_limit"],
            fault_rate=params["fault_rate"],
            corrupt_rate=params["corrupt_rate"],
            token=token,
        )

    def __enter__(self) -> ApiServerProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, TOKEN_ENV: self.token}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        # A file, not a pipe: nobody drains stderr while the server runs. Closed in stop().
        self._stderr_file = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "workloads.api_server", "--port", "0", *self._args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            env=env,
            start_new_session=True,
        )
        try:
            self.url = self._read_url()
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    def _read_url(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        deadline = time.monotonic() + self._startup_timeout
        while b"\n" not in self._stdout:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(self._startup_failure("did not print its URL in time"))
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    self._proc.wait(timeout=5)
                    raise RuntimeError(self._startup_failure("exited during start-up"))
                self._stdout += chunk
        line = self._stdout.split(b"\n", 1)[0].decode()
        if not line.startswith("URL "):
            raise RuntimeError(self._startup_failure(f"printed {line!r} instead of its URL"))
        return line.removeprefix("URL ").strip()

    def _startup_failure(self, what: str) -> str:
        code = self._proc.poll() if self._proc else None
        status = f" (exit code {code})" if code is not None else ""
        tail = self.stderr()[-2000:].strip() or "(empty)"
        return f"API server {what}{status}; stderr tail:\n{tail}"

    def stderr(self) -> str:
        if self._stderr_file is None or self._stderr_file.closed:
            return self._stderr_text
        self._stderr_file.seek(0)
        return self._stderr_file.read().decode(errors="replace")

    def stdout(self) -> str:
        return self._stdout.decode(errors="replace")

    def stats(self, timeout: float = 5.0) -> dict[str, Any]:
        """The server's request and fault counters (GET /stats)."""
        request = urllib.request.Request(
            f"{self.url}/stats", headers={"Authorization": f"Bearer {self.token}"}
        )
        # No proxies: an http_proxy in the environment must not capture loopback traffic.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=timeout) as response:
            return orjson.loads(response.read())

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL it if it has not exited within `timeout`."""
        proc = self._proc
        if proc is None or self.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        self.returncode = proc.returncode
        if proc.stdout is not None:
            self._stdout += proc.stdout.read()
            proc.stdout.close()
        self._stderr_text = self.stderr()
        self._stderr_file.close()


if __name__ == "__main__":
    sys.exit(main())
