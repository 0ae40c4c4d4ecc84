"""Run a study: warm-ups, interleaved repeats, profiler runs, then study.json and findings.md.

Every run goes through `harness.runner.execute`, so each one has the run directory, manifest
and summary a single `harness run` would give. Outputs go where harness.study.groups says: a
fresh filesystem per group of runs, or on the default disk fresh directories in one scratch
tree that is deleted only after the last run (deleting thousands of files between runs makes
the next run's file creation several times slower on this machine's journal-less ext4).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
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
from harness.study import findings, hazards, recommend
from harness.study.attribution import attribute_run
from harness.study.groups import GroupUnavailable, Outputs
from harness.study.matrix import FILESYSTEMS, RECOMMENDED_KEY, Matrix, Point, build, reference_fs
from harness.study.questions import answer_all
from harness.study.results import PointResult, RunRecord, Study, aggregate, record, save
from harness.summary import RunSummary
from workloads import filesystems

TIMEOUT_S = {True: 90.0, False: 600.0}


@dataclass
class Step:
    point: Point
    warmup: bool = False
    last: bool = False  # the point's last run: aggregate and print it after this one
    group: str = "warmup"  # runs of one scenario and filesystem in one group share a filesystem


@dataclass
class _State:
    runs: dict[str, list[tuple[RunRecord, RunSummary | None]]] = field(default_factory=dict)
    warmups: list[RunRecord] = field(default_factory=list)
    results: dict[str, PointResult] = field(default_factory=dict)
    interrupted: bool = False
    count: int = 0
    resolved: dict[str, Point] = field(default_factory=dict)  # the recommended point, once chosen
    recommendation: dict | None = None
    cores: int = 1


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
            steps += [Step(p, last=r == repeat - 1, group=f"round-{r}") for p in timed]
        for p in once:
            steps += [Step(p, last=i == p.repeat - 1, group="profile") for i in range(p.repeat)]
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


def _resolve(point: Point, state: _State) -> Point:
    """The point to run: the recommended one is chosen from the results measured so far."""
    if point.key != RECOMMENDED_KEY:
        return point
    if point.key not in state.resolved:
        measured = Study(meta={"cores": state.cores}, points=list(state.results.values()))
        choice = recommend.choose(measured, point.params.get("fs", "disk"))
        if choice is None:
            raise GroupUnavailable("no recommendation: the points it is chosen from failed")
        state.recommendation = choice.to_dict()
        sets = point.sets + tuple(choice.params.items())
        state.resolved[point.key] = replace(point, sets=sets, label=choice.label)
    return state.resolved[point.key]


def _result_json(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / "result.json").read_text())
    except (OSError, ValueError):
        return None


def _run_one(
    step: Step, study_dir: Path, outputs: Outputs, state: _State, quick: bool
) -> RunRecord:
    state.count += 1
    sub = "warmup" if step.warmup else "runs"
    (study_dir / sub).mkdir(exist_ok=True)
    try:
        point = _resolve(step.point, state)
        where = outputs.directory(point.scenario, point.params.get("fs", "disk"), step.group)
    except GroupUnavailable as exc:
        rec = RunRecord(None, "failed", error=str(exc))
        state.runs.setdefault(step.point.key, []).append((rec, None))
        return rec
    sets = [*point.set_strings(), f"out_dir={where}"]
    if point.params.get("fsync", "none") != "none":
        # Its flushes must carry its own writes only, not the dirty pages the runs before it
        # left (on a loop filesystem every flush also writes back the backing file's).
        os.sync()
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
        rec = record(summary, f"{sub}/{outcome.run_dir.name}", _result_json(outcome.run_dir))
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
    steps: list[Step], study_dir: Path, outputs: Outputs, state: _State, quick: bool
) -> _State:
    console = outputs.console
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
                _run_one(step, study_dir, outputs, state, quick)
                progress.advance(task)
                if step.last:
                    point = state.resolved.get(step.point.key, step.point)
                    result = aggregate(point, state.runs.get(step.point.key, []))
                    state.results[step.point.key] = result
                    progress.console.print(_line(result), soft_wrap=True)
                if state.interrupted:
                    break
    except KeyboardInterrupt:
        state.interrupted = True
    if state.interrupted:
        console.print("[yellow]interrupted[/]: writing what was measured so far")
    return state


SETTLE_S = {True: 0.0, False: 60.0}  # the quick study keeps its budget and flags instead


def _probe(scratch: Path, name: str, console: Console, wait_s: float = 0.0) -> float:
    found = hazards.settle(lambda n: hazards.file_creation_us(scratch / f"{name}-{n}"), wait_s)
    if len(found) > 1:
        console.print(f"waited {10 * (len(found) - 1)} s for the disk to settle")
    us = found[-1]
    console.print(f"file creation {name.removeprefix('probe-')}: {hazards.describe(us)}")
    return us


def available_filesystems(console: Console) -> tuple[str, ...]:
    """The filesystems that can be made here; one line for each that cannot."""
    found = []
    for kind in FILESYSTEMS:
        problem = filesystems.unavailable(kind)
        if problem:
            line = f"[yellow]{kind}[/]: cannot be made here ({problem}); the study goes on"
            console.print(line, soft_wrap=True)
        else:
            found.append(kind)
    return tuple(found)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_study(quick: bool, repeat: int | None, out_root: Path, console: Console) -> Path:
    """Run the matrix; returns the study directory (study.json and findings.md inside)."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)  # SIGTERM cleans up as Ctrl-C
    try:
        return _run_study(quick, repeat, out_root, console)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_study(quick: bool, repeat: int | None, out_root: Path, console: Console) -> Path:
    started, t0 = datetime.now(UTC), time.monotonic()
    cores = os.cpu_count() or 1
    kinds = available_filesystems(console)
    matrix = build(quick, cores, kinds)
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
    state = _State(cores=cores)
    outputs = Outputs(scratch, quick, console)
    try:
        probe = {"start": _probe(scratch, "probe-start", console, SETTLE_S[quick])}
        _run_all(steps, study_dir, outputs, state, quick)
        outputs.close(probe=not state.interrupted)
        probe["end"] = _probe(scratch, "probe-end", console)
        output_dirs = sum(1 for p in scratch.iterdir() if not p.name.startswith("probe"))
        console.print(f"removing the {output_dirs} output directories of the disk's runs")
    finally:
        outputs.close(probe=False)
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
        "filesystems": outputs.filesystems,
        "unavailable_filesystems": {
            k: filesystems.unavailable(k) for k in FILESYSTEMS if k not in kinds
        },
        "reference_fs": reference_fs(kinds),
        "recommendation": state.recommendation,
    }
    study.answers = answer_all(study)
    save(study, study_dir)
    findings.write(study, study_dir)
    return study_dir


def _collect(matrix: Matrix, state: _State, study_dir: Path) -> Study:
    study = Study(warmups=state.warmups)
    for point in matrix.points:
        point = state.resolved.get(point.key, point)
        result = state.results.get(point.key)
        if result is None:
            result = aggregate(point, state.runs.get(point.key, []))
            if not result.runs:
                result.status, result.error = "skipped", "not run: the study was interrupted"
        if point.tool == "py-spy" and result.median_run:
            result.samples = attribute_run(study_dir / result.median_run)
        study.points.append(result)
    return study
