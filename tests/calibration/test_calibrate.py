"""How `harness calibrate` judges runs (hand-built summaries), and the command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness import calibrate
from harness.calibrate import choose_cases, choose_tools, judge
from harness.commands.calibrate import calibrate_command
from harness.errors import HarnessError
from harness.render.markdown import CalibrationMarkdown
from harness.summary import RunSummary
from workloads.calibration.cases import CASES, Case


def summary(
    bound: str, cpu: float, tool: str = "none", rss: float = 13.0, cores: float = 1.0
) -> RunSummary:
    return RunSummary(
        run_id="r",
        target="t",
        kind="script",
        tool=tool,
        status="ok",
        wall_s=3.0,
        cpu={"cores_used": cores},
        split={"on_cpu": cpu, "cpu_wait": 0.0},
        memory={"peak_rss_mb": rss},
        verdict={"bound": bound, "confidence": "high", "shares": {"cpu": cpu}},
        tool_view={"metrics": {"active_fraction": 1.0, "peak_heap_mb": 600.0}},
    )


def names(checks: list) -> dict[str, bool | None]:
    return {c.name: c.ok for c in checks}


def test_a_right_verdict_and_share_pass() -> None:
    run = judge(CASES["mix_50_50"], summary("mixed", 0.55), "d", 0.0)
    assert not run.failed and names(run.checks)["cpu"] is True
    assert run.cpu_error == pytest.approx(0.05)


def test_a_wrong_verdict_or_a_share_off_by_more_than_the_tolerance_fails() -> None:
    assert judge(CASES["mix_50_50"], summary("cpu", 0.5), "d", 0.0).failed
    run = judge(CASES["mix_50_50"], summary("mixed", 0.62), "d", 0.0)
    assert run.failed and names(run.checks)["cpu"] is False


def test_memory_is_held_to_ten_percent_except_under_tools_that_add_their_own() -> None:
    assert not judge(CASES["memory_peak"], summary("sleep", 0.2, rss=650), "d", 0.0).failed
    assert judge(CASES["memory_peak"], summary("sleep", 0.2, rss=700), "d", 0.0).failed
    run = judge(CASES["memory_peak"], summary("sleep", 0.2, "memray", rss=700), "d", 0.0)
    assert "memory" not in names(run.checks)
    assert run.tool_view["label"] == "peak heap MB" and run.tool_view["error"] == 0.0


def test_cores_are_judged_only_when_the_neighbours_left_them_free() -> None:
    busy = judge(CASES["process_pool"], summary("cpu", 1.0, cores=1.1), "d", 0.9)
    assert names(busy.checks)["cores"] is None and not busy.failed
    idle = judge(CASES["process_pool"], summary("cpu", 1.0, cores=1.1), "d", 0.05)
    assert names(idle.checks)["cores"] is False


def test_py_spy_view_is_its_active_fraction_against_the_truth() -> None:
    # py-spy calls the fsync loop active all the time; its own CPU (user mode) is ~5%.
    run = judge(CASES["fsync_small"], summary("disk", 0.05, "py-spy"), "d", 0.0)
    assert run.tool_view["value"] == 1.0 and run.tool_view["error"] == pytest.approx(0.95)


def test_cases_and_tools_are_chosen_with_none_first() -> None:
    assert [c.name for c in choose_cases("mix_50_50,cpu_loop")] == ["mix_50_50", "cpu_loop"]
    with pytest.raises(HarnessError, match="no case nope"):
        choose_cases("cpu_loop,nope")
    usable, _ = choose_tools(["none"])
    assert [t.name for t in usable] == ["none"]


def test_markdown_has_a_row_per_run_and_names_what_was_wrong() -> None:
    runs = [
        judge(CASES["cpu_loop"], summary("cpu", 0.99), "a", 0.0),
        judge(CASES["slow_http"], summary("sleep", 0.02), "b", 0.0),
    ]
    data = calibrate.to_json(
        runs,
        {
            "created_at": "now",
            "host": "h",
            "cpu_count": 2,
            "load_average_before": [1.0],
            "load_average_after": [1.0],
            "tools": ["none"],
            "skipped_tools": [],
        },
    )
    text = CalibrationMarkdown().render(calibrate.Calibration(runs, data))
    assert "| cpu_loop | cpu, 1.00 | none | cpu 99% | - |" in text
    assert "slow_http under none: harness says sleep, truth is network (b)" in text
    assert data["passed"] is False and data["failed_runs"] == 1


def app() -> typer.Typer:
    cli = typer.Typer()
    cli.command()(calibrate_command)
    return cli


@pytest.mark.slow
def test_calibrate_command_writes_json_and_markdown_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "cal"
    args = ["--cases", "cpu_loop", "--tool", "none", "--seconds", "1", "--out", str(out)]
    result = CliRunner().invoke(app(), args)
    assert result.exit_code == 0, result.output
    assert "[1/1] cpu_loop under none: cpu (truth cpu)" in result.output
    data = json.loads((out / "calibration.json").read_text())
    assert data["passed"] and [r["case"] for r in data["runs"]] == ["cpu_loop"]
    assert "| cpu_loop |" in (out / "calibration.md").read_text()


@pytest.mark.slow
def test_calibrate_command_exits_1_when_the_harness_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = Case("cpu_loop", "a CPU loop said to be disk-bound", "disk")
    monkeypatch.setitem(calibrate.CASES, "cpu_loop", wrong)
    args = ["--cases", "cpu_loop", "--tool", "none", "--seconds", "1", "--out", str(tmp_path)]
    result = CliRunner().invoke(app(), args)
    assert result.exit_code == 1, result.output
    assert "harness says cpu, truth is disk" in result.output
