"""bench/results.json and bench/results.md: every figure with its spread and its target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _ratio(cell: dict[str, Any] | None) -> tuple[str, str]:
    if not cell or cell.get("median") is None:
        return "-", "-"
    ratios = cell["ratios"]
    return f"{cell['median']:.3f}", f"{min(ratios):.3f}-{max(ratios):.3f} ({len(ratios)})"


NOISY = 1.2  # max/min of the per-round ratios beyond which a figure is marked noisy


def _meets(row: dict[str, Any], key: str) -> str:
    text = {True: "yes", False: "**no**", None: "-"}[row.get("meets")]
    ratios = (row.get(key) or {}).get("ratios") or []
    if ratios and min(ratios) > 0 and max(ratios) / min(ratios) > NOISY:
        text += " (noisy)"
    return text


def markdown(results: dict[str, Any]) -> str:
    m = results["meta"]
    lines = [
        "# Bench results",
        "",
        f"{m['created_at']} on {m['host']} ({m['cpu_count']} cores, shared), load average "
        f"{m['load_average_before'][0]} before and {m['load_average_after'][0]} after; "
        f"{m['pairs']} interleaved rounds per figure; {m['duration_s']:.0f} s in all.",
        "",
        "Each figure is the median of per-round ratios; the range over rounds follows it. "
        f"(noisy): the largest round's ratio is over {NOISY:g}x the smallest's, so the median is "
        "good to a few percent at best and a target within that is neither met nor missed.",
        "",
        "## Overhead (workload's own elapsed time; process wall time beside it)",
        "",
        "| figure | workload | denominator s | median ratio | range (rounds) | wall ratio | target "
        "| meets |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results["overhead"]:
        if "elapsed_ratio" not in row:
            lines.append(f"| {row['figure']} | - | - | - | - | - | - | {row.get('note', '')} |")
            continue
        median, spread = _ratio(row["elapsed_ratio"])
        wall, _ = _ratio(row["wall_ratio"])
        lines.append(
            f"| {row['figure']} | {row['workload']} | {row['baseline_s']} | {median} | "
            f"{spread} | {wall} | {row['target'] or '-'} | {_meets(row, 'elapsed_ratio')} |"
        )
    lines += [
        "",
        "## Workload efficiency (scenario items/s over a minimal loop's)",
        "",
        "| scenario | options | median ratio | range (rounds) | loop items/s | target | meets |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["efficiency"]:
        median, spread = _ratio(row["items_per_s_ratio"])
        lines.append(
            f"| {row['figure']} | {row['workload']} | {median} | {spread} | "
            f"{row['loop_items_per_s']} | {row['target']} | {_meets(row, 'items_per_s_ratio')} |"
        )
    for row in results["overhead"]:
        if row.get("monitor_cores") is not None:
            lines.append(
                f"\nThe monitor's own CPU ({row['workload']} workload): "
                f"{100 * row['monitor_cores']:.1f}% of one core (median over the rounds)."
            )
    s = results["study"]
    lines += ["", "## Study", ""]
    if s.get("status") == "ok":
        lines.append(f"`harness study --quick` took {s['seconds']} s.")
    elif s.get("status") == "not run":
        lines.append(f"`harness study --quick` not run: {s['reason']}.")
    else:
        lines.append(f"`harness study --quick`: {s.get('status')} after {s.get('seconds')} s.")
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    json_path, md_path = directory / "results.json", directory / "results.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path
