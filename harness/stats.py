"""Median and spread of repeated measurements, with pyperf's warning when they vary too much: the
one statistics core of the study, the report's plots, the bench and compare.

The median is what every figure quotes (one slow outlier on a shared machine does not move it);
the standard deviation relative to the mean says whether to trust it: at 10% or more the point
is flagged unstable, as pyperf does. Two points are called different only when their bands do
not overlap and their medians differ by more than `MIN_DIFFERENCE`. The band is the middle half
(quartiles) once there are `QUARTILE_RUNS` values, so one outlier among many does not hide a
real difference; with fewer it is the whole range.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from harness.render import fmt

UNSTABLE_REL_STD = 0.10
MIN_DIFFERENCE = 0.05
QUARTILE_RUNS = 5


@dataclass(frozen=True)
class Spread:
    """Summary of one point's repeated values (items/s, say)."""

    n: int
    median: float
    mean: float
    std: float
    minimum: float
    maximum: float
    q1: float | None = None
    q3: float | None = None

    @property
    def rel_std(self) -> float:
        return self.std / self.mean if self.mean else 0.0

    @property
    def unstable(self) -> bool:
        return self.n > 1 and self.rel_std >= UNSTABLE_REL_STD

    @property
    def band(self) -> tuple[float, float]:
        """The range two points must not share to be called different."""
        if self.n >= QUARTILE_RUNS and self.q1 is not None and self.q3 is not None:
            return self.q1, self.q3
        return self.minimum, self.maximum

    @property
    def median_range(self) -> tuple[float, float, float]:
        """(median, minimum, maximum): what a plot's bar and error bar show."""
        return self.median, self.minimum, self.maximum

    def warning(self) -> str | None:
        """pyperf's advice, or None when the values agree well enough to quote."""
        if not self.unstable:
            return None
        return (
            f"std is {fmt.percent(self.rel_std)} of the mean over {self.n} runs "
            f"({fmt.number(self.minimum, 0)}..{fmt.number(self.maximum, 0)}): "
            "too unsteady to trust"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "rel_std": round(self.rel_std, 4),
            "unstable": self.unstable,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Spread:
        names = ("n", "median", "mean", "std", "minimum", "maximum", "q1", "q3")
        return cls(**{k: data[k] for k in names if k in data})


def spread(values: Iterable[float | None]) -> Spread | None:
    """The Spread of `values` (None values dropped); None if nothing is left."""
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return None
    std = statistics.stdev(kept) if len(kept) > 1 else 0.0
    q1, _, q3 = statistics.quantiles(kept, n=4) if len(kept) > 1 else (kept[0],) * 3
    q1, q3 = max(q1, min(kept)), min(q3, max(kept))
    return Spread(
        len(kept),
        statistics.median(kept),
        statistics.fmean(kept),
        std,
        min(kept),
        max(kept),
        q1,
        q3,
    )


def compare(a: Spread, b: Spread) -> str:
    """'faster', 'slower' or 'same' (within noise) for throughput `a` against `b`."""
    if b.median <= 0:
        return "faster" if a.median > 0 else "same"
    ratio = a.median / b.median
    (a_low, a_high), (b_low, b_high) = a.band, b.band
    if ratio >= 1 + MIN_DIFFERENCE and a_low > b_high:
        return "faster"
    if ratio <= 1 - MIN_DIFFERENCE and a_high < b_low:
        return "slower"
    return "same"


def median(values: Iterable[float | None]) -> float | None:
    """The median of `values` (None values dropped); None if nothing is left."""
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def ratio(num: Any, den: Any) -> float | None:
    """num / den, or None when either is missing or den is zero (no ratio to speak of)."""
    if not fmt.is_number(num) or not fmt.is_number(den) or not den:
        return None
    return num / den
