"""The recommendation is chosen by its stated rule, predicted by the serial stages model, and
set against its own measured run and the sequential pipeline."""

from __future__ import annotations

import pytest

from harness.study import recommend
from harness.study.results import Study

from .builders import point


def _measured(orjson: float = 55_000, processes: float = 30_000) -> list:
    return [
        point("ingest_files/sequential", 30_000),
        point(
            "ingest_files/sequential/orjson",
            orjson,
            params={"mode": "sequential", "parser": "orjson"},
        ),
        point("ingest_files/processes-2", processes),
        point("output/ext4/individual/fsync-none", 20_000, items=2000),
        point("output/ext4/individual/fsync-each", 1_000, items=400),
        point("output/ext4/batched/fsync-none", 60_000, items=2000),
        point("output/ext4/batched/fsync-batch", 30_000, items=2000),
        point("output/ext4/batched/fsync-end", 45_000, items=2000),
        point("output/disk/batched/fsync-end", 90_000, items=2000),  # another filesystem
        point("ingest_api/asyncio-10", 700, params={"mode": "asyncio", "workers": 10}),
        point("ingest_api/asyncio-20", 705, params={"mode": "asyncio", "workers": 20}),
    ]


def test_the_fastest_ingest_and_the_fastest_durable_output_on_the_filesystem_are_chosen():
    choice = recommend.choose(Study(points=_measured()), "ext4")

    assert choice.ingest_key == "ingest_files/sequential/orjson"
    assert choice.output_key == "output/ext4/batched/fsync-end"  # `none` is not a candidate
    assert choice.api_key == "ingest_api/asyncio-10"  # 20 in flight is within noise of it
    assert choice.params == {
        "ingest_mode": "sequential",
        "parser": "orjson",
        "output_layout": "batched",
        "fsync": "end",
        "batch_size": 100,
        "checkpoint_every": 1000,
    }


def test_a_pool_within_noise_of_sequential_is_not_recommended():
    choice = recommend.choose(Study(points=_measured(orjson=30_500, processes=31_000)), "ext4")

    assert choice.ingest_key in ("ingest_files/sequential", "ingest_files/sequential/orjson")
    assert "workers" not in choice.params


def test_nothing_is_recommended_without_output_points_on_the_filesystem():
    assert recommend.choose(Study(points=_measured()), "xfs") is None


def test_the_prediction_adds_the_stage_costs_per_item():
    ingest = point("ingest_files/sequential", 50_000)
    output = point("output/ext4/batched/fsync-end", 40_000)

    found = recommend.predict(ingest, output, 30e-6, 1e-3, 1000)

    assert found["terms_us"] == {
        "ingest": 20.0,
        "transform": 30.0,
        "output": 25.0,
        "checkpoint": 2.0,
    }
    assert found["items_per_s"] == pytest.approx(1 / 77e-6, abs=0.1)


def test_the_evaluation_sets_measured_against_predicted_and_the_sequential_pipeline():
    points = _measured()
    seq = point("pipeline/sequential", 6_000, items=3000, stages={"transform": 0.09})
    points += [seq]
    study = Study(
        points=points, meta={"filesystems": {"ext4": {"fsync": {"create": {"mean_ms": 1.0}}}}}
    )
    choice = recommend.choose(study, "ext4")
    study.meta["recommendation"] = choice.to_dict()
    # predicted: 1 / (1/55k + 30 us + 1/45k + 2 us) = 1 / 72.4 us = 13,811 items/s
    study.points.append(point(recommend.KEY, 13_000, items=3000))

    found = recommend.evaluate(study, "ext4")

    assert found["predicted"]["items_per_s"] == pytest.approx(13_811, abs=1)
    assert found["ratio"] == pytest.approx(13_000 / found["predicted"]["items_per_s"], abs=1e-3)
    assert found["within"] is True
    assert found["vs_sequential"] == "faster" and found["speedup"] == pytest.approx(
        13_000 / 6_000, abs=1e-3
    )
    assert found["sequential_predicted"]["items_per_s"] == pytest.approx(
        1 / (1 / 30_000 + 30e-6 + 1 / 20_000), abs=0.1
    )
