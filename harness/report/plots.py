"""The report's plots, drawn with matplotlib (Agg) to SVG files beside index.html.

Text is drawn as paths (matplotlib's default for SVG), so the plots need no fonts and look the
same from file:// on any machine.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, ScalarFormatter

from harness import scaling
from harness.render import fmt
from harness.render.palette import SPLIT_COLOURS
from harness.report.datasets import FSYNC, LAYOUTS, STAGE_ORDER, Series

STAGE_COLOURS = {
    "ingest": "#2e86ab",
    "transform": "#f3a712",
    "output": "#e4572e",
    "checkpoint": "#8f2d56",
}
SERIES_COLOURS = ("#2e86ab", "#e4572e", "#29bf9b", "#8f2d56", "#f3a712")
FSYNC_COLOURS = ("#2e86ab", "#e4572e", "#f3a712")


@dataclass
class Plot:
    name: str
    title: str
    file: str  # relative to the report's directory
    caption: str


def _style(fig: Figure) -> None:
    for ax in fig.axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="both", color="#e6e9ed", linewidth=0.8)
        ax.set_axisbelow(True)


def _save(fig: Figure, out_dir: Path, name: str) -> str:
    """Write `name`.svg atomically; returns its file name."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    path = out_dir / f"{name}.svg"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out_dir)
    with os.fdopen(fd, "w") as f:
        f.write(buffer.getvalue())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path.name


def scaling_plot(series: list[Series], cores: int, out_dir: Path) -> str | None:
    if not series:
        return None
    panels = [p for p in ("files", "api") if any(s.panel == p for s in series)]
    fig = Figure(figsize=(4.6 * len(panels), 4.6))
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        chosen = [s for s in series if s.panel == panel]
        top = max(p[0] for s in chosen for p in s.points)
        for colour, s in zip(SERIES_COLOURS, chosen, strict=False):
            ns = [p[0] for p in s.points]
            med = [p[1] for p in s.points]
            err = [[p[1] - p[2] for p in s.points], [p[3] - p[1] for p in s.points]]
            label = s.label.split(", ", 1)[-1]
            if s.fit:
                fitted = scaling.Fit(
                    s.fit["lam"], s.fit["sigma"], s.fit["kappa"], s.fit["points"], 0.0
                )
                xs, ys = scaling.curve(fitted, top * 1.15)
                star = fitted.optimum
                label += f" (N*={star:.1f})" if not math.isinf(star) else " (no peak)"
                ax.plot(xs, ys, "--", color=colour, linewidth=1.2)
            ax.errorbar(ns, med, yerr=err, fmt="o", color=colour, capsize=3, label=label)
        if panel == "files":
            ax.axvline(cores, color="#555", linestyle=":", linewidth=1)
            ax.annotate(
                f"{cores} cores",
                (cores, 0),
                xytext=(4, 6),
                textcoords="offset points",
                xycoords=("data", "axes fraction"),
                fontsize=8,
                color="#555",
            )
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_ylim(bottom=0)
        ax.set_xlabel("workers (log scale)")
        ax.set_ylabel("items/s")
        ax.set_title("File ingestion" if panel == "files" else "API ingestion", fontsize=11)
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Throughput vs workers, with fitted scaling curves (USL / Amdahl)", fontsize=12)
    _style(fig)
    return _save(fig, out_dir, "scaling")


def mode_plot(
    bars: list[tuple[str, float, float, float]], baseline: float, out_dir: Path
) -> str | None:
    if not bars:
        return None
    fig = Figure(figsize=(7.5, 4.4))
    ax = fig.add_subplot()
    xs = list(range(len(bars)))
    colours = [SERIES_COLOURS[i % len(SERIES_COLOURS)] for i in xs]
    medians = [b[1] for b in bars]
    ax.bar(xs, medians, 0.6, color=colours)
    ax.errorbar(
        xs,
        medians,
        yerr=[[b[1] - b[2] for b in bars], [b[3] - b[1] for b in bars]],
        fmt="none",
        ecolor="#333",
        capsize=3,
        lw=0.8,
    )
    for x, b in zip(xs, bars, strict=True):
        ax.text(x, b[3], fmt.compact(b[1]), ha="center", va="bottom", fontsize=8)
    ax.axhline(baseline, color="#555", linestyle="--", linewidth=1)
    ax.annotate(
        f"plan's baseline {fmt.number(baseline, 0)}/s",
        (0, baseline),
        xytext=(2, 4),
        textcoords="offset points",
        xycoords=("axes fraction", "data"),
        fontsize=8,
        color="#555",
    )
    ax.set_xticks(xs, [b[0] for b in bars], fontsize=8)
    ax.set_ylabel("items/s")
    ax.set_ylim(bottom=0)
    ax.set_title("File ingestion: each mode at its best worker count", fontsize=12)
    _style(fig)
    return _save(fig, out_dir, "modes")


def stage_plot(bars: list[tuple[str, dict[str, float]]], out_dir: Path) -> str | None:
    if not bars:
        return None
    fig = Figure(figsize=(9, 0.5 * len(bars) + 1.6))
    ax = fig.add_subplot()
    labels = [b[0] for b in bars]
    left = [0.0] * len(bars)
    for stage in STAGE_ORDER:
        widths = [100 * b[1].get(stage, 0.0) for b in bars]
        if not any(widths):
            continue
        ax.barh(labels, widths, left=left, color=STAGE_COLOURS[stage], label=stage, height=0.6)
        for y, (x0, w) in enumerate(zip(left, widths, strict=True)):
            if w >= 8:
                ax.text(
                    x0 + w / 2,
                    y,
                    fmt.percent(w / 100),
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                )
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of stage wall time (%)")
    ax.set_title("Pipeline stage breakdown (measured inside the workload)", fontsize=12)
    ax.legend(ncols=4, fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    _style(fig)
    return _save(fig, out_dir, "stages")


def split_plot(
    bars: list[tuple[str, dict[str, float], int]],
    out_dir: Path,
    colours: dict[str, tuple[str, str]] = SPLIT_COLOURS,
    name: str = "split",
    title: str = "Where the time went: CPU, disk, network, lock, sleep (runs per bar)",
) -> str | None:
    if not bars:
        return None
    fig = Figure(figsize=(12, 0.26 * len(bars) + 1.6))
    ax = fig.add_subplot()
    labels = [(b[0] if len(b[0]) <= 72 else b[0][:70] + "..") + f" ({b[2]})" for b in bars]
    left = [0.0] * len(bars)
    for key, (label, colour) in colours.items():
        widths = [100 * b[1].get(key, 0.0) for b in bars]
        if any(widths):
            ax.barh(labels, widths, left=left, color=colour, label=label, height=0.7)
            left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("share of thread time (%)")
    ax.set_title(title, fontsize=12, pad=24)
    ax.legend(ncols=4, fontsize=8, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.02))
    _style(fig)
    return _save(fig, out_dir, name)


def layout_plot(data: dict[tuple[str, str], tuple[float, ...]], out_dir: Path) -> str | None:
    if not data:
        return None
    layouts = [name for name in LAYOUTS if any(k[0] == name for k in data)]
    fig = Figure(figsize=(9, 4.6))
    ax = fig.add_subplot()
    width = 0.26
    for j, (fsync, colour) in enumerate(zip(FSYNC, FSYNC_COLOURS, strict=True)):
        xs, med, lo, hi, tops = [], [], [], [], []
        for i, layout in enumerate(layouts):
            if (layout, fsync) in data:
                m, mn, mx = data[(layout, fsync)][:3]
                xs.append(i + (j - 1) * width)
                med.append(m)
                lo.append(m - mn)
                hi.append(mx - m)
                tops.append(mx)
        if xs:
            ax.bar(xs, med, width, color=colour, label=f"fsync {fsync}")
            ax.errorbar(xs, med, yerr=[lo, hi], fmt="none", ecolor="#333", capsize=2, lw=0.8)
            for x, m, top in zip(xs, med, tops, strict=True):
                ax.text(x, top * 1.05, fmt.compact(m), ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.compact(v)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(range(len(layouts)), layouts)
    ax.set_ylabel("items/s (log scale)")
    ax.set_title("Output throughput by layout and fsync policy (median, min..max)", fontsize=12)
    ax.legend(fontsize=8, frameon=False)
    _style(fig)
    return _save(fig, out_dir, "layouts")
