"""The loopback API server, over real HTTP, started in its own process on a free port."""

from __future__ import annotations

import http.client
import ipaddress
import os
import select
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import psutil
import pytest

from workloads.api_service import TOKEN_ENV, ApiServerProcess
from workloads.data import corrupt_indices, corrupt_item, item_id, make_item

ITEMS, PAGE_SIZE, SEED, CORRUPT_RATE = 53, 7, 5, 0.1


def get(url: str, path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server():
    with ApiServerProcess(
        items=ITEMS, page_size=PAGE_SIZE, seed=SEED, latency_ms=0, corrupt_rate=CORRUPT_RATE
    ) as running:
        yield running


def test_listens_on_loopback_only(server: ApiServerProcess) -> None:
    url = urlsplit(server.url)
    assert url.hostname == "127.0.0.1"
    listening = [
        c
        for c in psutil.Process(server.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", url.port)]
    others = [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not ipaddress.ip_address(a.address).is_loopback
    ]
    for address in others:
        with pytest.raises(OSError):
            socket.create_connection((address, url.port), timeout=1).close()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::"])
def test_refuses_a_non_loopback_host(host: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workloads.api_server", "--host", host],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, TOKEN_ENV: "t"},
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "loopback" in done.stderr


@pytest.mark.parametrize("path", ["/items?page=0", "/stats"])
@pytest.mark.parametrize("auth", [None, "wrong", "prefix+token", "basic"])
def test_rejects_a_missing_or_wrong_token(server: ApiServerProcess, path: str, auth: str) -> None:
    headers = {
        None: {},
        "wrong": {"Authorization": "Bearer not-the-token"},
        "prefix+token": {"Authorization": f"Bearer {server.token}x"},
        "basic": {"Authorization": f"Basic {server.token}"},
    }[auth]
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = orjson.loads(response.read())
    conn.close()
    assert response.status == 401
    assert body["status"] == 401 and "token" in body["error"]


def test_pages_cover_every_item_exactly_once(server: ApiServerProcess) -> None:
    bad = corrupt_indices(ITEMS, SEED, CORRUPT_RATE)
    assert bad, "the corrupt rate should corrupt a few items"
    items, path, page = [], "/items?page=0", 0
    while path is not None:
        status, _, raw = get(server.url, path, server.token)
        assert status == 200
        body = orjson.loads(raw)
        assert (body["page"], body["page_size"], body["total"], body["pages"]) == (
            page,
            PAGE_SIZE,
            ITEMS,
            8,
        )
        items += body["items"]
        path, page = body["next"], page + 1
    assert [item["id"] for item in items] == [item_id(i) for i in range(ITEMS)]
    for index, item in enumerate(items):
        expected = make_item(index, SEED)
        assert item == (corrupt_item(expected, bad[index]) if index in bad else expected)


@pytest.mark.parametrize(("page", "status"), [("8", 404), ("-1", 404), ("x", 400)])
def test_out_of_range_page_is_a_json_error(server: ApiServerProcess, page: str, status: int):
    code, headers, raw = get(server.url, f"/items?page={page}", server.token)
    assert code == status
    assert headers["Content-Type"].startswith("application/json")
    assert orjson.loads(raw)["status"] == status


def test_rate_limit_answers_429_with_retry_after() -> None:
    with ApiServerProcess(items=50, latency_ms=0, rate_limit=2) as server:  # burst of 1
        answers = [get(server.url, "/items?page=0", server.token) for _ in range(5)]
        stats = server.stats()
    statuses = [status for status, _, _ in answers]
    assert statuses[0] == 200 and 429 in statuses
    for status, headers, raw in answers:
        if status == 429:
            assert int(headers["Retry-After"]) >= 1
            assert orjson.loads(raw)["status"] == 429
    assert stats["by_status"]["429"] == statuses.count(429)


def test_stats_count_each_injected_fault() -> None:
    # Every request faults and kinds rotate, so six requests give exactly two of each kind.
    with ApiServerProcess(items=50, latency_ms=0, fault_rate=1.0) as server:

        def attempt(_: int) -> tuple[str, float]:
            began = time.monotonic()
            try:
                status, _, _ = get(server.url, "/items?page=0", server.token)
            except (ConnectionError, http.client.HTTPException):
                return "dropped", time.monotonic() - began
            return str(status), time.monotonic() - began

        with ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(attempt, range(6)))
        stats = server.stats()
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["200", "200", "500", "500", "dropped", "dropped"]
    assert all(took >= 0.9 for kind, took in outcomes if kind == "200")  # the slow ones
    assert stats["faults"] == {"http_500": 2, "slow": 2, "drop": 2}
    assert stats["requests"] == 6
    assert stats["by_status"] == {"200": 2, "500": 2}


def test_output_never_shows_the_token_and_sigterm_exits_cleanly() -> None:
    with ApiServerProcess(items=20, latency_ms=0) as server:
        assert get(server.url, "/items?page=0", server.token)[0] == 200
        assert get(server.url, "/items?page=0", "wrong")[0] == 401
    assert server.returncode == 0
    assert server.stdout() == f"URL {server.url}\n"
    assert server.token not in server.stdout() + server.stderr()


@pytest.mark.parametrize("explicit_file", [True, False])
def test_generated_token_goes_to_a_private_file_gone_with_the_server(
    tmp_path: Path, explicit_file: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    args = ["--token-file", str(tmp_path / "token")] if explicit_file else []
    stderr_path = tmp_path / "stderr"
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workloads.api_server", "--latency-ms", "0", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            start_new_session=True,
        )
    try:
        assert proc.stdout is not None
        assert select.select([proc.stdout], [], [], 20)[0], "server did not start"
        url = proc.stdout.readline().decode().removeprefix("URL ").strip()
        token_file = Path(stderr_path.read_text().removeprefix("token file: ").strip())
        if explicit_file:
            assert token_file == tmp_path / "token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        token = token_file.read_text()
        assert len(token) >= 24
        assert get(url, "/items?page=0", token)[0] == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    rest = proc.stdout.read().decode()
    proc.stdout.close()
    assert proc.returncode == 0
    assert rest == ""
    assert token not in stderr_path.read_text()
    # A file the server made up itself goes with it; one the user named stays.
    assert token_file.exists() == explicit_file


def test_startup_failure_reports_stderr() -> None:
    with pytest.raises(RuntimeError, match=r"exited during start-up(.|\n)*must be >= 0"):
        ApiServerProcess(items=-1).start()
