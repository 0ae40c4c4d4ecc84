"""Measured accuracy: run the ground-truth cases (`workloads.calibration`) under the monitor and
each profiler, and hold what the harness finds to what each case is by construction.

A run fails its case when the harness's verdict differs from the expected bound, when a CPU share
known by construction is outside its tolerance, or when peak RSS is outside 10% of the memory the
case holds. Cores used are checked only when the rest of the machine left two cores free, since
neighbours on a shared machine take cores that no measurement can give back. Each tool's own view
(its figure closest to the truth: Tool.calibration_view) is set beside the truth but does not
fail a case: how far a tool is from the truth is what the calibration is there to show.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from harness import targets, tools
from harness.errors import HarnessError
from harness.render import fmt
from harness.runner import RunRequest, execute
from harness.summary import RunSummary
from harness.tools.base import Tool, Truth
from workloads.calibration.cases import CASES, Case

#: Other programs may use this many cores during a run before cores used is not checked.
FREE_CORES_SLACK = 0.3
TIMEOUT_S = 60.0  # a case runs ~3 s; under some profilers a fork pool can hang at exit
#: calibration.json's format (bump with a line here):
#:   1: meta (when, host, cores, load before and after, tools, skipped tools), the cases'
#:      truth, every run with its checks, passed and failed_runs.
#:   2: meta carries the machine (harness/machine.py); runs hold `causes` (the three largest
#:      shares of thread time) and `bound_share`.
SCHEMA = 2


@dataclass
class Check:
    """One figure held to the truth: ok True / False, or None when it could not be judged."""

    name: str
    ok: bool | None
    detail: str


@dataclass
class CaseRun:
    """One case under one tool: what the harness found, beside what the case is."""

    case: str
    tool: str
    run_dir: str
    status: str
    expected_bound: str | None
    bound: str | None
    confidence: str | None
    expected_cpu: float | None
    cpu_share: float | None
    on_cpu: float | None
    cpu_wait: float | None
    cores_used: float | None
    others_cores: float | None
    peak_rss_mb: float | None
    wall_s: float
    tool_view: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    #: The largest causes (shares of thread time) and the verdict's share of its bound.
    causes: dict[str, float] = field(default_factory=dict)
    bound_share: float | None = None

    @property
    def failed(self) -> bool:
        return any(c.ok is False for c in self.checks)

    @property
    def cpu_error(self) -> float | None:
        if self.cpu_share is None or self.expected_cpu is None:
            return None
        return self.cpu_share - self.expected_cpu


@dataclass
class Calibration:
    """What `harness calibrate` found: the runs, and calibration.json's data (to_json)."""

    runs: list[CaseRun]
    data: dict[str, Any]


class OtherLoad:
    """Cores the rest of the machine (neighbours, the monitor, the tool) used during a run."""

    def __init__(self) -> None:
        self._busy0 = _busy_s()
        self._t0 = time.monotonic()

    def cores(self, tree_cpu_s: float) -> float:
        """Busy cores over the window, less the target tree's own CPU seconds."""
        wall = time.monotonic() - self._t0
        if wall <= 0:
            return 0.0
        return max(0.0, (_busy_s() - self._busy0 - tree_cpu_s) / wall)


def _busy_s() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)


def choose_cases(spec: str | None) -> list[Case]:
    """Cases named in a comma-separated `spec` (all when None); HarnessError on unknown names."""
    if not spec:
        return list(CASES.values())
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        raise HarnessError(
            f"--cases: no case {', '.join(unknown)}; the cases are {', '.join(CASES)}"
        )
    return [CASES[n] for n in names]


def choose_tools(names: list[str] | None) -> tuple[list[Tool], list[str]]:
    """The bare monitor first, then the tools asked for (the default tool if none, `all` for
    every profiler); returns the available ones and a note for each one skipped because it
    cannot run here."""
    chosen = [tools.get(tools.BARE), *tools.expand(list(names or []))]
    usable, skipped = [], []
    for tool in dict.fromkeys(chosen):
        problem = tool.problem()
        if problem:
            skipped.append(f"{tool.name}: {problem}")
        else:
            usable.append(tool)
    return usable, skipped


def run_case(case: Case, tool: Tool, out_root: Path, seconds: float | None = None) -> CaseRun:
    """Run one case under one tool through the harness and judge it."""
    target = targets.resolve(str(case.script), [], case.args(seconds))
    load = OtherLoad()
    outcome = execute(RunRequest(target, tool, out_root, TIMEOUT_S, 15.0, {}))
    s = outcome.summary
    others = load.cores((s.cpu.user_s or 0.0) + (s.cpu.sys_s or 0.0))
    return judge(case, s, str(outcome.run_dir), others)


def judge(case: Case, s: RunSummary, run_dir: str, others_cores: float | None) -> CaseRun:
    """Hold one run's summary to its case (pure: no run needed)."""
    verdict = s.verdict or {}
    shares = verdict.get("shares") or {}
    run = CaseRun(
        case=case.name,
        tool=s.tool,
        run_dir=run_dir,
        status=s.status,
        expected_bound=case.bound,
        bound=verdict.get("bound"),
        confidence=verdict.get("confidence"),
        expected_cpu=case.cpu,
        cpu_share=shares.get("cpu"),
        on_cpu=s.split.on_cpu,
        cpu_wait=s.split.cpu_wait,
        cores_used=s.cpu.cores_used,
        others_cores=others_cores,
        peak_rss_mb=s.memory.peak_rss_mb,
        wall_s=s.wall_s,
        tool_view=tool_view(case, s.tool, (s.tool_view or {}).get("metrics") or {}),
        causes=dict(
            sorted(((s.causes or {}).get("shares") or {}).items(), key=lambda kv: -kv[1])[:3]
        ),
        bound_share=shares.get(verdict.get("bound") or ""),
    )
    run.checks = checks(case, run)
    return run


def checks(case: Case, run: CaseRun) -> list[Check]:
    """The figures of `run` held to `case`."""
    found: list[Check] = [
        Check("status", run.status == "ok", f"run ended {run.status}"),
    ]
    if case.bound is not None:
        found.append(
            Check(
                "verdict",
                run.bound == case.bound,
                f"harness says {run.bound}, truth is {case.bound}",
            )
        )
    if case.cpu is not None and case.cpu_tolerance is not None:
        share = run.cpu_share
        ok = share is not None and abs(share - case.cpu) <= case.cpu_tolerance + 1e-9
        found.append(
            Check(
                "cpu",
                ok,
                f"CPU share {fmt.number(share)}, truth {case.cpu:.2f} ± {case.cpu_tolerance:.2f}",
            )
        )
    if case.peak_rss_mb is not None and not _adds_rss(run.tool):
        peak = run.peak_rss_mb
        ok = peak is not None and abs(peak / case.peak_rss_mb - 1) <= case.memory_tolerance
        found.append(
            Check(
                "memory",
                ok,
                f"peak RSS {fmt.mb(peak, 0)}, truth {case.peak_rss_mb:.0f} MB "
                f"± {fmt.percent(case.memory_tolerance)}",
            )
        )
    if case.min_cores is not None:
        found.append(_cores_check(case.min_cores, run))
    return found


def _cores_check(min_cores: float, run: CaseRun) -> Check:
    cpu_count = os.cpu_count() or 1
    others = run.others_cores
    wanted = f"cores used {fmt.number(run.cores_used)}, truth >= {min_cores:g} on free cores"
    if cpu_count < 2:
        return Check("cores", None, f"{wanted}: not judged, this machine has one core")
    if others is None or others > FREE_CORES_SLACK:
        return Check(
            "cores",
            None,
            f"{wanted}: not judged, other programs used {fmt.number(others)} cores meanwhile",
        )
    return Check("cores", (run.cores_used or 0.0) >= min_cores, wanted)


def tool_view(case: Case, tool: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """The tool's own figure closest to the truth, with the truth and the difference."""
    if tool not in tools.REGISTRY:
        return {}
    return tools.get(tool).calibration_view(metrics, Truth(case.cpu, case.peak_rss_mb))


def _adds_rss(tool: str) -> bool:
    """Whether peak RSS under `tool` is more than the case's memory (its heap is shown)."""
    return tool in tools.REGISTRY and tools.get(tool).adds_rss


def default_out_dir(root: Path = Path("profiles")) -> Path:
    return root / f"calibration-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def calibrate(
    cases: list[Case],
    chosen: list[Tool],
    out_dir: Path,
    seconds: float | None = None,
    progress: Callable[[int, int, CaseRun], None] | None = None,
) -> list[CaseRun]:
    """Every case under every tool (`none` first for each case), in case order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = [(case, tool) for case in cases for tool in chosen]
    runs: list[CaseRun] = []
    for n, (case, tool) in enumerate(plan, start=1):
        run = run_case(case, tool, out_dir, seconds)
        runs.append(run)
        if progress:
            progress(n, len(plan), run)
    return runs


def to_json(runs: list[CaseRun], meta: dict[str, Any]) -> dict[str, Any]:
    """calibration.json: the cases' truth, every run with its checks, and whether all passed."""
    names = list(dict.fromkeys(r.case for r in runs))
    return {
        "schema": SCHEMA,
        **meta,
        "passed": not any(r.failed for r in runs),
        "failed_runs": sum(r.failed for r in runs),
        "cases": {n: asdict(CASES[n]) for n in names},
        "runs": [{**asdict(r), "cpu_error": r.cpu_error, "failed": r.failed} for r in runs],
    }
