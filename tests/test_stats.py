"""Median and spread of repeats, pyperf's unsteadiness warning, and noise-aware comparison."""

from __future__ import annotations

import pytest

from harness.stats import Spread, compare, median, ratio, spread


def test_spread_of_steady_values_has_no_warning():
    s = spread([100.0, 102.0, 98.0])

    assert s.n == 3 and s.median == 100.0 and s.minimum == 98.0 and s.maximum == 102.0
    assert s.rel_std == pytest.approx(0.02)
    assert not s.unstable and s.warning() is None


def test_std_of_ten_percent_of_the_mean_is_flagged():
    s = spread([80.0, 100.0, 120.0])

    assert s.rel_std == pytest.approx(0.2)
    assert s.unstable
    assert "20% of the mean over 3 runs" in s.warning()


def test_one_value_is_never_unstable_and_none_values_are_dropped():
    s = spread([None, 50.0])

    assert s.n == 1 and s.std == 0.0 and not s.unstable
    assert spread([]) is None and spread([None]) is None


def test_spread_round_trips_through_a_dict():
    s = spread([1.0, 2.0, 4.0])

    assert Spread.from_dict(s.to_dict()) == s
    assert s.to_dict()["unstable"] is True


def test_compare_needs_separate_ranges_and_a_real_difference():
    fast = spread([200.0, 210.0, 205.0])
    slow = spread([100.0, 104.0, 98.0])
    overlapping = spread([150.0, 260.0, 205.0])

    assert compare(fast, slow) == "faster"
    assert compare(slow, fast) == "slower"
    assert compare(overlapping, fast) == "same"
    assert compare(spread([100.0, 100.5]), spread([97.0, 98.0])) == "same"  # under 5% apart


def test_with_many_runs_one_outlier_does_not_hide_a_real_difference():
    fast = spread([200.0, 205.0, 210.0, 198.0, 202.0, 207.0, 90.0])  # one slow outlier
    slow = spread([100.0, 104.0, 98.0, 101.0, 99.0, 103.0, 102.0])

    assert fast.band[0] > slow.band[1]
    assert compare(fast, slow) == "faster"
    assert compare(fast, slow) != compare(spread([200.0, 205.0, 90.0]), spread([100.0, 104.0]))


def test_quartiles_stay_inside_the_values():
    s = spread([10.0, 20.0])

    assert 10.0 <= s.q1 <= s.q3 <= 20.0
    assert s.band == (10.0, 20.0)  # too few runs for quartiles


def test_median_and_ratio_leave_out_what_is_missing():
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([None]) is None
    assert ratio(3, 2) == 1.5
    assert ratio(1.0, 0) is None and ratio(None, 2.0) is None and ratio(True, 1) is None


def test_median_range_is_what_a_bar_with_error_bars_shows():
    assert spread([5.0, 1.0, 3.0]).median_range == (3.0, 1.0, 5.0)
