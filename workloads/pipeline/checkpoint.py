"""Checkpoints and the quarantine log: what lets a killed run resume with nothing lost or doubled.

A checkpoint is the last committed position (items of the source fully handled) plus the
writers' resume state, written atomically: temp file, fsync, rename, fsync of the directory
(its own durable writer: the fsyncs are part of what the workload measures).

checkpoint.json's format: 1, position, writer, quarantine, totals (and complete); a checkpoint
written before `schema` has the same fields.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from workloads.pipeline.output import fsync_dir
from workloads.pipeline.records import Rejected

CHECKPOINT_NAME = "checkpoint.json"
QUARANTINE_NAME = "quarantine.jsonl"
SCHEMA = 1


class Checkpoint:
    """The committed position of a run in `out_dir`."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / CHECKPOINT_NAME

    def load(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise ValueError(
                f"checkpoint {self.path} is unreadable ({exc}); remove it to start over"
            ) from None

    def save(self, position: int, state: dict[str, Any]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = json.dumps({"schema": SCHEMA, "position": position, **state}).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)


class QuarantineLog:
    """Rejected records with their reasons, one JSON line each, resumable by byte offset."""

    def __init__(
        self, out_dir: Path, state: dict[str, Any] | None = None, durable: bool = False
    ) -> None:
        self.path = out_dir / QUARANTINE_NAME
        self.durable = durable
        self.count = state["count"] if state else 0
        self._file = open(self.path, "r+b" if state else "wb")  # noqa: SIM115
        if state:
            self._file.truncate(state["offset"])
            self._file.seek(state["offset"])

    def write(self, rejected: list[Rejected]) -> None:
        for record in rejected:
            self._file.write(json.dumps(record.to_dict()).encode() + b"\n")
        self.count += len(rejected)

    def commit(self) -> dict[str, Any]:
        self._file.flush()
        if self.durable:
            os.fsync(self._file.fileno())
        return {"offset": self._file.tell(), "count": self.count}

    def close(self) -> None:
        self.commit()
        self._file.close()
