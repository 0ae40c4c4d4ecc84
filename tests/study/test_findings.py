"""findings.md: the four answers with their runs, the method, unsteady and failed points."""

from __future__ import annotations

from harness.render.findings import FindingsMarkdown
from harness.study import findings
from harness.study.questions import answer_all
from harness.study.results import Study, load, save

from .builders import ingest_study, point


def study_with_a_failure() -> Study:
    study = ingest_study(30_000, {1: 31_000, 2: 25_000}, {1: 18_000, 2: 20_000})
    study.points.append(point("output/batched/fsync-none", 50_000, jitter=0.3))
    study.points.append(point("pipeline/sequential", 0, status="failed", label="sequential"))
    study.meta.update(repeat=3, quick=True, runs=20, elapsed_s=42.0, output_dirs=20)
    study.meta["file_creation_us"] = {"start": 31.0, "end": 420.0}
    study.answers = answer_all(study)
    return study


def test_findings_have_a_section_per_question_then_method_warnings_failures_table():
    text = FindingsMarkdown().render(study_with_a_failure())

    order = [
        "## Q1.",
        "## Q2.",
        "## Q3.",
        "## Q4.",
        "## How it was measured",
        "## Unsteady points",
        "## Failed points",
        "## All points",
    ]
    positions = [text.index(h) for h in order]
    assert positions == sorted(positions)
    assert "Not answered: the sequential pipeline point has no stage times" in text
    assert "No: on 2 cores the best process pool" in text
    assert "Runs: [ingest_files/processes-2](runs/ingest_files_processes-2-0)" in text


def test_findings_name_unsteady_and_failed_points_and_the_file_system_probe():
    text = FindingsMarkdown().render(study_with_a_failure())

    unsteady = text.split("## Unsteady points")[1].split("##")[0]
    assert "output/batched/fsync-none" in unsteady and "30% of the mean" in unsteady
    failed = text.split("## Failed points")[1].split("##")[0]
    assert "- sequential (failed): the target exited with code 1" in failed
    assert "[failed](runs/pipeline_sequential-0)" in failed
    assert "31 us per file before the runs" in text
    assert "420 us per file (slow: recent deletions are still being paid for)" in text
    assert "20 directories removed then" in text


def test_findings_with_nothing_wrong_say_so():
    study = ingest_study(30_000, {1: 31_000}, {1: 18_000})
    study.meta["repeat"] = 3

    text = FindingsMarkdown().render(study)

    assert "None: every point's spread is under 10% of its mean." in text
    assert "None: every run of every point succeeded." in text


def test_study_json_round_trips_and_findings_are_written_atomically(tmp_path):
    study = study_with_a_failure()

    save(study, tmp_path)
    path = findings.write(load(tmp_path), tmp_path)

    again = load(tmp_path)
    assert [p.key for p in again.points] == [p.key for p in study.points]
    assert again.points[0].spread == study.points[0].spread
    assert again.answers == study.answers
    assert path.read_text() == FindingsMarkdown().render(study)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["findings.md", "study.json"]
