"""The scaling fit recovers the parameters of synthetic sweeps and finds their optimum."""

from __future__ import annotations

import math

import pytest

from harness import scaling


def sweep(sigma: float, kappa: float, ns=(1, 2, 4, 8, 16, 32), lam: float = 1000.0):
    return list(ns), [scaling.usl(n, lam, sigma, kappa) for n in ns]


@pytest.mark.parametrize(("sigma", "kappa"), [(0.05, 0.002), (0.3, 0.01), (0.0, 0.004)])
def test_fit_recovers_sigma_and_kappa_of_a_usl_sweep(sigma, kappa):
    ns, xs = sweep(sigma, kappa)

    fit = scaling.fit(ns, xs)

    assert fit.sigma == pytest.approx(sigma, abs=1e-6)
    assert fit.kappa == pytest.approx(kappa, abs=1e-7)
    assert fit.lam == pytest.approx(1000.0)
    assert fit.optimum == pytest.approx(math.sqrt((1 - sigma) / kappa))
    assert fit.rmse_rel < 1e-9


def test_amdahl_sweep_fits_with_kappa_zero_and_no_peak():
    ns, xs = sweep(0.2, 0.0)

    fit = scaling.fit(ns, xs)

    assert fit.is_amdahl and fit.kappa == 0.0
    assert fit.sigma == pytest.approx(0.2)
    assert math.isinf(fit.optimum)
    assert fit.ceiling == pytest.approx(1000.0 / 0.2)
    assert fit.to_dict()["model"] == "amdahl" and fit.to_dict()["optimum"] is None


def test_amdahl_can_be_forced_on_usl_data():
    ns, xs = sweep(0.1, 0.01)

    fit = scaling.fit(ns, xs, amdahl=True)

    assert fit.kappa == 0.0 and fit.sigma > 0.1


def test_noisy_sweep_still_lands_near_the_truth():
    ns, xs = sweep(0.1, 0.02, ns=(1, 2, 3, 4, 6, 8, 12))
    noisy = [x * (1 + 0.02 * (-1) ** i) for i, x in enumerate(xs)]

    fit = scaling.fit(ns, noisy)

    assert fit.optimum == pytest.approx(math.sqrt(0.9 / 0.02), rel=0.25)


def test_superlinear_sweep_clamps_to_linear_rather_than_negative_contention():
    fit = scaling.fit([1, 2, 4], [100.0, 210.0, 450.0])

    assert fit.sigma == 0.0 and fit.kappa == 0.0
    assert math.isinf(fit.optimum)


def test_retrograde_from_the_start_puts_the_optimum_at_one_worker():
    fit = scaling.fit([1, 2, 4], [100.0, 60.0, 30.0])

    assert fit.optimum == 1.0
    assert fit.predict(2) < fit.predict(1)


def test_no_fit_without_a_one_worker_base_or_a_second_point():
    assert scaling.fit([2, 4], [10.0, 20.0]) is None
    assert scaling.fit([1], [10.0]) is None


def test_curve_spans_one_to_the_requested_workers():
    fit = scaling.fit(*sweep(0.1, 0.01))

    xs, ys = scaling.curve(fit, 20, steps=5)

    assert xs[0] == 1.0 and xs[-1] == 20.0
    assert ys[0] == pytest.approx(1000.0)
