"""The loopback API server as a service: its configuration, and the child process that runs it
for scenarios, the harness and tests (workloads/api_server.py is the server itself).

    with ApiServerProcess(items=500, latency_ms=5) as server:
        fetch(server.url, server.token)

This module imports no HTTP framework, so a client that only starts the server stays light.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import orjson

TOKEN_ENV = "PIPEPROF_API_TOKEN"
FAULT_KINDS = ("http_500", "slow", "drop")
DEFAULT_PAGE_SIZE = 10
# 10 items per 140 ms round trip puts a sequential client at ~70 items/s, the measured baseline.
DEFAULT_LATENCY_MS = 140.0
_SLOW_MIN_S = 1.0
_SLOW_MAX_S = 3.0  # well inside a 5 s client timeout: the client survives but notices


@dataclass(frozen=True)
class ServerConfig:
    """What the server serves and how badly: its fields are also its command-line options
    (`--page-size`, ...) and the scenario parameters of the same names."""

    items: int = 1000
    seed: int = 42
    page_size: int = DEFAULT_PAGE_SIZE
    latency_ms: float = DEFAULT_LATENCY_MS
    rate_limit: float = 0.0
    fault_rate: float = 0.0
    corrupt_rate: float = 0.0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> ServerConfig:
        """The configuration named in `values` (scenario parameters, parsed options)."""
        return cls(**{name: values[name] for name in cls.names()})

    def argv(self) -> list[str]:
        """The server's command-line options for this configuration."""
        return [
            word
            for name in self.names()
            for word in ("--" + name.replace("_", "-"), str(getattr(self, name)))
        ]

    @property
    def pages(self) -> int:
        return math.ceil(self.items / self.page_size)

    @property
    def slow_delay_s(self) -> float:
        return min(max(_SLOW_MIN_S, 10 * self.latency_ms / 1000), _SLOW_MAX_S)


class ApiServerProcess:
    """Runs the server in a child process (its own session); keyword arguments are
    ServerConfig's fields."""

    def __init__(
        self, *, token: str | None = None, startup_timeout: float = 15.0, **config: Any
    ) -> None:
        self.config = ServerConfig(**config)
        self.token = token or secrets.token_urlsafe(24)
        self.url = ""
        self.returncode: int | None = None
        self._startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdout = b""
        self._stderr_file: Any = None
        self._stderr_text = ""

    @classmethod
    def for_scenario(cls, params: Mapping[str, Any], token: str | None = None) -> ApiServerProcess:
        """The server a scenario's parameters describe (one mapping for both callers)."""
        return cls(token=token, **{name: params[name] for name in ServerConfig.names()})

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
            [sys.executable, "-m", "workloads.api_server", "--port", "0", *self.config.argv()],
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
