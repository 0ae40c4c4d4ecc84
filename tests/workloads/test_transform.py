import pytest

from workloads import data
from workloads.pipeline.records import Rejected
from workloads.pipeline.transform import Invalid, transform_chunk, transform_item


def test_transform_flattens_renames_and_keeps_id():
    item = data.make_item(12, 42)
    out = transform_item(item)
    assert out["id"] == item["id"]
    assert out["sequence"] == 12 and "seq" not in out
    assert out["attr_priority"] == item["attributes"]["priority"]
    assert "attributes" not in out
    assert out["created_ts"] <= out["updated_ts"]
    assert out["body"] == item["text"]


def test_transform_coerces_numeric_strings():
    item = data.make_item(1, 42)
    item["seq"] = "1"
    assert transform_item(item)["sequence"] == 1


@pytest.mark.parametrize(
    "kind, reason", [("missing_field", "missing field"), ("wrong_type", "seq: expected an integer")]
)
def test_corrupt_items_are_rejected_with_reason(kind, reason):
    broken = data.corrupt_item(data.make_item(4, 42), kind)
    with pytest.raises(Invalid, match=reason):
        transform_item(broken)


def test_range_and_format_validation():
    item = data.make_item(2, 42)
    item["attributes"]["score"] = 150
    with pytest.raises(Invalid, match="outside"):
        transform_item(item)
    item = data.make_item(2, 42)
    item["attributes"]["owner_email"] = "not-an-email"
    with pytest.raises(Invalid, match="owner_email"):
        transform_item(item)


def test_chunk_routes_every_record_somewhere():
    records = [data.make_item(i, 42) for i in range(10)]
    records[3] = data.corrupt_item(records[3], "missing_field")
    records.append(Rejected("line 11", "invalid JSON: x", "parse"))
    good, bad = transform_chunk(records)
    assert len(good) + len(bad) == len(records)
    assert [b.id for b in bad] == ["item-0000003", None]
    assert bad[0].stage == "validate" and bad[1].stage == "parse"
