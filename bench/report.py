"""bench/results.json and bench/results.md: every figure with its spread and its target.

results.json's format history (bump SCHEMA with a line here):
  1: meta (when, host, cores, load before and after, rounds), overhead, monitor_threads,
     efficiency and study sections.
  2: meta carries the machine (harness/machine.py: platform, Python, memory too) and a
     `startup` section: the harness's fixed costs (bench/startup.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import stats
from harness.files import write_json_atomic, write_text_atomic
from harness.render import fmt
from harness.render.markdown import table
from harness.stats import UNSTABLE_REL_STD

SCHEMA = 2

OVERHEAD_HEADERS = ("figure", "workload", "denominator s", "median ratio", "range (rounds)",
                    "wall ratio", "target", "meets")  # fmt: skip
EFFICIENCY_HEADERS = ("scenario", "options", "median ratio", "range (rounds)", "loop items/s",
                      "target", "meets")  # fmt: skip


def _ratio(cell: dict[str, Any] | None) -> tuple[str, str]:
    if not cell or cell.get("median") is None:
        return fmt.MISSING, fmt.MISSING
    s = stats.spread(cell["ratios"])
    if s is None:
        return fmt.number(cell["median"], 3), fmt.MISSING
    low, high = fmt.number(s.minimum, 3), fmt.number(s.maximum, 3)
    return fmt.number(cell["median"], 3), f"{low}-{high} ({s.n}) {fmt.spread(s.rel_std)}"


def _meets(row: dict[str, Any], key: str) -> str:
    """Whether the target is met; (unstable) by the ratios themselves, so results written
    before the flag was stored read the same."""
    text = {True: "yes", False: "**no**", None: "-"}[row.get("meets")]
    s = stats.spread((row.get(key) or {}).get("ratios") or [])
    return text + (" (unstable)" if s is not None and s.unstable else "")


def _overhead_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for row in results["overhead"]:
        if "elapsed_ratio" not in row:
            rows.append([row["figure"], *["-"] * 6, row.get("note", "")])
            continue
        median, spread = _ratio(row["elapsed_ratio"])
        wall, _ = _ratio(row["wall_ratio"])
        rows.append(
            [row["figure"], row["workload"], fmt.number(row["baseline_s"], 3), median, spread,
             wall, row["target"] or "-", _meets(row, "elapsed_ratio")]
        )  # fmt: skip
    return rows


def _efficiency_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for row in results["efficiency"]:
        median, spread = _ratio(row["items_per_s_ratio"])
        rows.append(
            [row["figure"], row["workload"], median, spread,
             fmt.number(row["loop_items_per_s"], 1), row["target"],
             _meets(row, "items_per_s_ratio")]
        )  # fmt: skip
    return rows


STARTUP_HEADERS = ("figure", "median", "range (rounds)", "target", "meets")


def _startup_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for row in rows:
        values = row["values_s"]
        span = f"{fmt.seconds(min(values), 3)}-{fmt.seconds(max(values), 3)} ({len(values)})"
        meets = {True: "yes", False: "**no**", None: "-"}[row["meets"]]
        unstable = " (unstable)" if row["unstable"] else ""
        target = "-" if row["target_s"] is None else f"<= {fmt.seconds(row['target_s'], 1)}"
        out.append([row["figure"], fmt.seconds(row["median_s"], 3), span, target,
                    meets + unstable])  # fmt: skip
    return out


THREADS_HEADERS = ("threads", "monitor CPU, share of a core", "range (rounds)", "target", "meets")


def _threads_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for row in rows:
        s = stats.spread(row["cores"])
        span = (
            fmt.MISSING
            if s is None
            else (f"{fmt.percent(s.minimum, 1)}-{fmt.percent(s.maximum, 1)} ({s.n})")
        )
        target = fmt.MISSING if row["target"] is None else f"<= {fmt.percent(row['target'])}"
        meets = {True: "yes", False: "**no**", None: "-"}[row["meets"]]
        out.append([str(row["threads"]), fmt.percent(row["median"], 1), span, target, meets])
    return out


def _startup_section(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    return [
        "## Start-up (whole processes; a run's fixed cost is paired with a bare run per round)",
        "",
        *table(STARTUP_HEADERS, _startup_rows(rows)),
        "",
    ]


def _when(m: dict[str, Any]) -> str:
    """When, where and how busy: the first line under the title."""
    return (
        f"{m['created_at']} on {m['host']} ({m['cpu_count']} cores, shared), load average "
        f"{m['load_average_before'][0]} before and {m['load_average_after'][0]} after; "
        f"{m['pairs']} interleaved rounds per figure; {fmt.seconds(m['duration_s'], 0)} in all."
    )


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Bench results",
        "",
        _when(results["meta"]),
        "",
        "Each figure is the median of per-round ratios; the range over rounds and their standard "
        "deviation relative to the mean follow it. (unstable): that deviation is "
        f"{fmt.percent(UNSTABLE_REL_STD)} or more (pyperf's rule, as everywhere in pipeprof), "
        "so the median is good to a few percent at best and a target within that is neither met "
        "nor missed.",
        "",
        *_startup_section(results.get("startup") or []),
        "## Overhead (workload's own elapsed time; process wall time beside it)",
        "",
        *table(OVERHEAD_HEADERS, _overhead_rows(results)),
        "",
        "## Workload efficiency (scenario items/s over a minimal loop's)",
        "",
        *table(EFFICIENCY_HEADERS, _efficiency_rows(results)),
    ]
    if results.get("monitor_threads"):
        lines += ["", "## The monitor's own CPU by the program's thread count", ""]
        lines += table(THREADS_HEADERS, _threads_rows(results["monitor_threads"]))
    for row in results["overhead"]:
        if row.get("monitor_cores") is not None:
            lines.append(
                f"\nThe monitor's own CPU ({row['workload']} workload): "
                f"{fmt.percent(row['monitor_cores'], 1)} of one core (median over the rounds)."
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
    write_json_atomic(json_path, results)
    write_text_atomic(md_path, markdown(results))
    return json_path, md_path
