"""How figures read, wherever they are shown: the terminal, Markdown, CSV-free tables, HTML,
SVG tooltips and messages all format numbers, shares, seconds and sizes through these functions,
so one figure reads the same in every output.

A missing figure reads "-". A float too small to show at the asked precision keeps two
significant digits (0.004 cores, not 0.00), so a small non-zero figure is never shown as zero.
"""

from __future__ import annotations

from typing import Any

MISSING = "-"


def is_number(value: Any) -> bool:
    """An int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(value: Any, digits: int = 2, unit: str = "", *, signed: bool = False) -> str:
    """A figure with thousands separators and `digits` decimals (ints as they are); text and
    other values as given; None or "" as MISSING."""
    if value is None or value == "":
        return MISSING
    sign = "+" if signed else ""
    if isinstance(value, float):
        if 0 < abs(value) < 10**-digits:
            return f"{value:{sign}.2g}{unit}"
        return f"{value:{sign},.{digits}f}{unit}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:{sign},}{unit}"
    return f"{value}{unit}"


def percent(fraction: Any, digits: int = 0, *, signed: bool = False) -> str:
    """A fraction of 1 as a percentage: 0.256 -> '26%'."""
    if not is_number(fraction):
        return MISSING
    return f"{100 * fraction:{'+' if signed else ''}.{digits}f}%"


def points(difference: Any, digits: int = 1) -> str:
    """A difference of two fractions in percentage points: 0.031 -> '+3.1 pp'."""
    if not is_number(difference):
        return MISSING
    return f"{100 * difference:+.{digits}f} pp"


def seconds(value: Any, digits: int = 2) -> str:
    return number(value, digits, " s")


def duration(value: Any) -> str:
    """A short time in the unit that suits it, three significant figures: 8.31e-05 -> '83.1 us',
    0.00113 -> '1.13 ms', 2.5 -> '2.50 s'."""
    if not is_number(value):
        return MISSING
    scale, unit = next(
        ((f, u) for f, u in ((1e-6, "us"), (1e-3, "ms")) if abs(value) < f * 1000), (1.0, "s")
    )
    scaled = value / scale
    return f"{scaled:,.{2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0}f} {unit}"


def mb(value: Any, digits: int = 1) -> str:
    return number(value, digits, " MB")


def ratio(value: Any, digits: int = 2) -> str:
    """A ratio of two figures: 1.234 -> '1.23x'."""
    if not is_number(value):
        return MISSING
    return f"{value:.{digits}f}x"


def compact(value: float) -> str:
    """A rate for a plot's label, in thousands past 1,000: '950', '1.2k', '35k'."""
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value / 1000:.1f}k" if value >= 1_000 else f"{value:,.0f}"


def significant(value: Any) -> str:
    """A figure of unknown scale in a table: one decimal from 100 up, else three significant
    digits (0.0123, 4.56, 78.9, 1234.5)."""
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return number(value)


def spread(rel_std: Any, unstable: bool = False) -> str:
    """A relative standard deviation as '±7%', marked when the figure is unstable."""
    if not is_number(rel_std):
        return MISSING
    return f"±{100 * rel_std:.0f}%" + (" ⚠" if unstable else "")
