"""What flows between stages: parsed items, or the reason a record could not be used."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class Rejected:
    """A record that goes to the quarantine instead of the output; `source` says where it was."""

    source: str
    reason: str
    stage: str
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "stage": self.stage, "reason": self.reason}


Record = dict[str, Any] | Rejected

PARSERS: dict[str, Callable[[bytes], Any]] = {"json": json.loads, "orjson": orjson.loads}


def parse_record(raw: bytes, source: str, loads: Callable[[bytes], Any]) -> Record:
    """The parsed item, or a Rejected saying why the bytes are not a JSON object."""
    try:
        value = loads(raw)
    except ValueError as exc:  # json.JSONDecodeError and orjson.JSONDecodeError both are
        return Rejected(source, f"invalid JSON: {str(exc)[:120]}", "parse")
    if not isinstance(value, dict):
        return Rejected(source, f"not a JSON object but {type(value).__name__}", "parse")
    return value
