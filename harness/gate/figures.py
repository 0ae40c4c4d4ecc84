"""The figures a CI gate judges, read from one run's summary.json.

Exact counters first: CPU seconds per item (the monitor's schedstat-backed user and system
time over the workload's own item count, or per run when it reports none), peak RSS, and the
shares of thread time by cause family (`causes.families` when the summary has them, else
`verdict.shares`). items/s is wall-clock time and the noisiest figure on a shared machine
(six bare runs of one program gave 4,600 to 17,400 items/s here), so it is judged only on
request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.summary import SUMMARY_NAME

#: The family that is the program's own work; a CPU change shows in CPU per item instead.
WORK_FAMILY = "cpu"


@dataclass(frozen=True)
class Figure:
    """One judged figure: how to name it, its unit and which way is worse."""

    key: str
    label: str
    unit: str  # "s" (per item), "MB", "items/s", "share"
    higher_is_worse: bool = True


CPU = Figure("cpu", "CPU per item", "s")
USER = Figure("user", "user CPU per item", "s")
SYS = Figure("sys", "system CPU per item", "s")
RSS = Figure("rss", "peak RSS", "MB")
THROUGHPUT = Figure("items_per_s", "items/s", "items/s", higher_is_worse=False)


def share_figure(family: str) -> Figure:
    return Figure(f"share:{family}", f"{family} share", "share")


@dataclass
class RunFigures:
    """The figures of one run, with what it was."""

    run_dir: Path
    status: str
    key: tuple[str, ...]  # target, kind, tool, params: runs with the same key are repeats
    label: str
    per_item: bool  # False: the run reported no items, so CPU is per run
    values: dict[str, float]


def read(run_dir: Path) -> RunFigures:
    """The figures of `run_dir`; ValueError if its summary cannot be read."""
    path = run_dir / SUMMARY_NAME
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is unreadable: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return from_summary(run_dir, data)


def from_summary(run_dir: Path, data: dict[str, Any]) -> RunFigures:
    cpu = _dict(data.get("cpu"))
    throughput = _dict(data.get("throughput"))
    items = throughput.get("items")
    per_item = isinstance(items, int | float) and items > 0
    divisor = float(items) if per_item else 1.0
    values: dict[str, float] = {}
    user, system = cpu.get("user_s"), cpu.get("sys_s")
    if _number(user) and _number(system):
        values[CPU.key] = (user + system) / divisor
        values[USER.key] = user / divisor
        values[SYS.key] = system / divisor
    rss = _dict(data.get("memory")).get("peak_rss_mb")
    if _number(rss):
        values[RSS.key] = float(rss)
    if _number(throughput.get("items_per_s")):
        values[THROUGHPUT.key] = float(throughput["items_per_s"])
    for family, share in shares(data).items():
        values[share_figure(family).key] = share
    params = json.dumps(data.get("params") or {}, sort_keys=True, default=str)
    key = (str(data.get("target")), str(data.get("kind")), str(data.get("tool")), params)
    label = f"{data.get('target')} under {data.get('tool')}"
    return RunFigures(run_dir, str(data.get("status")), key, label, per_item, values)


def shares(data: dict[str, Any]) -> dict[str, float]:
    """Share of thread time by cause family, except the program's own CPU work."""
    causes = _dict(data.get("causes"))
    found = _dict(causes.get("families")) or _dict(_dict(data.get("verdict")).get("shares"))
    return {k: float(v) for k, v in found.items() if k != WORK_FAMILY and _number(v)}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
