"""Interleaved runs and median ratios: the measuring discipline every section shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness import stats
from harness.stats import Spread


@dataclass
class Sample:
    """One run of one arm: the workload's own clock, the process wall time, its throughput."""

    elapsed_s: float | None
    wall_s: float
    items_per_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


Arm = Callable[[], Sample]
Progress = Callable[[str], None]


def interleave(
    arms: dict[str, Arm], pairs: int, warmup: bool = False, progress: Progress | None = None
) -> dict[str, list[Sample]]:
    """Run every arm once per round for `pairs` rounds (after one unrecorded warm-up round if
    asked), so drift between rounds falls on both sides of each ratio. The order rotates from
    round to round (A B, B A, A B ...; A B C, B C A, C A B ...): a run that leaves the machine
    slower for the next one (page cache, directory blocks) does not always hit the same arm."""
    if warmup:
        for arm in arms.values():
            arm()
    names = list(arms)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for n in range(pairs):
        shift = n % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(arms[name]())
        if progress:
            progress(f"round {n + 1}/{pairs}")
    return samples


@dataclass
class Ratio:
    """The per-round ratios num/den of one figure; the median is the figure quoted, and it is
    unstable when the ratios' std is 10% of their mean or more (harness.stats, pyperf's rule)."""

    ratios: list[float]

    @property
    def spread(self) -> Spread | None:
        return stats.spread(self.ratios)

    @property
    def median(self) -> float | None:
        return stats.median(self.ratios)

    def to_dict(self) -> dict[str, Any]:
        found = self.spread
        return {
            "median": None if found is None else round(found.median, 4),
            "ratios": [round(r, 4) for r in self.ratios],
            "rel_std": None if found is None else round(found.rel_std, 4),
            "unstable": found is not None and found.unstable,
        }


def ratio(num: list[Sample], den: list[Sample], figure: str) -> Ratio:
    """num.figure / den.figure per round (rounds missing either figure skipped)."""
    found = []
    for a, b in zip(num, den, strict=True):
        r = stats.ratio(getattr(a, figure), getattr(b, figure))
        if r is not None:
            found.append(r)
    return Ratio(found)
