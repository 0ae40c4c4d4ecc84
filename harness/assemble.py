"""Fill a RunSummary from what a run produced: monitor report, tool result, workload result."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import psutil

from harness import callsites
from harness.files import write_text_atomic
from harness.sections import SPLIT_KEYS, Cpu, Gil, Io, Memory, Split, Throughput
from harness.summary import RunSummary
from harness.tools.base import Tool, ToolResult
from harness.verdict import decide
from harness.verdict.evidence import callsite_line
from harness.verdict.families import family_of

RESULT_NAME = "result.json"
CAUSE_FLAMEGRAPH = "flamegraph-causes.svg"
MB = 2**20


def workload_result(run_dir: Path, stdout_path: Path) -> dict[str, Any] | None:
    """The workload's own result: its --result file, else a JSON last line of its stdout."""
    try:
        return json.loads((run_dir / RESULT_NAME).read_text())
    except (OSError, ValueError):
        pass
    try:
        with open(stdout_path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 65536))
            lines = f.read().decode(errors="replace").strip().splitlines()
        last = json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None
    return last if isinstance(last, dict) and "items_per_s" in last else None


def _throughput(result: dict[str, Any] | None) -> Throughput:
    if not result:
        return Throughput()
    return Throughput(
        items=result.get("items_in"),
        items_out=result.get("items_out"),
        items_quarantined=result.get("items_quarantined"),
        items_per_s=result.get("items_per_s"),
        elapsed_s=result.get("elapsed_s"),
        status=result.get("status"),
        source="workload",
    )


def _stages(result: dict[str, Any] | None) -> dict[str, Any]:
    if not result or not result.get("stages"):
        return {}
    stages = {k: v for k, v in result["stages"].items() if v.get("wall_s", 0) > 0}
    total = sum(v["wall_s"] for v in stages.values()) or 1.0
    return {k: {**v, "share": round(v["wall_s"] / total, 4)} for k, v in stages.items()}


def with_native(causes: dict[str, Any], native_share: float | None) -> dict[str, Any]:
    """`causes` with the user-mode CPU split into python and native where a profiler told
    them apart (`native_share`: of user-mode CPU, the share in C code)."""
    if not causes or not native_share:
        return causes
    out = {**causes, "seconds": dict(causes["seconds"]), "shares": dict(causes["shares"])}
    for key in ("seconds", "shares"):
        python = out[key].get("python", 0.0)
        out[key]["native"] = round(python * native_share, 4)
        out[key]["python"] = round(python - out[key]["native"], 4)
    return out


def fill(
    summary: RunSummary,
    monitor: dict[str, Any],
    tool: ToolResult,
    result: dict[str, Any] | None,
    profiler: Tool | None = None,
    source_roots: list[Path] | None = None,
    run_dir: Path | None = None,
) -> RunSummary:
    """Complete `summary` in place (and return it) from the run's three sources; `profiler`
    is the tool that ran, for its own evidence lines; `source_roots` where the target's
    source files may be found (for reading a sampled line, see callsites.py); the
    cause-coloured flame graph is written into `run_dir` when one is given."""
    cpu_count = os.cpu_count() or 1
    summary.cpu = Cpu.of({**(monitor.get("cpu") or {}), "cpu_count": cpu_count})
    split = monitor.get("split") or {}
    summary.split = Split(**{k: round(float(split.get(k, 0.0)), 4) for k in SPLIT_KEYS})
    summary.gil = Gil(
        held_fraction=tool.metrics.get("gil_held_fraction"),
        waiting_fraction=round(split.get("lock_wait", 0.0), 4) if split else None,
        source=(
            f"{profiler.name} (held), " if profiler and "gil_held_fraction" in tool.metrics else ""
        )
        + "monitor futex waits (waiting)",
    )
    mem = monitor.get("memory") or {}
    monitored, reported = mem.get("peak_rss_mb"), (result or {}).get("peak_rss_mb")
    # The monitor reads each process's exact high-water mark every ~0.1 s; a peak in a
    # process's last moments is seen only by the workload itself (its VmHWM at exit).
    peak = max((x for x in (monitored, reported) if x is not None), default=None)
    summary.memory = Memory(
        peak_rss_mb=round(peak, 1) if peak is not None else None,
        peak_rss_source="workload"
        if peak is not None and peak == reported and peak != monitored
        else "monitor",
        monitor_peak_rss_mb=round(monitored, 1) if monitored is not None else None,
        workload_peak_rss_mb=reported,
        peak_heap_mb=tool.metrics.get("peak_heap_mb"),
    )
    io = monitor.get("io") or {}
    summary.io = Io(
        read_mb=round(io.get("read_bytes", 0) / MB, 3),
        write_mb=round(io.get("write_bytes", 0) / MB, 3),
        read_chars_mb=round(io.get("read_chars", 0) / MB, 3),
        write_chars_mb=round(io.get("write_chars", 0) / MB, 3),
    )
    summary.throughput = _throughput(result)
    summary.stages = _stages(result)
    summary.artifacts.update(tool.artifacts)
    summary.tool_view = {"metrics": tool.metrics, "top": tool.top}
    summary.problems.extend(tool.problems)
    monitor = {
        **monitor,
        "causes": with_native(monitor.get("causes") or {}, tool.metrics.get("native_share")),
    }
    summary.monitor = {
        k: v
        for k, v in monitor.items()
        if k not in ("split", "cpu", "memory", "io", "causes", "thread_causes")
    }
    total_ram = psutil.virtual_memory().total / MB
    tool_lines = profiler.evidence(tool, split) if profiler else []
    verdict = decide(monitor, tool_lines, cpu_count, total_ram)
    summary.verdict = verdict.to_dict()
    if monitor["causes"]:
        summary.causes = {**monitor["causes"], "families": verdict.shares}
        if tool.stacks and monitor.get("thread_causes"):
            _join_call_sites(summary, monitor, tool, source_roots or [], run_dir)
    return summary


def _join_call_sites(
    summary: RunSummary,
    monitor: dict[str, Any],
    tool: ToolResult,
    roots: list[Path],
    run_dir: Path | None,
) -> None:
    """The profiler's call sites with their wall time split by cause, the top one of the
    bound's family named in the evidence, and the cause-coloured flame graph."""
    joined = callsites.join(tool.stacks or {}, monitor["thread_causes"], callsites.resolver(roots))
    causes = summary.causes

    def family(cause: str) -> str:
        return "queued" if cause == "queued" else family_of(cause, causes)

    summary.callsites = callsites.summary_rows(joined, family)
    bound = summary.verdict.get("bound", "")
    line = callsite_line(bound, summary.callsites, family)
    if line:  # after the line that says what the bound is made of
        evidence = summary.verdict["evidence"]
        at = next((i + 1 for i, e in enumerate(evidence) if e.startswith(f"{bound}: ")), 1)
        evidence.insert(at, line)
    if run_dir is not None and joined.stacks:
        from harness.render.causeflame import CauseFlameGraph

        svg = CauseFlameGraph(
            f"wall time by cause: {run_dir.name}",
            f"threads joined with the monitor's causes: {joined.threads_joined}; widths: wall "
            "time, waits included; colour: where most of a frame's time went",
        ).render(callsites.by_family(joined, family))
        write_text_atomic(run_dir / CAUSE_FLAMEGRAPH, svg)
        summary.artifacts["flamegraph_causes"] = CAUSE_FLAMEGRAPH
