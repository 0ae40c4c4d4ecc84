"""The bench's ratios and results.md: medians over rounds, and unstable ratios flagged by the same
rule as the study's points (harness.stats)."""

from __future__ import annotations

import pytest

from bench import report
from bench.pairs import Sample, ratio


def rounds(*elapsed: float | None) -> list[Sample]:
    return [Sample(elapsed_s=e, wall_s=1.0) for e in elapsed]


def test_ratio_is_the_median_of_per_round_ratios_skipping_rounds_without_the_figure() -> None:
    found = ratio(rounds(2.0, 3.0, None, 4.0), rounds(1.0, 1.0, 1.0, 0.0), "elapsed_s")

    assert found.ratios == [2.0, 3.0]
    assert found.median == pytest.approx(2.5)
    assert found.to_dict()["unstable"] is True  # 2 and 3: std 28% of the mean


def results(steady: list[float], swinging: list[float]) -> dict:
    def row(figure: str, ratios: list[float]) -> dict:
        cell = {"median": sorted(ratios)[len(ratios) // 2], "ratios": ratios}
        return {"figure": figure, "workload": "cpu", "baseline_s": 1.0, "elapsed_ratio": cell,
                "wall_ratio": cell, "target": "<= 1.02", "meets": True}  # fmt: skip

    meta = {"created_at": "now", "host": "h", "cpu_count": 2, "load_average_before": [1.0]}
    meta |= {"load_average_after": [1.0], "pairs": 5, "duration_s": 10.0}
    overhead = [row("steady", steady), row("swinging", swinging)]
    return {
        "meta": meta,
        "overhead": overhead,
        "efficiency": [],
        "study": {"status": "ok", "seconds": 1},
    }


def test_results_flag_a_ratio_whose_rounds_swing_and_not_a_steady_one() -> None:
    text = report.markdown(results([1.0, 1.01, 0.99, 1.0, 1.02], [0.8, 1.0, 1.3, 0.9, 1.1]))

    steady = next(line for line in text.splitlines() if line.startswith("| steady"))
    swinging = next(line for line in text.splitlines() if line.startswith("| swinging"))
    assert steady.endswith("| yes |") and "±1%" in steady
    assert swinging.endswith("| yes (unstable) |") and "0.800-1.300 (5) ±19%" in swinging
