"""tool_overhead: finding the bare run of the same target and parameters, and the ratios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.files import write_json_atomic
from harness.overhead import find_baseline, overhead
from harness.summary import RunSummary, save


def make_run(
    root: Path,
    name: str,
    *,
    tool: str = "none",
    target: str = "output",
    params: dict[str, Any] | None = None,
    status: str = "ok",
    started_at: str = "2026-01-01T00:00:00+00:00",
    wall_s: float = 2.0,
    items_per_s: float = 1000.0,
    elapsed_s: float = 1.5,
    script: str = "/w/output.py",
) -> Path:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    summary = RunSummary(
        run_id=name,
        target=target,
        kind="scenario",
        tool=tool,
        status=status,
        params=params if params is not None else {"items": 100},
        started_at=started_at,
        wall_s=wall_s,
        throughput={"items_per_s": items_per_s, "elapsed_s": elapsed_s},
    )
    save(summary, run_dir)
    write_json_atomic(run_dir / "manifest.json", {"argv": ["python", script]})
    return run_dir


def test_the_newest_bare_run_with_the_same_target_and_params_is_the_baseline(
    tmp_path: Path,
) -> None:
    make_run(tmp_path, "old", started_at="2026-01-01T00:00:00+00:00")
    newest = make_run(tmp_path, "new", started_at="2026-01-02T00:00:00+00:00")
    make_run(tmp_path, "failed", status="failed", started_at="2026-01-03T00:00:00+00:00")
    make_run(tmp_path, "other-params", params={"items": 200}, started_at="2026-01-04")
    make_run(tmp_path, "other-target", target="ingest_files", started_at="2026-01-05")
    make_run(tmp_path, "profiled", tool="py-spy", started_at="2026-01-06")
    assert find_baseline(tmp_path, "output", {"items": 100}) == newest


def test_no_baseline_without_a_matching_bare_run(tmp_path: Path) -> None:
    make_run(tmp_path, "profiled", tool="py-spy")
    assert find_baseline(tmp_path, "output", {"items": 100}) is None
    assert find_baseline(tmp_path / "missing", "output", {"items": 100}) is None


def test_scripts_of_the_same_name_in_other_directories_are_not_baselines(tmp_path: Path) -> None:
    make_run(tmp_path, "elsewhere", target="job", params={"argv": []}, script="/a/job.py")
    mine = make_run(tmp_path, "mine", target="job", params={"argv": []}, script="/b/job.py")
    assert find_baseline(tmp_path, "job", {"argv": []}, script=Path("/b/job.py")) == mine


def test_ratios_are_tool_over_bare() -> None:
    bare = RunSummary(
        "bare", "output", "scenario", "none", wall_s=2.0,
        throughput={"items_per_s": 1000.0, "elapsed_s": 1.5},
    )  # fmt: skip
    tool = RunSummary(
        "tool", "output", "scenario", "py-spy", wall_s=3.0,
        throughput={"items_per_s": 800.0, "elapsed_s": 1.875},
    )  # fmt: skip
    found = overhead(tool, bare, "runs/bare")
    assert found == {
        "baseline_run": "runs/bare",
        "wall_ratio": 1.5,
        "items_per_s_ratio": 0.8,
        "elapsed_ratio": 1.25,
    }
    assert overhead(tool, RunSummary("b", "output", "scenario", "none"))["wall_ratio"] is None


@pytest.mark.parametrize("missing", [{}, {"items_per_s": None}])
def test_a_missing_figure_gives_no_ratio(missing: dict) -> None:
    bare = RunSummary("b", "t", "script", "none", wall_s=1.0, throughput=missing)
    tool = RunSummary("t", "t", "script", "py-spy", wall_s=1.1, throughput={"items_per_s": 5.0})
    assert overhead(tool, bare)["items_per_s_ratio"] is None
