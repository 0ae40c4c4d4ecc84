import json
import os

import pytest

from workloads import data
from workloads.pipeline import output as output_module
from workloads.pipeline.output import FSYNC_POLICIES, make_writer

ITEMS = [data.make_item(i, 42) for i in range(25)]


def read_back(layout, out_dir, fmt="jsonl"):
    if layout == "individual":
        paths = sorted(out_dir.glob("items/**/*.json"))
        return [json.loads(p.read_bytes()) for p in paths]
    if layout == "collection":
        text = (out_dir / f"collection.{fmt}").read_text()
        return json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
    items = []
    for p in sorted((out_dir / "batches").iterdir()):
        text = p.read_text()
        items += json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
    return items


@pytest.mark.parametrize("fsync", FSYNC_POLICIES)
@pytest.mark.parametrize(
    "layout, fmt, nested",
    [
        ("individual", "jsonl", False),
        ("individual", "jsonl", True),
        ("collection", "json", False),
        ("collection", "jsonl", False),
        ("batched", "json", False),
        ("batched", "jsonl", False),
    ],
)
def test_every_layout_and_policy_writes_items_that_parse_back(tmp_path, layout, fmt, nested, fsync):
    writer = make_writer(layout, tmp_path, nested=nested, fsync=fsync, batch_size=10, fmt=fmt)
    writer.write(ITEMS[:12])
    writer.write(ITEMS[12:])
    writer.close()
    assert sorted(read_back(layout, tmp_path, fmt), key=lambda i: i["id"]) == ITEMS
    assert not list(tmp_path.glob("**/*.tmp"))


def test_nested_layout_makes_one_directory_per_item(tmp_path):
    writer = make_writer("individual", tmp_path, nested=True)
    writer.write(ITEMS[:5])
    writer.close()
    dirs = [p for p in (tmp_path / "items").iterdir() if p.is_dir()]
    assert len(dirs) == 5 and all((d / "item.json").exists() for d in dirs)


def test_batched_files_hold_batch_size_items(tmp_path):
    writer = make_writer("batched", tmp_path, batch_size=10)
    writer.write(ITEMS)
    writer.close()
    names = sorted(p.name for p in (tmp_path / "batches").iterdir())
    assert names == ["batch-00000000.jsonl", "batch-00000010.jsonl", "batch-00000020.jsonl"]


def test_collection_resumes_from_committed_offset(tmp_path):
    writer = make_writer("collection", tmp_path, fmt="json")
    writer.write(ITEMS[:10])
    state = writer.commit()
    writer.write(ITEMS[10:15])  # written after the commit, then the process "dies"
    writer._file.flush()
    resumed = make_writer("collection", tmp_path, fmt="json", start=10, state=state)
    resumed.write(ITEMS[10:])
    resumed.close()
    assert read_back("collection", tmp_path, "json") == ITEMS


def test_fsync_each_calls_fsync_per_item(tmp_path, monkeypatch):
    calls = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd)))
    writer = make_writer("individual", tmp_path, fsync="each")
    writer.write(ITEMS[:7])
    writer.close()
    assert len(calls) >= 7


def test_unknown_policy_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="fsync policy"):
        make_writer("individual", tmp_path, fsync="sometimes")


@pytest.mark.parametrize("layout", ["individual", "collection", "batched"])
def test_a_commit_under_fsync_end_makes_what_was_written_durable(tmp_path, monkeypatch, layout):
    # A checkpoint records its position only after commit(): under `end` that commit must sync,
    # or a power cut could take back items the checkpoint already counted.
    synced = []
    real_fsync, real_syncfs = os.fsync, output_module.syncfs
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(
        output_module, "syncfs", lambda p: (synced.append("syncfs"), real_syncfs(p))
    )
    for policy, expect_sync in (("end", True), ("none", False)):
        synced.clear()
        writer = make_writer(layout, tmp_path / policy, fsync=policy, batch_size=4)
        writer.write(ITEMS[:10])
        assert synced == []  # nothing synced while writing
        writer.commit()
        assert bool(synced) is expect_sync, (policy, synced)
        synced.clear()
        writer.commit()  # nothing new since: no second flush
        assert layout == "collection" or synced == []
        writer.close()
