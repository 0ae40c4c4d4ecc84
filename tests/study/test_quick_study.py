"""End to end: `harness study --quick` runs the matrix, answers Q1-Q4 citing real runs, in time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.study.matrix import FILESYSTEMS
from harness.study.results import FINDINGS_NAME, load
from harness.summary import load as load_summary
from tests.workloads.fs_support import leftovers
from workloads import filesystems

pytestmark = pytest.mark.slow

QUICK_BUDGET_S = 180.0
LINK = re.compile(r"\]\(([^)]+)\)")


def sections(markdown: str) -> dict[str, str]:
    """Level-2 sections by their heading's first word (`Q1.`, `How`, ...)."""
    found: dict[str, str] = {}
    for block in re.split(r"^## ", markdown, flags=re.MULTILINE)[1:]:
        heading, _, body = block.partition("\n")
        found[heading.split()[0].rstrip(".")] = body.strip()
    return found


def test_quick_study_succeeds_within_its_budget(quick_study):
    assert quick_study.exit_code == 0, quick_study.output[-3000:]
    assert quick_study.elapsed_s < QUICK_BUDGET_S
    assert str(quick_study.study_dir / FINDINGS_NAME) in quick_study.output.replace("\n", "")


def test_findings_answer_each_question_citing_existing_runs(quick_study):
    text = (quick_study.study_dir / FINDINGS_NAME).read_text()
    found = sections(text)
    for key in ("Q1", "Q2", "Q3", "Q4"):
        body = found.get(key)
        assert body, f"no section for {key}"
        answer = body.split("\n\n")[0]
        assert len(answer) > 40 and not answer.startswith("Not answered"), answer
        assert re.search(r"\d", answer), f"{key} quotes no figure"
        links = LINK.findall(body)
        assert links, f"{key} cites no run"
        for link in links:
            run_dir = quick_study.study_dir / link
            assert run_dir.is_dir(), f"{key} cites {link}, which does not exist"
            assert load_summary(run_dir).status == "ok"


def test_study_json_records_every_point_with_its_runs(quick_study):
    study = load(quick_study.study_dir)
    assert study.meta["quick"] is True and study.meta["repeat"] == 3
    assert {p.scenario for p in study.points} == {
        "output",
        "ingest_files",
        "ingest_api",
        "pipeline",
    }
    assert not study.failed(), [(p.key, p.error) for p in study.failed()]
    for point in study.points:
        assert point.throughput["median"] > 0
        expected = 1 if point.tool != "none" else 3
        assert len(point.runs) == expected
        for run in point.runs:
            assert (quick_study.study_dir / run.dir / "summary.json").is_file()
        if point.scenario == "pipeline" and point.tool == "none":
            assert {"ingest", "transform", "output"} <= set(point.stages)
    assert {p.tool for p in study.points} == {"none", "py-spy", "memray"}
    assert len(study.warmups) == 4
    assert all(Path(quick_study.study_dir / w.dir).is_dir() for w in study.warmups)


def test_profiler_runs_have_their_artifacts(quick_study):
    study = load(quick_study.study_dir)
    pyspy = study.point("pipeline/sequential/py-spy")
    memray = study.point("pipeline/sequential/memray")
    assert (quick_study.study_dir / pyspy.median_run / "flamegraph.svg").is_file()
    assert pyspy.samples and pyspy.samples["staged"] > 0
    assert (quick_study.study_dir / memray.median_run / "memray-flamegraph.html").is_file()


def test_q4_is_answered_per_filesystem_and_nothing_of_them_is_left(quick_study):
    study = load(quick_study.study_dir)
    made = [k for k in FILESYSTEMS if not filesystems.unavailable(k)]
    assert list(study.answers["Q4"]["data"]["table"]) == made
    for fs in made:
        points = [p for p in study.group("layout") if p.params["fs"] == fs]
        assert {(p.params["layout"], p.params["fsync"]) for p in points} >= {
            ("individual", "none"),
            ("individual", "each"),
            ("batched", "batch"),
        }
        assert all(p.sys_per_item_us is not None and p.filesystem for p in points)
        if fs != "disk":
            assert {p.filesystem["type"] for p in points} == {fs}
        assert study.meta["filesystems"][fs]["fsync"]["create"]["n"] >= 300
    text = (quick_study.study_dir / FINDINGS_NAME).read_text()
    assert "| layout, fsync | " + " | ".join(made) + " |" in text
    assert "## Recommendation" in text.split("## All points")[1]
    assert leftovers(quick_study.fs_root) == []
