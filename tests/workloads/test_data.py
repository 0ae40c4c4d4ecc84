import json

from workloads import data


def test_items_are_deterministic_and_about_one_kilobyte():
    first = [data.make_item(i, 7) for i in range(200)]
    again = [data.make_item(i, 7) for i in range(200)]
    assert first == again
    assert data.make_item(3, 8) != data.make_item(3, 7)
    sizes = [len(json.dumps(item)) for item in first]
    assert 800 <= sum(sizes) / len(sizes) <= 1300
    item = first[5]
    assert item["id"] == "item-0000005"
    assert 10 <= len(item["attributes"]) <= 20
    assert isinstance(item["tags"], list) and item["text"]


def test_dataset_files_and_jsonl_hold_the_same_items(tmp_path):
    files = data.dataset(50, seed=3, layout="files", cache_dir=tmp_path)
    lines = data.dataset(50, seed=3, layout="jsonl", cache_dir=tmp_path)
    from_files = [json.loads(p.read_bytes()) for p in files.files()]
    from_lines = [json.loads(line) for line in lines.path.read_text().splitlines()]
    assert from_files == from_lines == [data.make_item(i, 3) for i in range(50)]


def test_dataset_is_cached_not_regenerated(tmp_path):
    ds = data.dataset(20, seed=1, layout="files", cache_dir=tmp_path)
    marker = ds.files()[0]
    mtime = marker.stat().st_mtime_ns
    again = data.dataset(20, seed=1, layout="files", cache_dir=tmp_path)
    assert again.path == ds.path and marker.stat().st_mtime_ns == mtime
    assert len(list(tmp_path.iterdir())) == 1  # no staging leftovers


def test_corrupt_rate_makes_that_fraction_malformed(tmp_path):
    bad = data.corrupt_indices(1000, seed=5, rate=0.03)
    assert len(bad) == 30
    assert set(bad.values()) == set(data.CORRUPT_KINDS)
    ds = data.dataset(1000, seed=5, layout="jsonl", corrupt_rate=0.03, cache_dir=tmp_path)
    unparseable = 0
    for line in ds.path.read_bytes().splitlines():
        try:
            json.loads(line)
        except ValueError:
            unparseable += 1
    assert unparseable == sum(1 for kind in bad.values() if kind == "bad_json")
