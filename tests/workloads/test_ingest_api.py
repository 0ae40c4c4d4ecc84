"""The API ingest clients against a real server process: order, exactly once, retries, resume."""

from __future__ import annotations

import threading

import pytest

from workloads.api_service import FAULT_KINDS, ApiServerProcess
from workloads.data import item_id
from workloads.pipeline.api_retry import ApiAuthError, ApiFetchError
from workloads.pipeline.ingest_api import MODES, ApiIngest

ITEMS = 1000


def ids_of(ingest: ApiIngest) -> list[str]:
    return [item["id"] for page in ingest.pages() for item in page]


@pytest.mark.parametrize("mode", MODES)
def test_every_item_once_and_in_order_despite_faults(mode: str) -> None:
    # Seed 42 faults draws 2, 88 and 90 of the first 100 (the least a 100-page run makes), and
    # kinds rotate: every kind is injected. The /stats check below keeps this honest.
    with ApiServerProcess(
        items=ITEMS, seed=42, latency_ms=5, fault_rate=0.05, rate_limit=300
    ) as server:
        ingest = ApiIngest(server.url, server.token, mode=mode, workers=16)
        ids = ids_of(ingest)
        served = server.stats()
    assert ids == [item_id(i) for i in range(ITEMS)]
    assert all(served["faults"][kind] >= 1 for kind in FAULT_KINDS), served
    stats = ingest.stats
    assert (stats.pages, stats.items) == (100, ITEMS)
    assert stats.requests == served["requests"]
    assert stats.retries["5xx"] == served["faults"]["http_500"] == served["by_status"]["500"]
    assert stats.retries["reset"] == served["faults"]["drop"]
    assert stats.retries["429"] == served["by_status"].get("429", 0)


@pytest.mark.parametrize("mode", MODES)
def test_waits_out_429_without_counting_it_as_a_failure(mode: str) -> None:
    with ApiServerProcess(items=100, latency_ms=0, rate_limit=50) as server:  # burst of 5
        ingest = ApiIngest(server.url, server.token, mode=mode, workers=16, max_retries=0)
        ids = ids_of(ingest)
        served = server.stats()
    assert ids == [item_id(i) for i in range(100)]
    assert ingest.stats.retries == {
        "429": served["by_status"]["429"],
        "5xx": 0,
        "reset": 0,
        "timeout": 0,
    }
    assert ingest.stats.retries["429"] > 0
    assert ingest.stats.throttled_s >= 1  # Retry-After is whole seconds


@pytest.fixture(scope="module")
def clean_server():
    with ApiServerProcess(items=95, page_size=10, latency_ms=0) as server:
        yield server


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("start", "count", "end"),
    [
        (0, None, 95),
        (37, None, 95),
        (40, None, 95),
        (37, 20, 57),
        (94, None, 95),
        (95, None, 95),
        (0, 0, 0),
        (3, 4, 7),
        (90, 100, 95),
    ],
)
def test_resumes_from_a_position(
    clean_server: ApiServerProcess, mode: str, start: int, count: int | None, end: int
) -> None:
    ingest = ApiIngest(
        clean_server.url, clean_server.token, mode=mode, workers=4, start=start, count=count
    )
    pages = list(ingest.pages())
    assert [item["id"] for page in pages for item in page] == [
        item_id(i) for i in range(start, end)
    ]
    assert all(pages), "no empty pages"
    assert ingest.stats.pages == len(pages) == len({i // 10 for i in range(start, end)})
    assert ingest.stats.items == max(0, end - start)


@pytest.mark.parametrize("mode", MODES)
def test_wrong_token_fails_at_once(clean_server: ApiServerProcess, mode: str) -> None:
    token = "definitely-not-the-token"
    ingest = ApiIngest(clean_server.url, token, mode=mode)
    with pytest.raises(ApiAuthError, match="401") as raised:
        list(ingest.pages())
    assert token not in str(raised.value)
    assert ingest.stats.requests == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("max_retries", "timeout", "last_error"), [(0, 5.0, "5xx"), (1, 0.3, "timeout")]
)
def test_gives_up_naming_the_page_and_last_error(
    mode: str, max_retries: int, timeout: float, last_error: str
) -> None:
    # Every request faults, in the order 500, slow, drop: the slow one times out at 0.3 s.
    with ApiServerProcess(items=30, latency_ms=0, fault_rate=1.0) as server:
        ingest = ApiIngest(
            server.url, server.token, mode=mode, max_retries=max_retries, timeout=timeout
        )
        with pytest.raises(ApiFetchError, match=f"page 0: .* last error: {last_error}"):
            list(ingest.pages())
    assert ingest.stats.requests == max_retries + 1


def test_stopping_early_shuts_the_fetch_thread_down(clean_server: ApiServerProcess) -> None:
    pages = ApiIngest(clean_server.url, clean_server.token, mode="asyncio", workers=4).pages()
    assert [item["id"] for item in next(pages)] == [item_id(i) for i in range(10)]
    pages.close()
    assert not any(t.name == "api-ingest" for t in threading.enumerate())
