"""Terminal output: the short table after a run, `show`, and `list`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness.summary import SPLIT_KEYS, RunSummary

OPENABLE = (
    "flamegraph",
    "memray_flamegraph",
    "scalene_html",
    "speedscope",
    "trace",
    "flamegraph_html",
)


def fmt(value: Any, unit: str = "", digits: int = 2) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value}{unit}"


def split_line(split: dict[str, float]) -> str:
    parts = [
        f"{k.replace('_wait', '').replace('_', '-')} {100 * split.get(k, 0):.0f}%"
        for k in SPLIT_KEYS
        if split.get(k, 0) >= 0.005
    ]
    return ", ".join(parts) or "-"


def summary_rows(s: RunSummary) -> list[tuple[str, str]]:
    t, m, g = s.throughput, s.memory, s.gil
    rows = [
        ("status", s.status + (f" (exit {s.exit_code})" if s.exit_code not in (0, None) else "")),
        ("target / tool", f"{s.target} / {s.tool}"),
        ("wall", fmt(s.wall_s, " s")),
        (
            "items/s",
            fmt(t.get("items_per_s"), digits=1)
            + (
                f"  ({fmt(t.get('items'))} items in {fmt(t.get('elapsed_s'), ' s')})"
                if t.get("items")
                else ""
            ),
        ),
        ("split", split_line(s.split)),
        ("cores used", fmt((s.cpu or {}).get("cores_used")) + f" of {s.cpu.get('cpu_count', '?')}"),
        (
            "GIL",
            f"held {fmt(g.get('held_fraction'))}, lock-wait share {fmt(g.get('waiting_fraction'))}",
        ),
        (
            "peak memory",
            f"RSS {fmt(m.get('peak_rss_mb'), ' MB', 1)}"
            + (
                f", heap {fmt(m.get('peak_heap_mb'), ' MB', 1)}"
                if m.get("peak_heap_mb") is not None
                else ""
            ),
        ),
    ]
    shown = {k: v for k, v in s.stages.items() if v.get("share", 0) >= 0.005}
    if shown:
        rows.append(("stages", ", ".join(f"{k} {100 * v['share']:.0f}%" for k, v in shown.items())))
    if s.tool_overhead:
        o = s.tool_overhead
        rows.append(
            (
                "tool overhead",
                f"elapsed x{fmt(o.get('elapsed_ratio'))}, items/s "
                f"x{fmt(o.get('items_per_s_ratio'))} vs bare run {o.get('baseline_run')} "
                "(one pair, so machine noise included: make bench takes medians)",
            )
        )
    v = s.verdict or {}
    rows.append(("verdict", f"{v.get('bound', '-')} ({v.get('confidence', '-')} confidence)"))
    return rows


def print_summary(console: Console, s: RunSummary, run_dir: Path) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan")
    table.add_column()
    for key, value in summary_rows(s):
        table.add_row(key, value)
    console.print(table)
    for line in (s.verdict or {}).get("evidence", []):
        console.print(f"  - {line}")
    if (s.verdict or {}).get("advice"):
        console.print(f"  [bold]fix:[/] {s.verdict['advice']}")
    for problem in s.problems:
        console.print(f"  [yellow]note:[/] {problem}")
    if s.error:
        console.print(f"  [red]error:[/] {s.error.get('message')}")
    console.print(f"run directory: {run_dir}")
    for name in OPENABLE:
        if name in s.artifacts:
            console.print(f"  open {name}: {(run_dir / s.artifacts[name]).resolve()}")
