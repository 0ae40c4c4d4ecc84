"""The answers to Q1-Q4 follow the numbers, whichever way they point (given / when / then)."""

from __future__ import annotations

import pytest

from harness import scaling
from harness.study.causes import mean_causes
from harness.study.questions import answer_all, q1, q2, q3, q4
from harness.study.results import Study
from harness.summary import RunSummary

from .builders import ingest_study, point


def test_q2_says_no_when_processes_do_not_beat_threads():
    # given: processes slower than both sequential and threads
    study = ingest_study(30_000, {1: 31_000, 2: 25_000}, {1: 18_000, 2: 20_000})
    # when
    answer = q2(study)
    # then
    assert answer["text"].startswith("No:")
    assert "0.67x sequential" in answer["text"] and "(30,000 items/s; slower)" in answer["text"]
    assert "0.65x the best thread pool (1 thread, 31,000 items/s; slower)" in answer["text"]
    assert "1 of 1 multi-thread points were judged GIL-bound" in answer["text"]
    assert {c["path"] for c in answer["citations"]} >= {"runs/ingest_files_processes-2-0"}


def test_q2_says_yes_when_processes_beat_sequential_and_threads():
    study = ingest_study(10_000, {1: 9_800, 2: 9_000}, {1: 9_000, 2: 18_000})

    answer = q2(study)

    assert answer["text"].startswith("Yes:")
    assert "1.80x sequential" in answer["text"] and "2 processes, 18,000 items/s" in answer["text"]
    assert answer["data"]["speedup_vs_sequential"] == pytest.approx(1.8)


def test_q2_does_not_call_noise_a_win():
    study = ingest_study(10_000, {1: 10_100}, {1: 9_000, 2: 10_300})
    for p in study.points:
        if p.key == "ingest_files/processes-2":
            p.throughput["minimum"] = 9_000.0  # ranges overlap

    answer = q2(study)

    assert answer["text"].startswith("No:")
    assert "no different within noise" in answer["text"]


def test_q2_partial_answer_when_only_sequential_is_beaten():
    study = ingest_study(10_000, {1: 10_000, 2: 16_000}, {1: 9_000, 2: 15_500})

    assert q2(study)["text"].startswith("Only against sequential:")


def test_q1_names_the_largest_stage_and_checks_it_against_the_samples():
    seq = point(
        "pipeline/sequential", 4_000, stages={"ingest": 0.2, "transform": 0.1, "output": 0.7}
    )
    profiled = point("pipeline/sequential/py-spy", 3_800, tool="py-spy", group="profile")
    profiled.samples = {
        "staged": 120,
        "shares": {"ingest": 0.25, "transform": 0.1, "output": 0.65},
    }
    batched = point("pipeline/batched", 9_000)
    study = Study(points=[seq, profiled, batched])

    answer = q1(study)

    assert answer["text"].startswith("Output is the bottleneck")
    assert "output 70%, ingest 20%, transform 10%" in answer["text"]
    assert "120 samples" in answer["text"] and "agreeing" in answer["text"]
    assert "batched output 2.25x (faster)" in answer["text"]
    assert [c["path"] for c in answer["citations"]][:2] == [seq.median_run, profiled.median_run]


def test_q1_reports_disagreement_between_clocks_and_samples():
    seq = point(
        "pipeline/sequential", 4_000, stages={"ingest": 0.6, "transform": 0.1, "output": 0.3}
    )
    profiled = point("pipeline/sequential/py-spy", 4_000, tool="py-spy", group="profile")
    profiled.samples = {"staged": 50, "shares": {"ingest": 0.2, "output": 0.8}}

    text = q1(Study(points=[seq, profiled]))["text"]

    assert text.startswith("Ingest is the bottleneck")
    assert "disagreeing: most samples are in output" in text


def test_q3_reports_the_fitted_optimum_beside_the_core_count():
    ns = (1, 2, 4, 8, 16)
    xs = [scaling.usl(n, 1_000, 0.1, 0.02) for n in ns]
    points = [point(f"ingest_files/threads-{n}", x) for n, x in zip(ns, xs, strict=True)]

    answer = q3(Study(meta={"cores": 2}, points=points))

    assert answer["text"].startswith("With 2 cores: file ingest, threads best at N=8")
    assert "USL σ=0.10 κ=0.020: N*=6.7" in answer["text"]
    assert "Every sweep peaked inside the range tried" in answer["text"]


def test_q3_uses_sequential_as_the_base_when_a_mode_has_no_single_worker_point():
    points = [
        point("ingest_api/sequential", 70, params={"mode": "sequential"}),
        point("ingest_api/asyncio-5", 340),
        point("ingest_api/asyncio-10", 690),
    ]

    text = q3(Study(meta={"cores": 2}, points=points))["text"]

    assert "API ingest, asyncio best at N=10" in text
    assert "Still rising at the largest N tried: API ingest, asyncio" in text


def test_q4_compares_layouts_and_fsync_on_each_filesystem():
    points = [
        point("output/ext4/individual/fsync-none", 20_000, label="individual, fsync none, ext4"),
        point("output/ext4/individual/fsync-each", 2_000, label="individual, fsync each, ext4"),
        point("output/ext4/collection/fsync-none", 90_000, label="collection, fsync none, ext4"),
        point("output/ext4/collection/fsync-each", 1_000, label="collection, fsync each, ext4"),
        point("output/tmpfs/individual/fsync-none", 40_000, label="individual, fsync none, tmpfs"),
        point("output/tmpfs/individual/fsync-each", 39_000, label="individual, fsync each, tmpfs"),
        point("ingest_files/sequential", 30_000),
    ]
    points[3].split = {"on_cpu": 0.1, "disk_wait": 0.88, "other": 0.02}
    points[3].sys_per_item_us = 41.5

    answer = q4(Study(points=points))
    text = answer["text"]

    assert text.startswith("Yes, on each of the 2 filesystem(s) measured (tmpfs, ext4)")
    assert "overall collection, fsync none, ext4 writes 90,000 items/s (±2%)" in text
    assert "(90.0x apart)" in text
    assert (
        "ext4: collection, fsync none 90,000 items/s (±2%) down to collection, fsync each" in text
    )
    assert "fsync keeps individual 0.10x, collection 0.01x" in text
    assert "the slowest is disk 88%, cpu 10% of thread time (monitor split)" in text
    assert "tmpfs: individual, fsync none 40,000 items/s" in text and "individual 0.97x" in text
    assert "3 of 6 output points are slower than the sequential ingestion" in text
    cell = answer["data"]["table"]["ext4"]["collection|each"]
    assert cell["median"] == 1_000 and cell["sys_per_item_us"] == 41.5


def test_q4_quotes_causes_when_the_runs_carry_them():
    points = [
        point("output/ext4/individual/fsync-none", 20_000),
        point("output/ext4/individual/fsync-each", 1_000),
    ]
    summaries = [
        RunSummary("r", "output", "scenario", "none", causes=c)
        for c in (
            {
                "families": {"disk": 0.90, "cpu": 0.08},
                "shares": {"device": 0.8, "kernel:durability": 0.1, "python": 0.07},
                "device_by_family": {"durability": 1.2},
            },
            {
                "families": {"disk": 0.98, "cpu": 0.02},
                "shares": {"device": 0.9, "kernel:durability": 0.1, "python": 0.01},
                "device_by_family": {"durability": 1.3},
            },
            {},  # an older run without causes is left out of the mean
        )
    ]
    points[1].causes = mean_causes(summaries)

    text = q4(Study(points=points))["text"]

    assert points[1].causes["runs"] == 2
    assert (
        "the slowest is disk 94% by cause, of it waiting on the device (fsync) 89%, "
        "fsync in the kernel 11%" in text
    )


def test_every_question_says_it_was_not_answered_when_its_points_failed():
    failed = point("pipeline/sequential", 0, status="failed")

    answers = answer_all(Study(points=[failed]))

    assert set(answers) == {"Q1", "Q2", "Q3", "Q4", "storage", "recommendation"}
    for key in ("Q1", "Q2", "Q3", "Q4"):
        assert answers[key]["text"].startswith("Not answered")
    assert answers["storage"]["rows"] == [] and answers["storage"]["within"] is False
    assert answers["recommendation"] == {}
    assert answers["Q1"]["citations"][0]["path"] == failed.runs[0].dir


def test_q3_says_when_the_best_worker_count_is_within_noise_of_one():
    points = [
        point("ingest_files/processes-1", 10_000, jitter=0.2),
        point("ingest_files/processes-2", 10_500, jitter=0.2),
        point("ingest_files/processes-4", 9_000, jitter=0.2),
    ]

    text = q3(Study(meta={"cores": 2}, points=points))["text"]

    assert "file ingest, processes best at N=2 (10,500 items/s, within noise of N=1)" in text
