"""How figures read: one set of rules for every output."""

from __future__ import annotations

from harness.render import fmt


def test_numbers_have_separators_and_never_show_a_small_figure_as_zero() -> None:
    assert fmt.number(12345.678) == "12,345.68"
    assert fmt.number(12345) == "12,345"
    assert fmt.number(0.004) == "0.004"
    assert fmt.number(0.0) == "0.00"
    assert fmt.number(0.00123, 3) == "0.001"
    assert fmt.number(0.00023, 3) == "0.00023"
    assert fmt.number(-0.02, signed=True) == "-0.02"
    assert fmt.number(0.5, 1, " s", signed=True) == "+0.5 s"
    assert fmt.number(None) == fmt.number("") == "-"
    assert fmt.number(True) == "True" and fmt.number("disk") == "disk"


def test_shares_points_ratios_and_units() -> None:
    assert fmt.percent(0.256) == "26%"
    assert fmt.percent(0.256, 1) == "25.6%"
    assert fmt.percent(0.031, signed=True) == "+3%"
    assert fmt.percent(None) == "-"
    assert fmt.points(-0.3) == "-30.0 pp"
    assert fmt.ratio(2.5) == "2.50x" and fmt.ratio(None) == "-"
    assert fmt.seconds(1.5) == "1.50 s" and fmt.mb(44.94) == "44.9 MB"
    assert fmt.spread(0.07) == "±7%" and fmt.spread(0.2, unstable=True) == "±20% ⚠"


def test_compact_and_significant_figures() -> None:
    assert [fmt.compact(x) for x in (950, 1234, 35_000)] == ["950", "1.2k", "35k"]
    assert [fmt.significant(x) for x in (0.012345, 4.567, 1234.56)] == ["0.0123", "4.57", "1234.6"]
    assert fmt.significant(7) == "7"
