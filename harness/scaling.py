"""Scaling curves fitted to a worker sweep: Gunther's Universal Scalability Law and Amdahl.

X(N) = λN / (1 + σ(N−1) + κN(N−1)): σ is the share of the work that serialises (contention),
κ the cost of keeping workers coherent (crosstalk); κ = 0 is Amdahl's law. With λ taken as the
measured X(1), the model is linear in σ and κ:

    N / (X(N)/X(1)) − 1 = σ(N−1) + κN(N−1)

so a least-squares fit needs no optimiser. σ and κ are kept non-negative (a negative κ would
promise throughput that grows faster than linearly forever). With κ > 0 and σ < 1 throughput
peaks at N* = sqrt((1−σ)/κ); with κ = 0 it rises towards the ceiling λ/σ and has no peak.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Fit:
    """A fitted curve: λ (items/s of one worker), σ, κ, and how well it matches the points."""

    lam: float
    sigma: float
    kappa: float
    points: int
    rmse_rel: float  # root-mean-square error of predicted throughput, relative to measured

    @property
    def is_amdahl(self) -> bool:
        return self.kappa == 0.0

    @property
    def optimum(self) -> float:
        """N* where throughput peaks (at least 1); math.inf when the curve never turns down."""
        if self.sigma >= 1.0:
            return 1.0
        if self.kappa <= 0.0:
            return math.inf
        return max(1.0, math.sqrt((1.0 - self.sigma) / self.kappa))

    @property
    def ceiling(self) -> float:
        """The highest throughput the curve reaches (at N*, or the Amdahl limit λ/σ)."""
        n = self.optimum
        if math.isinf(n):
            return math.inf if self.sigma <= 0 else self.lam / self.sigma
        return self.predict(n)

    def predict(self, n: float) -> float:
        return usl(n, self.lam, self.sigma, self.kappa)

    def to_dict(self) -> dict[str, Any]:
        optimum = self.optimum
        return {
            **asdict(self),
            "model": "amdahl" if self.is_amdahl else "usl",
            "optimum": None if math.isinf(optimum) else round(optimum, 3),
        }


def usl(n: float, lam: float, sigma: float, kappa: float) -> float:
    """Throughput of N workers under the Universal Scalability Law."""
    return lam * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))


def fit(workers: list[float], throughput: list[float], amdahl: bool = False) -> Fit | None:
    """Fit σ and κ (κ = 0 when `amdahl`) to a sweep that includes N = 1; None if it cannot."""
    pairs = sorted(
        (float(n), float(x))
        for n, x in zip(workers, throughput, strict=True)
        if n >= 1 and x is not None and x > 0
    )
    base = [x for n, x in pairs if n == 1.0]
    if not base or len({n for n, _ in pairs if n > 1}) < 1:
        return None
    lam = float(np.median(base))
    n = np.array([p[0] for p in pairs if p[0] > 1])
    x = np.array([p[1] for p in pairs if p[0] > 1])
    y = n / (x / lam) - 1.0
    columns = {"sigma": n - 1.0, "kappa": n * (n - 1.0)}
    if amdahl or len(set(n.tolist())) < 2:
        candidates = [("sigma",)]
    else:
        candidates = [("sigma",), ("kappa",), ("sigma", "kappa")]
    best: tuple[float, dict[str, float]] | None = None
    for names in candidates:
        a = np.column_stack([columns[k] for k in names])
        coef = np.linalg.lstsq(a, y, rcond=None)[0]
        if np.any(coef < 0):
            continue
        residual = float(np.sum((a @ coef - y) ** 2))
        # A richer model must fit clearly better, so exact Amdahl data keeps κ = 0.
        if best is None or residual < best[0] * (1 - 1e-6) - 1e-12:
            best = (residual, dict(zip(names, coef.tolist(), strict=True)))
    params = best[1] if best else {}
    sigma, kappa = params.get("sigma", 0.0), params.get("kappa", 0.0)
    all_n = np.array([p[0] for p in pairs])
    all_x = np.array([p[1] for p in pairs])
    predicted = lam * all_n / (1.0 + sigma * (all_n - 1.0) + kappa * all_n * (all_n - 1.0))
    rmse = float(np.sqrt(np.mean(((predicted - all_x) / all_x) ** 2)))
    return Fit(lam, sigma, kappa, len(pairs), rmse)


def curve(fitted: Fit, up_to: float, steps: int = 200) -> tuple[list[float], list[float]]:
    """Points of the fitted curve from N = 1 to `up_to`, for plotting."""
    ns = np.linspace(1.0, max(up_to, 1.0), steps)
    return ns.tolist(), [fitted.predict(float(v)) for v in ns]


def best_within(fitted: Fit, cores: int) -> tuple[int, float]:
    """The worker count (1..cores) the curve puts highest, and its throughput."""
    return max(((n, fitted.predict(n)) for n in range(1, max(1, cores) + 1)), key=lambda r: r[1])
