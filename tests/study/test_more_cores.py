"""The plan's 5, 10 and 20 processes are read as oversubscription, and the curve fitted within
the cores predicts the best process count on larger machines, with its parameters."""

from __future__ import annotations

import pytest

from harness import scaling
from harness.study import more_cores
from harness.study.results import Study

from .builders import point


def _study(rates: dict[int, float]) -> Study:
    points = [point(f"ingest_files/processes-{n}", x) for n, x in rates.items()]
    return Study(meta={"cores": 2}, points=points)


def test_points_past_the_cores_are_set_against_the_best_pool_within_them():
    study = _study({1: 10_000, 2: 18_000, 3: 17_500, 5: 16_000, 10: 12_000, 20: 9_000})

    text = more_cores.oversubscription_text(study)

    assert "best pool within them (2 processes, 18,000 items/s)" in text
    one = more_cores.oversubscription_text(_study({1: 10_000, 2: 9_000, 5: 8_000}))
    assert "(1 process, 10,000 items/s)" in one
    assert "3: 0.97x (within noise)" in text
    assert "20: 0.50x (slower)" in text


def test_the_prediction_uses_only_points_within_the_cores():
    # Amdahl with sigma = 0.1 through N = 1, 2; oversubscribed points must not bend the fit.
    lam, sigma = 10_000.0, 0.1
    rates = {n: scaling.usl(n, lam, sigma, 0.0) for n in (1, 2)} | {5: 9_000, 10: 5_000}

    found = more_cores.predict(_study(rates))

    assert found["fit"]["sigma"] == pytest.approx(sigma, abs=1e-6) and found["fit"]["kappa"] == 0
    best8 = found["best"]["8"]
    assert best8["workers"] == 8
    assert best8["items_per_s"] == pytest.approx(scaling.usl(8, lam, sigma, 0.0), abs=0.1)
    assert "Prediction for more cores" in found["text"] and "σ=0.100" in found["text"]
    assert "its shape is assumed, not tested" in found["text"]  # two points only


def test_a_pool_slower_than_one_process_predicts_one_worker_everywhere():
    found = more_cores.predict(_study({1: 10_000, 2: 8_000}))

    assert {v["workers"] for v in found["best"].values()} == {1}
    assert (
        "The fit gives no gain from more cores" in found["text"]
        and "σ = 1.50 >= 1" in found["text"]
    )


def test_no_prediction_without_two_points_within_the_cores():
    assert more_cores.predict(_study({1: 10_000, 5: 9_000})) is None
    assert more_cores.oversubscription_text(_study({1: 10_000})) == ""
