"""The report's filesystem plots: output items/s by layout x fsync x filesystem, and the storage
model's predictions against the measurements (both from the newest study's answers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from harness.render import fmt
from harness.report.plots import FSYNC_COLOURS, SERIES_COLOURS, _save, _style

LAYOUTS = ("individual", "individual nested", "collection", "batched")
POLICIES = (("none", ("none",)), ("each / batch", ("each", "batch")), ("end", ("end",)))
FS_ORDER = ("disk", "tmpfs", "ext4", "xfs", "btrfs")
MARKERS = {"individual": "o", "individual nested": "s", "collection": "^", "batched": "D"}


def _cell(cells: dict[str, Any], layout: str, names: tuple[str, ...]) -> dict[str, Any] | None:
    return next((cells[f"{layout}|{n}"] for n in names if f"{layout}|{n}" in cells), None)


def fs_layout_plot(table: dict[str, dict[str, Any]], out_dir: Path) -> str | None:
    """One panel per filesystem: median items/s per layout, a bar per fsync policy, min..max."""
    if not table:
        return None
    fss = [fs for fs in FS_ORDER if fs in table] + [fs for fs in table if fs not in FS_ORDER]
    keys = {k for cells in table.values() for k in cells}
    layouts = [name for name in LAYOUTS if any(k.startswith(name + "|") for k in keys)]
    fig = Figure(figsize=(3.3 * len(fss) + 0.6, 4.4))
    axes = fig.subplots(1, len(fss), sharey=True, squeeze=False)[0]
    width = 0.26
    for ax, fs in zip(axes, fss, strict=True):
        for j, ((policy, names), colour) in enumerate(zip(POLICIES, FSYNC_COLOURS, strict=True)):
            xs, med, lo, hi = [], [], [], []
            for i, layout in enumerate(layouts):
                c = _cell(table[fs], layout, names)
                if c:
                    xs.append(i + (j - 1) * width)
                    med.append(c["median"])
                    lo.append(c["median"] - c["minimum"])
                    hi.append(c["maximum"] - c["median"])
            if xs:
                ax.bar(xs, med, width, color=colour, label=f"fsync {policy}")
                ax.errorbar(xs, med, yerr=[lo, hi], fmt="none", ecolor="#333", capsize=2, lw=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.compact(v)))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(range(len(layouts)), [n.replace(" ", "\n") for n in layouts], fontsize=8)
        ax.set_title(fs, fontsize=11)
    axes[0].set_ylabel("items/s (log scale)")
    axes[0].legend(fontsize=7, frameon=False)
    fig.suptitle(
        "Output throughput by layout, fsync policy and filesystem (median, min..max of repeats)",
        fontsize=12,
    )
    _style(fig)
    return _save(fig, out_dir, "filesystems")


def model_plot(rows: list[dict[str, Any]], tolerance: float, out_dir: Path) -> str | None:
    """Predicted against measured items/s, one marker per synced point, the ±tolerance band."""
    if not rows:
        return None
    fig = Figure(figsize=(6.4, 5.6))
    ax = fig.add_subplot()
    values = [v for r in rows for v in (r["measured"], r["predicted"])]
    low, high = min(values) / 1.6, max(values) * 1.6
    line = [low, high]
    ax.plot(line, line, color="#555", linewidth=1, label="predicted = measured")
    ax.fill_between(
        line,
        [v * (1 - tolerance) for v in line],
        [v * (1 + tolerance) for v in line],
        color="#d9dee4",
        alpha=0.6,
        label=f"±{100 * tolerance:.0f}%",
    )
    fss = [fs for fs in FS_ORDER if any(r["fs"] == fs for r in rows)]
    fss += sorted({r["fs"] for r in rows} - set(fss))
    for colour, fs in zip(SERIES_COLOURS * 2, fss, strict=False):
        for r in (r for r in rows if r["fs"] == fs):
            s = r["spread"]
            ax.errorbar(
                r["measured"],
                r["predicted"],
                xerr=[[r["measured"] - s["minimum"]], [s["maximum"] - r["measured"]]],
                fmt=MARKERS.get(r["layout"], "o"),
                color=colour,
                capsize=2,
                label=fs if r is next(x for x in rows if x["fs"] == fs) else None,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda v, _: fmt.compact(v)))
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("measured items/s (median, min..max)")
    ax.set_ylabel("predicted: 1 / (c + f x L)")
    ax.set_title("Storage model: predicted vs measured (synced output points)", fontsize=11)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    _style(fig)
    return _save(fig, out_dir, "storage-model")
