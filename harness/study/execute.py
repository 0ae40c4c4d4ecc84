"""Run a study: warm-ups, interleaved repeats, profiler runs, then study.json and findings.md.

Every run goes through `harness.runner.execute`, so each one has the run directory, manifest
and summary a single `harness run` would give. Outputs go to fresh directories in one scratch
tree that is deleted only after the last run: deleting thousands of files between runs makes
the next run's file creation several times slower on this machine's journal-less ext4.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from harness import targets, tools
from harness.render import fmt
from harness.runner import RunRequest, execute
from harness.study import findings, hazards
from harness.study.attribution import attribute_run
from harness.study.matrix import Matrix, Point, build
from harness.study.questions import answer_all
from harness.study.results import PointResult, RunRecord, Study, aggregate, record, save
from harness.summary import RunSummary

TIMEOUT_S = {True: 90.0, False: 600.0}


@dataclass
class Step:
    point: Point
    warmup: bool = False
    last: bool = False  # the point's last run: aggregate and print it after this one


@dataclass
class _State:
    runs: dict[str, list[tuple[RunRecord, RunSummary | None]]] = field(default_factory=dict)
    warmups: list[RunRecord] = field(default_factory=list)
    results: dict[str, PointResult] = field(default_factory=dict)
    interrupted: bool = False
    count: int = 0


def plan(matrix: Matrix, repeat: int) -> list[Step]:
    """Per scenario: a warm-up, `repeat` rounds over its timed points, then its profiler runs."""
    steps: list[Step] = []
    for _, points in matrix.by_scenario():
        timed = [p for p in points if p.repeat is None]
        once = [p for p in points if p.repeat is not None]
        if not points:
            continue
        steps.append(Step(timed[0] if timed else once[0], warmup=True))
        for r in range(repeat):
            steps += [Step(p, last=r == repeat - 1) for p in timed]
        for p in once:
            steps += [Step(p, last=i == p.repeat - 1) for i in range(p.repeat)]
    return steps


def study_dir_for(root: Path, now: datetime) -> Path:
    base = root / f"study-{now.strftime('%Y%m%dT%H%M%SZ')}"
    for n in range(1, 1000):
        path = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(base)


def _run_one(step: Step, study_dir: Path, scratch: Path, state: _State, quick: bool) -> RunRecord:
    point = step.point
    state.count += 1
    sub = "warmup" if step.warmup else "runs"
    (study_dir / sub).mkdir(exist_ok=True)
    sets = [*point.set_strings(), f"out_dir={scratch / str(state.count)}"]
    if point.params.get("fsync") == "end":
        os.sync()  # its syncfs must flush its own writes, not those of the runs before it
    try:
        target = targets.resolve(point.scenario, sets, [])
        request = RunRequest(
            target,
            tools.get("none" if step.warmup else point.tool),
            study_dir / sub,
            timeout_s=TIMEOUT_S[quick],
            options=dict(point.options),
        )
        outcome = execute(request)
    except Exception as exc:  # a point that cannot run is recorded; the study goes on
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        rec, summary = RunRecord(None, "failed", error=message), None
    else:
        summary = outcome.summary
        rec = record(summary, f"{sub}/{outcome.run_dir.name}")
        state.interrupted |= summary.status == "interrupted"
    if step.warmup:
        state.warmups.append(rec)
    else:
        state.runs.setdefault(point.key, []).append((rec, summary))
    return rec


def _line(result: PointResult) -> str:
    name = escape(f"{result.scenario}: {result.label}")
    if result.throughput is None:
        return f"[red]FAILED[/] {name}: {escape(result.error or 'no result')}"
    s = result.throughput
    warn = " [yellow]unsteady[/]" if s["unstable"] else ""
    return (
        f"{name:<46.46} {fmt.number(s['median'], 0):>8}/s {fmt.spread(s['rel_std']):>5} "
        f"{result.verdict.get('bound', '-')}{warn}"
    )


def _run_all(
    steps: list[Step], study_dir: Path, scratch: Path, quick: bool, console: Console
) -> _State:
    state = _State()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("study", total=len(steps))
            for step in steps:
                what = "warm-up" if step.warmup else step.point.tool
                progress.update(task, description=f"{step.point.key} ({what})")
                _run_one(step, study_dir, scratch, state, quick)
                progress.advance(task)
                if step.last:
                    result = aggregate(step.point, state.runs.get(step.point.key, []))
                    state.results[step.point.key] = result
                    progress.console.print(_line(result), soft_wrap=True)
                if state.interrupted:
                    break
    except KeyboardInterrupt:
        state.interrupted = True
    if state.interrupted:
        console.print("[yellow]interrupted[/]: writing what was measured so far")
    return state


def _probe(scratch: Path, name: str, console: Console) -> float:
    us = hazards.file_creation_us(scratch / name)
    console.print(f"file creation {name.removeprefix('probe-')}: {hazards.describe(us)}")
    return us


def run_study(quick: bool, repeat: int | None, out_root: Path, console: Console) -> Path:
    """Run the matrix; returns the study directory (study.json and findings.md inside)."""
    started, t0 = datetime.now(UTC), time.monotonic()
    cores = os.cpu_count() or 1
    matrix = build(quick, cores)
    repeat = repeat or matrix.sizes.repeat
    steps = plan(matrix, repeat)
    study_dir = study_dir_for(out_root, started)
    console.print(
        f"[bold]study[/] {'quick' if quick else 'full'}: {len(matrix.points)} points, "
        f"{len(steps)} runs, {repeat} per point -> {study_dir}",
        soft_wrap=True,
    )
    load_start = os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="pipeprof-study-out-"))
    try:
        probe = {"start": _probe(scratch, "probe-start", console)}
        state = _run_all(steps, study_dir, scratch, quick, console)
        probe["end"] = _probe(scratch, "probe-end", console)
        output_dirs = sum(1 for p in scratch.iterdir() if not p.name.startswith("probe"))
        console.print(f"removing the {output_dirs} output directories of the runs")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    study = _collect(matrix, state, study_dir)
    study.meta = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - t0, 1),
        "quick": quick,
        "repeat": repeat,
        "cores": cores,
        "host": platform.node(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "sizes": asdict(matrix.sizes),
        "runs": state.count,
        "output_dirs": output_dirs,
        "file_creation_us": probe,
        "interrupted": state.interrupted,
    }
    study.answers = answer_all(study)
    save(study, study_dir)
    findings.write(study, study_dir)
    return study_dir


def _collect(matrix: Matrix, state: _State, study_dir: Path) -> Study:
    study = Study(warmups=state.warmups)
    for point in matrix.points:
        result = state.results.get(point.key)
        if result is None:
            result = aggregate(point, state.runs.get(point.key, []))
            if not result.runs:
                result.status, result.error = "skipped", "not run: the study was interrupted"
        if point.tool == "py-spy" and result.median_run:
            result.samples = attribute_run(study_dir / result.median_run)
        study.points.append(result)
    return study
