"""Transform: field mapping, type coercion and validation of one item.

An item that cannot be made valid becomes a Rejected with the reason, for the quarantine:
nothing is dropped silently. The output item keeps its `id`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from workloads.pipeline.records import Record, Rejected

REQUIRED = ("id", "seq", "created_at", "updated_at", "source", "attributes", "tags", "text")
RENAMES = {"seq": "sequence", "source": "device", "text": "body"}
_ID = re.compile(r"item-\d{7}\Z")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}\Z")
_RANGES = {"priority": (1, 5), "score": (0.0, 100.0), "humidity_pct": (0.0, 100.0)}


class Invalid(ValueError):
    """Why an item cannot be used."""


def _timestamp(value: Any, field: str) -> float:
    if not isinstance(value, str):
        raise Invalid(f"{field}: expected an ISO-8601 string, got {type(value).__name__}")
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise Invalid(f"{field}: not an ISO-8601 timestamp: {value[:40]!r}") from None


def _integer(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise Invalid(f"{field}: expected an integer, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)  # coercion: "42" is a fine integer
    raise Invalid(f"{field}: expected an integer, got {value!r:.40}")


def transform_item(item: dict[str, Any]) -> dict[str, Any]:
    """The flattened, typed, validated item; raises Invalid with the reason."""
    missing = [name for name in REQUIRED if name not in item]
    if missing:
        raise Invalid(f"missing field(s): {', '.join(missing)}")
    if not isinstance(item["id"], str) or not _ID.match(item["id"]):
        raise Invalid(f"id: bad format {item['id']!r:.40}")
    attributes = item["attributes"]
    if not isinstance(attributes, dict):
        raise Invalid(f"attributes: expected an object, got {type(attributes).__name__}")
    seq = _integer(item["seq"], "seq")
    if seq < 0:
        raise Invalid(f"seq: must be >= 0, got {seq}")
    out: dict[str, Any] = {
        "id": item["id"],
        RENAMES["seq"]: seq,
        "created_ts": _timestamp(item["created_at"], "created_at"),
        "updated_ts": _timestamp(item["updated_at"], "updated_at"),
        RENAMES["source"]: str(item["source"]),
    }
    if out["updated_ts"] < out["created_ts"]:
        raise Invalid("updated_at is before created_at")
    for key, value in attributes.items():
        if key in _RANGES:
            low, high = _RANGES[key]
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise Invalid(f"attributes.{key}: expected a number, got {value!r:.40}")
            if not low <= value <= high:
                raise Invalid(f"attributes.{key}: {value} outside [{low}, {high}]")
        elif key == "owner_email" and not (isinstance(value, str) and _EMAIL.match(value)):
            raise Invalid(f"attributes.owner_email: bad format {value!r:.40}")
        out[f"attr_{key}"] = value
    tags = item["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise Invalid("tags: expected a list of strings")
    out["tags"] = sorted(tags)
    body = item["text"]
    if not isinstance(body, str):
        raise Invalid(f"text: expected a string, got {type(body).__name__}")
    out[RENAMES["text"]] = body
    out["body_words"] = body.count(" ") + 1
    return out


def transform_chunk(records: list[Record]) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """Valid transformed items in order, and everything rejected (parse or validation)."""
    good: list[dict[str, Any]] = []
    bad: list[Rejected] = []
    for record in records:
        if isinstance(record, Rejected):
            bad.append(record)
            continue
        try:
            good.append(transform_item(record))
        except Invalid as exc:
            item_id = record.get("id") if isinstance(record.get("id"), str) else None
            bad.append(Rejected(item_id or "?", str(exc), "validate", item_id))
    return good, bad
