"""The fsync probe measures real flushes; the storage model predicts from c, f and L, is checked
against the synced points, and turns into storage-class predictions."""

from __future__ import annotations

import pytest

from harness.study import storage
from harness.study.output_answers import storage_answer
from harness.study.results import Study

from .builders import point


def test_the_probe_times_real_fsyncs_of_both_patterns(tmp_path):
    found = storage.probe(tmp_path / "probe", 20)

    assert {k: len(v) for k, v in found.items()} == {"create": 20, "append": 20, "batch": 5}
    assert all(0 < s < 5 for samples in found.values() for s in samples)
    # 20 new files, the appended one, and the batches directory with 5 renamed batch files
    assert len(list((tmp_path / "probe").iterdir())) == 22
    batches = sorted(p.name for p in (tmp_path / "probe" / "batches").iterdir())
    assert len(batches) == 5 and all(n.endswith(".jsonl") for n in batches)
    stats = storage.latency_stats(found["create"])
    assert stats["n"] == 20 and stats["p50_ms"] <= stats["p99_ms"]


def test_latency_stats_are_milliseconds_of_the_samples():
    stats = storage.latency_stats([0.001] * 98 + [0.010, 0.050])
    assert stats == {"n": 100, "mean_ms": 1.58, "p50_ms": 1.0, "p99_ms": 50.0}
    assert storage.latency_stats([]) is None


@pytest.mark.parametrize(
    ("layout", "fsync", "expected"),
    [
        ("individual", "each", ("create", 1.0 + 1 / 400, 1.0 + 1 / 400)),
        ("collection", "each", ("append", 1.0 + 2 / 400, 1.0 + 2 / 400)),
        ("batched", "batch", ("batch", 1 / 100, 2 / 100)),
        ("batched", "each", ("batch", 1 / 100, 2 / 100)),
        ("individual", "none", None),
        ("batched", "end", None),
    ],
)
def test_flushes_per_item_follow_the_writers(layout, fsync, expected):
    assert storage.flushes(layout, fsync, 400, 100) == expected


def _study() -> Study:
    points = [
        point("output/ext4/individual/fsync-none", 20_000, items=2000),  # c = 50 us
        point("output/ext4/individual/fsync-each", 1_000, items=400),
        point("output/ext4/batched/fsync-none", 50_000, items=2000),  # c = 20 us
        point("output/ext4/batched/fsync-batch", 25_000, items=2000),
        point("output/tmpfs/individual/fsync-none", 40_000, items=2000),
        point("output/tmpfs/individual/fsync-each", 38_000, items=400),
        point("output/xfs/individual/fsync-each", 900, items=400),  # xfs not probed: left out
    ]
    fsinfo = {
        "ext4": {
            "fsync": {
                "create": {"mean_ms": 0.95},
                "append": {"mean_ms": 0.8},
                "batch": {"mean_ms": 2.0},
            }
        },
        "tmpfs": {"fsync": {"create": {"mean_ms": 0.001}, "append": {"mean_ms": 0.001}}},
    }
    return Study(meta={"filesystems": fsinfo, "reference_fs": "ext4"}, points=points)


def test_the_model_is_checked_against_every_probed_synced_point():
    rows = {r["key"]: r for r in storage.check(_study().points, _study().meta["filesystems"])}

    assert set(rows) == {
        "output/ext4/individual/fsync-each",
        "output/ext4/batched/fsync-batch",
        "output/tmpfs/individual/fsync-each",
    }
    each = rows["output/ext4/individual/fsync-each"]
    expected = 1 / (50e-6 + (1 + 1 / 400) * 0.95e-3)
    assert each["predicted"] == pytest.approx(expected, abs=0.1)
    assert each["error"] == pytest.approx(expected / 1_000 - 1, abs=1e-3)
    batch = rows["output/ext4/batched/fsync-batch"]
    assert batch["predicted"] == pytest.approx(1 / (20e-6 + 0.01 * 2e-3), abs=0.1)


def test_the_answer_says_whether_every_filesystem_is_within_25_percent_and_predicts_classes():
    answer = storage_answer(_study())

    assert answer["within"] is True and answer["worst_error"] < 0.25
    assert answer["classes_fs"] == "ext4"
    hdd = {c["layout"]: c["predicted"]["spinning disk (7,200 rpm)"] for c in answer["classes"]}
    assert hdd["individual"] == pytest.approx(1 / (50e-6 + (1 + 1 / 400) * 8e-3), abs=0.1)
    assert hdd["batched"] == pytest.approx(1 / (20e-6 + 0.02 * 8e-3), abs=0.1)

    study = _study()
    study.points[1] = point("output/ext4/individual/fsync-each", 2_000, items=400)
    assert storage_answer(study)["within"] is False
