"""The process sweep beyond the cores (the plan's 5, 10 and 20 processes) and a prediction of
the best process count on machines with more cores.

Past the core count a pool only adds processes competing for the same cores, so the points
there measure oversubscription, not scaling. The prediction therefore fits the scaling curve
(harness.scaling: USL, Amdahl when κ = 0) to the points with N <= cores only, and asks it for
the best N on larger machines: a prediction from the fitted parameters, stated with them.
"""

from __future__ import annotations

from typing import Any

from harness import scaling
from harness.stats import compare
from harness.study.results import PointResult, Study

PREDICT_CORES = (4, 8, 16, 32)


def _median(p: PointResult) -> float:
    return p.throughput["median"] if p.throughput else 0.0


def _processes(study: Study) -> list[PointResult]:
    pts = [p for p in study.group("ingest") if p.params.get("mode") == "processes"]
    return sorted(pts, key=lambda p: p.params.get("workers", 1))


def oversubscription_text(study: Study) -> str:
    """' Oversubscribed: 5 processes 0.93x, ... of the best pool within the cores.'"""
    cores = int(study.meta.get("cores") or 1)
    pts = _processes(study)
    inside = [p for p in pts if p.params.get("workers", 1) <= cores]
    over = [p for p in pts if p.params.get("workers", 1) > cores]
    if not inside or not over:
        return ""
    best = max(inside, key=_median)
    parts = []
    for p in over:
        words = {"same": "within noise", "slower": "slower", "faster": "faster"}
        verdict = words[compare(p.spread, best.spread)]
        parts.append(f"{p.params['workers']}: {_median(p) / _median(best):.2f}x ({verdict})")
    n = best.params["workers"]
    return (
        f" Oversubscribed process pools (more processes than the {cores} cores) against the "
        f"best pool within them ({n} process{'' if n == 1 else 'es'}, "
        f"{_median(best):,.0f} items/s): " + ", ".join(parts) + "."
    )


def predict(study: Study) -> dict[str, Any] | None:
    """Best process count on larger machines, from the curve fitted to N <= cores."""
    cores = int(study.meta.get("cores") or 1)
    inside = [p for p in _processes(study) if p.params.get("workers", 1) <= cores]
    if len(inside) < 2:
        return None
    fitted = scaling.fit([p.params.get("workers", 1) for p in inside], [_median(p) for p in inside])
    if fitted is None:
        return None
    best = {c: scaling.best_within(fitted, c) for c in PREDICT_CORES}
    model = "Amdahl (κ = 0)" if fitted.is_amdahl else "USL"
    listed = ", ".join(f"{c} cores: N={n} at {x:,.0f} items/s" for c, (n, x) in best.items())
    text = (
        f"Prediction for more cores (file ingest with processes; {model} fitted to the "
        f"{fitted.points} points with N <= {cores}: λ={fitted.lam:,.0f} items/s, "
        f"σ={fitted.sigma:.3f}, κ={fitted.kappa:.4f}, X(N) = λN / (1 + σ(N-1) + κN(N-1))): "
        f"{listed}."
    )
    if all(n == 1 for n, _ in best.values()):
        text += (
            " The fit gives no gain from more cores: more processes ran no faster than one "
            f"(σ = {fitted.sigma:.2f} >= 1: the part that stays serial costs at least as much "
            "as the work the processes share)."
            if fitted.sigma >= 1
            else " The fit gives no gain from more cores."
        )
    if fitted.points <= 2:
        text += " With two points the curve passes through both: its shape is assumed, not tested."
    return {
        "text": text,
        "fit": fitted.to_dict(),
        "best": {str(c): {"workers": n, "items_per_s": round(x, 1)} for c, (n, x) in best.items()},
    }
