"""findings.md's filesystem sections: Q4's table per filesystem, the filesystems and their
flush latencies, the storage model, and the recommendation as the last section."""

from __future__ import annotations

from harness.render.findings import FindingsMarkdown
from harness.study import recommend
from harness.study.questions import answer_all
from harness.study.results import Study
from tests.study.builders import point

LATENCY = {"n": 300, "mean_ms": 1.0, "p50_ms": 0.9, "p99_ms": 3.5}
BATCH = {"n": 30, "mean_ms": 1.6, "p50_ms": 1.5, "p99_ms": 3.0}


def _study() -> Study:
    points = [
        point("ingest_files/sequential", 30_000),
        point(
            "ingest_files/sequential/orjson",
            55_000,
            params={"mode": "sequential", "parser": "orjson"},
        ),
        point(
            "output/ext4/individual/fsync-none",
            20_000,
            items=2000,
            label="individual, fsync none, ext4",
        ),
        point(
            "output/ext4/individual/fsync-each",
            950,
            items=400,
            label="individual, fsync each, ext4",
        ),
        point(
            "output/ext4/batched/fsync-none", 60_000, items=2000, label="batched, fsync none, ext4"
        ),
        point(
            "output/ext4/batched/fsync-batch",
            30_000,
            items=2000,
            label="batched, fsync batch, ext4",
        ),
        point(
            "output/ext4/batched/fsync-end", 45_000, items=2000, label="batched, fsync end, ext4"
        ),
        point(
            "output/tmpfs/individual/fsync-none",
            40_000,
            items=2000,
            label="individual, fsync none, tmpfs",
        ),
        point("pipeline/sequential", 6_000, items=3000, stages={"transform": 0.09, "output": 0.2}),
    ]
    points[3].sys_per_item_us = 85.0
    study = Study(points=points, meta={"cores": 2, "repeat": 3, "reference_fs": "ext4"})
    study.meta["filesystems"] = {
        "ext4": {
            "groups": 3,
            "info": {"type": "ext4", "options": "rw,relatime", "source": "/dev/loop0",
                     "backing_file": "/var/tmp/x.img"},
            "fsync": {"create": LATENCY, "append": LATENCY, "batch": BATCH},
        },
    }  # fmt: skip
    study.meta["unavailable_filesystems"] = {"btrfs": "mkfs.btrfs is not installed"}
    study.meta["recommendation"] = recommend.choose(study, "ext4").to_dict()
    study.points.append(point(recommend.KEY, 13_000, items=3000, label="recommended"))
    study.answers = answer_all(study)
    return study


def test_q4_has_a_table_of_layouts_by_filesystem_with_spread_and_system_time():
    text = FindingsMarkdown().render(_study())
    q4 = text.split("## Q4.")[1].split("\n## ")[0]

    assert "| layout, fsync | tmpfs | ext4 |" in q4
    assert "| individual, fsync each | - | [950 ±2%, sys 85 µs](runs/" in q4
    assert "| batched, fsync end | - | [45.0k ±2%](runs/" in q4


def test_the_storage_section_checks_the_model_and_labels_predictions():
    text = FindingsMarkdown().render(_study())
    section = text.split("## What would an HDD do?")[1].split("\n## ")[0]

    assert "`items/s = 1 / (c + f x L)`" in section
    assert "within 25% on every filesystem" in section
    assert (
        "| ext4 | individual, each | 50.0 | 1.002 create | 1.000 | 950 | 950 (931..969) | +0% |"
        in (section)
    )
    assert "| ext4 | batched, batch | 16.7 | 0.010 batch | 1.600 | 30,612 |" in section
    assert "| batched, batch | 0.020 | 60,000 | 5,660 | 27,273 | 56,604 |" in section
    assert "**Predictions, not measurements**" in section
    assert "Answer (prediction): with fsync per item a spinning disk (7,200 rpm) caps" in section
    fs = text.split("## Filesystems")[1].split("\n## ")[0]
    assert "| ext4 | ext4, rw,relatime | /dev/loop0 (loop, sparse file on the disk) | 3 |" in fs
    assert "0.900 / 3.500 / 1.000 ms (n=300)" in fs and "1.500 / 3.000 / 1.600 ms (n=30)" in fs
    assert "| btrfs | cannot be made here: mkfs.btrfs is not installed |" in fs


def test_findings_end_with_the_recommendation_its_prediction_and_its_measurement():
    text = FindingsMarkdown().render(_study())
    last = text.split("\n## ")[-1]

    assert last.startswith("Recommendation")
    assert "harness run pipeline --set ingest_mode=sequential --set parser=orjson" in last
    assert "--set output_layout=batched --set fsync=end" in last and "--set fs=ext4" in last
    assert "**Predicted: 13,811 items/s** (model: serial stages" in last
    assert "measured / predicted = 0.94, within 20%" in last
    assert "Against the sequential pipeline (6,000 items/s): 2.17x, faster" in last
    assert "a power cut loses at most the 1000 items since the last checkpoint" in last
    assert "Not syncing at all (batched, fsync none, ext4: 60,000 items/s" in last
