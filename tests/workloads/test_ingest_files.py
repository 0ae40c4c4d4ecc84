import pytest

from workloads import data
from workloads.pipeline.ingest_files import MODES, FileIngest
from workloads.pipeline.records import Rejected


@pytest.mark.parametrize("layout", ["files", "jsonl"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("parser", ["json", "orjson"])
def test_every_mode_reads_every_item_in_order(tmp_path, layout, mode, parser):
    ds = data.dataset(120, seed=9, layout=layout, cache_dir=tmp_path)
    with FileIngest(ds, mode, workers=3, parser=parser) as ingest:
        chunks = list(ingest.chunks(chunk_size=50))
    assert [len(c) for c in chunks] == [50, 50, 20]
    items = [r for c in chunks for r in c]
    assert items == [data.make_item(i, 9) for i in range(120)]


@pytest.mark.parametrize("layout", ["files", "jsonl"])
def test_start_skips_to_a_position(tmp_path, layout):
    ds = data.dataset(30, seed=9, layout=layout, cache_dir=tmp_path)
    with FileIngest(ds, "threads", workers=2) as ingest:
        items = [r for c in ingest.chunks(chunk_size=7, start=11) for r in c]
    assert [i["seq"] for i in items] == list(range(11, 30))


def test_bad_json_becomes_a_rejected_record_with_its_source(tmp_path):
    ds = data.dataset(200, seed=4, layout="files", corrupt_rate=0.05, cache_dir=tmp_path)
    bad = {i for i, k in data.corrupt_indices(200, 4, 0.05).items() if k == "bad_json"}
    with FileIngest(ds, "processes", workers=2) as ingest:
        records = [r for c in ingest.chunks(64) for r in c]
    rejected = [(n, r) for n, r in enumerate(records) if isinstance(r, Rejected)]
    assert {n for n, _ in rejected} == bad
    for n, r in rejected:
        assert r.source == f"{data.item_id(n)}.json" and r.reason.startswith("invalid JSON")
