"""The study loop with a stand-in for the runner: failures are recorded and the study goes on;
an interruption still leaves study.json and findings.md; points aggregate their repeats."""

from __future__ import annotations

import io
import itertools

import pytest
from rich.console import Console

from harness import rundir
from harness.runner import RunOutcome
from harness.study import execute as study_execute
from harness.study.matrix import FILESYSTEMS
from harness.study.results import FINDINGS_NAME, load
from harness.summary import RunSummary, save

RATES = {"output": 5_000.0, "ingest_files": 30_000.0, "ingest_api": 500.0, "pipeline": 8_000.0}


class FakeRunner:
    """Writes a summary the way the runner would; API runs fail, the Nth call can be Ctrl-C."""

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.calls = itertools.count(1)
        self.interrupt_at = interrupt_at

    def __call__(self, request, progress=None) -> RunOutcome:
        n = next(self.calls)
        if n == self.interrupt_at:
            raise KeyboardInterrupt
        target = request.target
        run_dir = rundir.create(request.out_root, target.name, request.tool.name)
        ok = target.name != "ingest_api"
        summary = RunSummary(
            run_id=run_dir.name, target=target.name, kind="scenario", tool=request.tool.name,
            status="ok" if ok else "failed", params=dict(target.params),
            throughput={"items_per_s": RATES[target.name] * (1 + 0.01 * (n % 3))} if ok else {},
            stages={"ingest": {"wall_s": 0.3, "share": 0.3}, "output": {"wall_s": 0.7,
                    "share": 0.7}} if target.name == "pipeline" else {},
            split={"on_cpu": 0.9, "other": 0.1}, verdict={"bound": "cpu"},
            io={"read_mb": 0.0, "read_chars_mb": 5.0},
            error=None if ok else {"message": "the target exited with code 1: boom"},
        )  # fmt: skip
        save(summary, run_dir)
        return RunOutcome(run_dir, summary)


@pytest.fixture
def console():
    return Console(file=io.StringIO(), width=120)


def test_failed_points_are_recorded_and_the_study_goes_on(tmp_path, monkeypatch, console):
    monkeypatch.setattr(study_execute, "execute", FakeRunner())

    study_dir = study_execute.run_study(True, 2, tmp_path, console)

    study = load(study_dir)
    api = [p for p in study.points if p.scenario == "ingest_api"]
    assert api and all(p.status == "failed" and "boom" in p.error for p in api)
    others = [p for p in study.points if p.scenario != "ingest_api"]
    assert all(p.status == "ok" and len(p.runs) == (2 if p.tool == "none" else 1) for p in others)
    pipeline = study.point("pipeline/sequential")
    assert pipeline.stages["output"]["share"] == 0.7
    assert pipeline.throughput["n"] == 2 and pipeline.cache == {"warm": 2}
    text = (study_dir / FINDINGS_NAME).read_text()
    failed = text.split("## Failed points")[1].split("## All points")[0]
    assert "- sequential (failed)" in failed
    assert "boom" in failed
    assert "Output is the bottleneck" in text
    printed = console.file.getvalue()
    assert "FAILED ingest_api: sequential: the target exited with code 1: boom" in printed
    made = tuple(k for k in FILESYSTEMS if k not in study.meta["unavailable_filesystems"])
    assert study.meta["runs"] == len(study_execute.plan(study_execute.build(True, 2, made), 2))


def test_an_interrupted_study_still_writes_what_it_measured(tmp_path, monkeypatch, console):
    monkeypatch.setattr(study_execute, "execute", FakeRunner(interrupt_at=30))

    study_dir = study_execute.run_study(True, 2, tmp_path, console)

    study = load(study_dir)
    assert study.meta["interrupted"] is True and study.meta["runs"] == 30
    statuses = {p.status for p in study.points}
    assert "ok" in statuses and "skipped" in statuses
    assert (study_dir / FINDINGS_NAME).is_file()
    assert "not run: the study was interrupted" in (study_dir / FINDINGS_NAME).read_text()


@pytest.mark.slow  # a minute: every output group makes its filesystem
def test_the_full_study_adds_the_plans_processes_and_a_recommendation(
    tmp_path, monkeypatch, console
):
    monkeypatch.setenv("PIPEPROF_FS_ROOT", str(tmp_path / "fs"))
    monkeypatch.setattr(study_execute, "execute", FakeRunner())

    study = load(study_execute.run_study(False, 1, tmp_path / "profiles", console))

    keys = {p.key for p in study.points if p.ok}
    assert {f"ingest_files/processes-{n}" for n in (1, 2, 3, 4, 5, 10, 20)} <= keys
    made = [fs for fs in FILESYSTEMS if fs not in study.meta["unavailable_filesystems"]]
    for fs in made:
        assert f"output/{fs}/individual-nested/fsync-end" in keys
    chosen = study.meta["recommendation"]
    assert chosen["params"]["checkpoint_every"] == 1000
    recommended = study.point("pipeline/recommended")
    assert recommended.params["fs"] == study.meta["reference_fs"]
    assert recommended.params["output_layout"] == chosen["params"]["output_layout"]
    assert recommended.label.startswith("recommended: ")
    text = (
        (study.meta and (tmp_path / "profiles").glob("study-*/findings.md")).__next__().read_text()
    )
    assert text.split("\n## ")[-1].startswith("Recommendation")
