"""File ingestion: read and parse a directory of JSON files or a JSONL file, in chunks.

Modes are the ones the team compared: `sequential`; `asyncio` (N coroutines, each file read
handed to a thread with `asyncio.to_thread`, parsed on the loop: the usual way to make file
reads "async"); `threads` (N threads); `processes` (N processes, work sent in sub-chunks so
pickling does not dominate). Chunks come out in source order whatever the mode, so the pipeline
can checkpoint by position.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from itertools import islice
from pathlib import Path

from workloads.data import Dataset
from workloads.pipeline.records import PARSERS, Record, parse_record

MODES = ("sequential", "asyncio", "threads", "processes")


def read_parse_files(paths: list[str], parser: str) -> list[Record]:
    """Read and parse each file (runs in a worker thread or process in the concurrent modes)."""
    loads = PARSERS[parser]
    out: list[Record] = []
    append = out.append
    for path in paths:
        with open(path, "rb") as f:
            raw = f.read()
        try:
            value = loads(raw)
        except ValueError:
            value = None  # parse_record below says why
        append(value if type(value) is dict else parse_record(raw, Path(path).name, loads))
    return out


def parse_lines(lines: list[bytes], first_line: int, parser: str) -> list[Record]:
    loads = PARSERS[parser]
    return [parse_record(raw, f"line {first_line + n + 1}", loads) for n, raw in enumerate(lines)]


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


class FileIngest:
    """Reads a Dataset in chunks with the chosen mode; `close()` (or `with`) ends the workers."""

    def __init__(
        self, ds: Dataset, mode: str = "sequential", workers: int = 1, parser: str = "json"
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown ingest mode {mode!r}: use one of {', '.join(MODES)}")
        self.ds, self.mode, self.workers, self.parser = ds, mode, max(1, workers), parser
        self._executor: Executor | None = None
        self._runner: asyncio.Runner | None = None
        if mode == "threads":
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="ingest")
        elif mode == "processes":
            self._executor = ProcessPoolExecutor(self.workers)
        elif mode == "asyncio":
            self._runner = asyncio.Runner()

    def __enter__(self) -> FileIngest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def chunks(self, chunk_size: int, start: int = 0) -> Iterator[list[Record]]:
        """Records [start, count) in order, `chunk_size` at a time."""
        if self.ds.layout == "files":
            paths = self.ds.file_names(start)
            for at in range(0, len(paths), chunk_size):
                yield self._files_chunk(paths[at : at + chunk_size])
            return
        with open(self.ds.path, "rb") as f:
            lines = islice(f, start, None)
            line_no = start
            while batch := list(islice(lines, chunk_size)):
                yield self._lines_chunk(batch, line_no)
                line_no += len(batch)

    def _split(self, units: list) -> list[list]:
        size = max(1, min(64, math.ceil(len(units) / (self.workers * 2))))
        return [units[i : i + size] for i in range(0, len(units), size)]

    def _files_chunk(self, paths: list[str]) -> list[Record]:
        if self.mode == "sequential":
            return read_parse_files(paths, self.parser)
        if self.mode == "asyncio":
            assert self._runner is not None
            return self._runner.run(self._async_files(paths))
        assert self._executor is not None
        parts = self._split(paths)
        results = self._executor.map(read_parse_files, parts, [self.parser] * len(parts))
        return [record for part in results for record in part]

    def _lines_chunk(self, lines: list[bytes], first_line: int) -> list[Record]:
        if self.mode == "sequential":
            return parse_lines(lines, first_line, self.parser)
        parts = self._split(lines)
        firsts = [first_line + sum(len(p) for p in parts[:n]) for n in range(len(parts))]
        if self.mode == "asyncio":
            assert self._runner is not None
            return self._runner.run(self._async_lines(parts, firsts))
        assert self._executor is not None
        results = self._executor.map(parse_lines, parts, firsts, [self.parser] * len(parts))
        return [record for part in results for record in part]

    async def _async_files(self, paths: list[str]) -> list[Record]:
        loads = PARSERS[self.parser]
        results: list[Record | None] = [None] * len(paths)
        next_index = iter(range(len(paths)))

        async def worker() -> None:
            for i in next_index:
                raw = await asyncio.to_thread(_read_bytes, paths[i])
                results[i] = parse_record(raw, Path(paths[i]).name, loads)

        await asyncio.gather(*(worker() for _ in range(self.workers)))
        return results  # type: ignore[return-value]

    async def _async_lines(self, parts: list[list[bytes]], firsts: list[int]) -> list[Record]:
        done = await asyncio.gather(
            *(
                asyncio.to_thread(parse_lines, p, f, self.parser)
                for p, f in zip(parts, firsts, strict=True)
            )
        )
        return [record for part in done for record in part]
