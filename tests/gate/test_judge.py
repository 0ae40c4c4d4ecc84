"""The gate's rule on hand-made figures: past the limit AND outside the noise."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.gate.figures import RunFigures, from_summary
from harness.gate.judge import Limits, judge
from harness.gate.outcome import Outcome
from harness.render.gate import GateLines, GateMarkdown


def runs(cpu_us: list[float], disk: float = 0.0, rss: float = 50.0) -> list[RunFigures]:
    """Runs with CPU per item given in microseconds."""
    found = []
    for i, us in enumerate(cpu_us):
        v = us * 1e-6
        values = {"cpu": v, "user": v * 0.9, "sys": v * 0.1, "rss": rss, "share:disk": disk}
        found.append(RunFigures(Path(f"run-{i}"), "ok", ("job",), "job under none", True, values))
    return found


def failed(judgements) -> list[str]:
    return [j.figure.label for j in judgements if j.failed]


def test_same_program_with_noise_passes() -> None:
    base = runs([80, 81, 83, 89, 96])
    head = runs([82, 83, 88, 93, 97])  # medians +6%, past 5%, but inside the baseline's range
    found = judge(base, head, Limits())
    cpu = next(j for j in found if j.figure.key == "cpu")
    assert cpu.change > 0.05 and not cpu.failed and cpu.why == "past the limit, within the noise"
    assert failed(found) == []


def test_twenty_percent_more_cpu_fails_on_cpu_per_item() -> None:
    found = judge(runs([80, 81, 83, 89, 96]), runs([95, 97, 98, 99, 118]), Limits())
    assert failed(found) == ["CPU per item", "user CPU per item"]


def test_user_and_system_are_judged_against_the_whole_cpu() -> None:
    base = [RunFigures(Path("b"), "ok", ("j",), "j", True, {"cpu": 100, "user": 98, "sys": 2})]
    head = [RunFigures(Path("h"), "ok", ("j",), "j", True, {"cpu": 102, "user": 98, "sys": 4})]
    found = judge(base, head, Limits())
    assert failed(found) == []  # system time doubled, but it is 2% of the whole
    sys_ = next(j for j in found if j.figure.key == "sys")
    assert sys_.change == pytest.approx(0.02)


def test_a_risen_disk_share_fails_even_without_more_cpu() -> None:
    found = judge(runs([80, 81, 83], disk=0.1), runs([80, 82, 83], disk=0.4), Limits())
    assert failed(found) == ["disk share"]
    disk = next(j for j in found if j.figure.label == "disk share")
    assert disk.change == pytest.approx(0.3)


def test_peak_rss_and_single_runs() -> None:
    found = judge(runs([80], rss=100), runs([80], rss=115), Limits())
    rss = next(j for j in found if j.figure.key == "rss")
    assert rss.failed and rss.why == "single run: judged on the limit"


def test_items_per_s_is_judged_only_when_asked() -> None:
    base = [RunFigures(Path(f"b{i}"), "ok", ("j",), "j", True, {"items_per_s": v})
            for i, v in enumerate([1000, 1100, 1050])]  # fmt: skip
    head = [RunFigures(Path(f"h{i}"), "ok", ("j",), "j", True, {"items_per_s": v})
            for i, v in enumerate([500, 520, 540])]  # fmt: skip
    (shown,) = judge(base, head, Limits())
    assert not shown.failed and shown.limit is None
    (judged,) = judge(base, head, Limits(throughput=0.2))
    assert judged.failed and judged.change == pytest.approx(520 / 1050 - 1)


def test_causes_families_come_before_verdict_shares() -> None:
    summary = {
        "target": "job", "kind": "command", "tool": "none", "status": "ok", "params": {},
        "cpu": {"user_s": 0.9, "sys_s": 0.1}, "throughput": {"items": 100},
        "memory": {"peak_rss_mb": 30.0},
        "verdict": {"shares": {"cpu": 0.9, "disk": 0.1}},
        "causes": {"families": {"cpu": 0.5, "disk": 0.2, "filesystem": 0.3}},
    }  # fmt: skip
    figures = from_summary(Path("r"), summary)
    assert figures.values["cpu"] == pytest.approx(0.01)
    assert figures.values["share:disk"] == 0.2 and figures.values["share:filesystem"] == 0.3
    del summary["causes"]
    assert from_summary(Path("r"), summary).values["share:disk"] == 0.1


def test_lines_name_each_failed_figure_and_markdown_has_every_figure() -> None:
    found = judge(runs([80, 81, 83], disk=0.1), runs([96, 97, 99], disk=0.45), Limits())
    outcome = Outcome("job under none", 3, 3, found)
    text = GateLines().render([outcome]).splitlines()
    assert text[0].startswith("CPU per item 81.0 us -> 97.0 us (+19.8%, limit +5%;")
    assert text[-1] == "FAIL: 1 of 1 target(s) regressed"
    assert any(line.startswith("disk share 10.0% -> 45.0% (+35.0 pp") for line in text)
    table = GateMarkdown().render([outcome])
    assert table.startswith("### pipeprof check: FAIL")
    assert (
        "| peak RSS | 50.0 MB [50.0-50.0 MB] | 50.0 MB [50.0-50.0 MB] | +0.0% | +10% | ok |"
        in table
    )
