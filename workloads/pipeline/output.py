"""Output writers: one file per item, one collection file, or batches of B items per file.

Every writer supports the four fsync policies (`none`, `each`, `batch`, `end`) and a
`commit()` that makes what was written so far recoverable and returns the state a checkpoint
needs to resume from there without writing an item twice. Under every policy but `none` a
commit also makes the items so far durable, so a checkpoint never records a position whose
items a power cut could still take back: with `end`, a crash costs at most the items since
the last checkpoint (redone on resume), not the whole run. `none` promises nothing beyond the
page cache (a killed process loses nothing; a power cut may).
- individual files are named by item id, so rewriting after a crash replaces, never duplicates;
- the collection is appended to a temp file whose committed length the checkpoint records
  (resume truncates to it) and renamed into place when complete;
- batch files are written whole to a temp name and renamed, named by their first position.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

LAYOUTS = ("individual", "collection", "batched")
FSYNC_POLICIES = ("none", "each", "batch", "end")
ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "json": lambda obj: json.dumps(obj).encode(),
    "orjson": orjson.dumps,
}
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def syncfs(path: Path) -> None:
    """Flush the whole filesystem holding `path` (what `end` means for many small files)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if _libc.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Writer(ABC):
    """Writes transformed items; `commit()` returns resumable state, `close()` finishes."""

    def __init__(
        self,
        out_dir: Path,
        fsync: str = "none",
        encoder: str = "json",
        batch_size: int = 100,
        fmt: str = "jsonl",
        start: int = 0,
        state: dict[str, Any] | None = None,
    ) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ValueError(
                f"unknown fsync policy {fsync!r}: use one of {', '.join(FSYNC_POLICIES)}"
            )
        self.out_dir, self.fsync, self.batch_size, self.fmt = out_dir, fsync, batch_size, fmt
        self.encode = ENCODERS[encoder]
        self.position = start
        self.items_written = 0
        out_dir.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def write(self, items: list[dict[str, Any]]) -> None: ...

    @abstractmethod
    def commit(self) -> dict[str, Any]: ...

    @abstractmethod
    def close(self) -> None: ...


class IndividualWriter(Writer):
    """One file per item under `items/`, or (`nested`) one mkdir'd directory per item."""

    def __init__(self, out_dir: Path, *, nested: bool = False, **kwargs: Any) -> None:
        super().__init__(out_dir, **kwargs)
        self.nested = nested
        self.items_dir = out_dir / "items"
        self.items_dir.mkdir(exist_ok=True)
        self._pending: list[int] = []  # open fds awaiting a batch fsync
        self._dirs_touched = False

    def _path(self, item_id: str) -> str:
        if not self.nested:
            return f"{self.items_dir}/{item_id}.json"
        directory = f"{self.items_dir}/{item_id}"
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass  # a resumed run rewriting an item
        return f"{directory}/item.json"

    def write(self, items: list[dict[str, Any]]) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        for item in items:
            fd = os.open(self._path(item["id"]), flags, 0o644)
            try:
                write_all(fd, self.encode(item))
                if self.fsync == "each":
                    os.fsync(fd)
            except BaseException:
                os.close(fd)
                raise
            if self.fsync == "batch":
                self._pending.append(fd)
                if len(self._pending) >= self.batch_size:
                    self._sync_pending()
            else:
                os.close(fd)
        self.items_written += len(items)
        self.position += len(items)
        self._dirs_touched = True

    def _sync_pending(self) -> None:
        pending, self._pending = self._pending, []
        try:
            for fd in pending:
                os.fsync(fd)
        finally:
            for fd in pending:
                os.close(fd)

    def commit(self) -> dict[str, Any]:
        self._sync_pending()
        if self.fsync in ("each", "batch") and self._dirs_touched:
            fsync_dir(self.items_dir)
            self._dirs_touched = False
        elif self.fsync == "end" and self._dirs_touched:
            syncfs(self.items_dir)  # one flush for every file since the last commit
            self._dirs_touched = False
        return {}

    def close(self) -> None:
        self.commit()


class CollectionWriter(Writer):
    """All items in `collection.json` (one array) or `collection.jsonl`, renamed in when done."""

    def __init__(self, out_dir: Path, **kwargs: Any) -> None:
        super().__init__(out_dir, **kwargs)
        self.final = out_dir / f"collection.{self.fmt}"
        self.tmp = out_dir / f"collection.{self.fmt}.tmp"
        state = kwargs.get("state")
        if state:
            self._file = open(self.tmp, "r+b")  # noqa: SIM115 - lives as long as the writer
            self._file.truncate(state["offset"])
            self._file.seek(state["offset"])
            self._count = state["count"]
        else:
            self._file = open(self.tmp, "wb")  # noqa: SIM115
            self._count = 0
            if self.fmt == "json":
                self._file.write(b"[\n")
        self._since_sync = 0

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._since_sync = 0

    def write(self, items: list[dict[str, Any]]) -> None:
        sep = b",\n" if self.fmt == "json" else b"\n"
        for item in items:
            data = self.encode(item)
            if self.fmt == "json":
                self._file.write(sep + data if self._count else data)
            else:
                self._file.write(data + sep)
            self._count += 1
            self._since_sync += 1
            if self.fsync == "each" or (
                self.fsync == "batch" and self._since_sync >= self.batch_size
            ):
                self._sync()
        self.items_written += len(items)
        self.position += len(items)

    def commit(self) -> dict[str, Any]:
        if self.fsync == "none":
            self._file.flush()
        else:
            self._sync()
        return {"offset": self._file.tell(), "count": self._count}

    def close(self) -> None:
        if self.fmt == "json":
            self._file.write(b"\n]\n")
        self._file.flush()
        if self.fsync != "none":
            os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.tmp, self.final)
        if self.fsync != "none":
            fsync_dir(self.out_dir)


class BatchedWriter(Writer):
    """B items per file, `batch-<first position>.<fmt>`, each written to a temp name and renamed."""

    def __init__(self, out_dir: Path, **kwargs: Any) -> None:
        super().__init__(out_dir, **kwargs)
        self.batches_dir = out_dir / "batches"
        self.batches_dir.mkdir(exist_ok=True)
        for stale in self.batches_dir.glob("*.tmp"):  # left by a crash mid-batch
            stale.unlink()
        self._buffer: list[dict[str, Any]] = []
        self._flushed = self._synced = self.position

    def _flush(self, count: int) -> None:
        items, self._buffer = self._buffer[:count], self._buffer[count:]
        if self.fmt == "json":
            data = b"[\n" + b",\n".join(map(self.encode, items)) + b"\n]\n"
        else:
            data = b"".join(self.encode(item) + b"\n" for item in items)
        final = self.batches_dir / f"batch-{self._flushed:08d}.{self.fmt}"
        tmp = final.with_name(final.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            write_all(fd, data)
            if self.fsync in ("each", "batch"):
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        if self.fsync in ("each", "batch"):
            fsync_dir(self.batches_dir)
        self._flushed += len(items)

    def write(self, items: list[dict[str, Any]]) -> None:
        self._buffer.extend(items)
        while len(self._buffer) >= self.batch_size:
            self._flush(self.batch_size)
        self.items_written += len(items)
        self.position += len(items)

    def commit(self) -> dict[str, Any]:
        if self._buffer:
            self._flush(len(self._buffer))
        if self.fsync == "end" and self._flushed > self._synced:
            syncfs(self.batches_dir)
            self._synced = self._flushed
        return {}

    def close(self) -> None:
        self.commit()


def make_writer(layout: str, out_dir: Path, *, nested: bool = False, **kwargs: Any) -> Writer:
    """The writer for `layout`; kwargs: fsync, encoder, batch_size, fmt, start, state."""
    if layout == "individual":
        return IndividualWriter(out_dir, nested=nested, **kwargs)
    if layout == "collection":
        return CollectionWriter(out_dir, **kwargs)
    if layout == "batched":
        return BatchedWriter(out_dir, **kwargs)
    raise ValueError(f"unknown output layout {layout!r}: use one of {', '.join(LAYOUTS)}")
