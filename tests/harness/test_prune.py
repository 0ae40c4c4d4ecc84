"""prune's rules on hand-made run directories (real summary files, no processes): the rules add
up, references keep runs, a reference inside a removed run goes with it, a held lock keeps a run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness import prune, rundir
from harness.commands.compare import default_html_path
from harness.compare import compare_runs, write_record
from harness.errors import HarnessError
from harness.study.results import PointResult, RunRecord, Study, save
from harness.summary import RunSummary
from harness.summary import save as save_summary

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def make_run(parent: Path, days_ago: float, name: str = "job", size: int = 0) -> Path:
    started = NOW - timedelta(days=days_ago)
    run_dir = parent / f"{started:%Y%m%dT%H%M%SZ}-{name}-none"
    run_dir.mkdir(parents=True)
    summary = RunSummary(run_dir.name, name, "script", "none", status="ok")
    summary.started_at = started.isoformat(timespec="seconds")
    save_summary(summary, run_dir)
    if size:
        (run_dir / "blob").write_bytes(b"x" * size)
    return run_dir


def names(runs: list[prune.Run]) -> list[str]:
    return [r.path.name for r in runs]


@pytest.mark.parametrize(
    "text, seconds", [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("2w", 1209600)]
)
def test_ages(text, seconds):
    assert prune.parse_age(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text, size", [("5GB", 5 * 2**30), ("500M", 500 * 2**20), ("1.5GiB", 3 * 2**29), ("10", 10)]
)
def test_sizes(text, size):
    assert prune.parse_size(text) == size


@pytest.mark.parametrize("bad", ["", "d", "30", "-1d", "1e9w", "30 days"])
def test_bad_age_is_one_clear_error(bad):
    with pytest.raises(HarnessError, match="--older-than"):
        prune.parse_age(bad)


@pytest.mark.parametrize("bad", ["", "GB", "-5GB", "5XB", "9" * 30])
def test_bad_size_is_one_clear_error(bad):
    with pytest.raises(HarnessError, match="--max-size"):
        prune.parse_size(bad)


def test_the_rules_add_up_oldest_first(tmp_path):
    runs = [make_run(tmp_path, d, f"job{d}", size=100_000) for d in (40, 35, 20, 10, 5, 1)]
    keep = prune.plan(tmp_path, keep=4, now=NOW)
    assert names(keep.remove) == [r.name for r in runs[:2]]
    older = prune.plan(tmp_path, older_than=timedelta(days=15), now=NOW)
    assert names(older.remove) == [r.name for r in runs[:3]]
    both = prune.plan(tmp_path, keep=5, older_than=timedelta(days=30), now=NOW)
    assert names(both.remove) == [r.name for r in runs[:2]]
    per_run = prune.disk_usage(runs[0])
    fit = prune.plan(tmp_path, max_size=prune.disk_usage(tmp_path) - 2 * per_run, now=NOW)
    assert names(fit.remove) == [r.name for r in runs[:2]]
    assert prune.plan(tmp_path, keep=6, now=NOW).remove == []


def test_a_study_keeps_its_runs_unless_asked(tmp_path):
    old = [make_run(tmp_path, d, f"job{d}") for d in (50, 40)]
    study_dir = tmp_path / "study-20261001T000000Z"
    in_study = [make_run(study_dir / "runs", d, f"point{d}") for d in (60, 59)]
    point = PointResult("k", "output", "layout", "k", {}, "none")
    point.runs = [RunRecord(f"runs/{d.name}", "ok") for d in in_study]
    save(Study(points=[point]), study_dir)
    chosen = prune.plan(tmp_path, keep=0, now=NOW)
    assert names(chosen.remove) == [r.name for r in old]
    assert {r.path for r in chosen.kept_referenced} == set(in_study)
    everything = prune.plan(tmp_path, keep=0, include_referenced=True, now=NOW)
    assert len(everything.remove) == 4


def test_a_study_without_study_json_keeps_every_run_under_it(tmp_path):
    study_dir = tmp_path / "study-20261001T000000Z"
    make_run(study_dir / "runs", 60, "point")
    assert prune.plan(tmp_path, keep=0, now=NOW).remove == []


def test_an_unreadable_study_json_is_a_warning_and_keeps_its_runs(tmp_path):
    study_dir = tmp_path / "study-20261001T000000Z"
    make_run(study_dir / "runs", 60, "point")
    (study_dir / "study.json").write_text('{"schema": 1, "points": [')
    chosen = prune.plan(tmp_path, keep=0, now=NOW)
    assert chosen.remove == []
    assert any("study.json" in w for w in chosen.warnings)


def test_a_compare_keeps_its_runs_while_its_page_stays(tmp_path):
    a, b, c = (make_run(tmp_path, d, f"job{d}") for d in (30, 20, 10))
    comparison = compare_runs(a, b)
    write_record(comparison, default_html_path(comparison))  # the record lives inside b
    kept_b = prune.plan(tmp_path, keep=1, now=NOW)
    # b is removed (beyond the newest), so the page inside it no longer holds a
    assert names(kept_b.remove) == [a.name, b.name]
    elsewhere = tmp_path / "pages" / "ab.html"
    elsewhere.parent.mkdir()
    write_record(comparison, elsewhere)
    assert prune.plan(tmp_path, keep=1, now=NOW).remove == []
    assert c.exists()


def test_a_held_lock_keeps_a_run_and_a_released_one_does_not(tmp_path):
    old, new = make_run(tmp_path, 30, "old"), make_run(tmp_path, 1, "new")
    with rundir.in_progress(old):
        chosen = prune.plan(tmp_path, keep=0, now=NOW)
        assert names(chosen.remove) == [new.name]
        assert names(chosen.in_progress) == [old.name]
        # even a plan made before the run took its lock never removes it
        stale = prune.Run(old, NOW, 0, in_progress=False)
        removed, warnings = prune.remove([stale])
        assert removed == [] and old.exists() and "running" in warnings[0]
    assert not (old / rundir.LOCK_NAME).exists()
    assert names(prune.plan(tmp_path, keep=0, now=NOW).remove) == [old.name, new.name]
