"""Where each run of a study writes: a filesystem in a known state per group of runs.

A group is one scenario's points on one filesystem in one round of repeats. For tmpfs, ext4,
xfs and btrfs each group gets a fresh filesystem, made by the study (outside every monitored
process, so mkfs is never measured) and unmade when the next group starts: every repeat of a
point finds the filesystem with exactly the same history. On the default disk, which the study
cannot remake, each group writes into new directories of one scratch tree from which nothing is
deleted until the last run (deleting thousands of files makes the next file creations several
times dearer for about a minute). Each output group begins and ends with the fsync probe
(harness.study.storage), the same in every round, so its latencies, pooled per filesystem,
bracket the runs they are used to model.
"""

from __future__ import annotations

import itertools
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.study import storage
from workloads import filesystems, mountinfo

PROBE_COUNT = {True: 50, False: 150}  # per pattern, at each end of a group


class GroupUnavailable(Exception):
    """The filesystem of a group could not be made; the message says why."""


class Outputs:
    """Hands out output directories, making and unmaking each group's filesystem."""

    def __init__(self, scratch: Path, quick: bool, console: Console) -> None:
        self.scratch = scratch
        self.quick = quick
        self.console = console
        self.filesystems: dict[str, dict[str, Any]] = {}
        self._samples: dict[str, dict[str, list[float]]] = {}
        self._stack = ExitStack()
        self._key: tuple[str, str, str] | None = None
        self._dir: Path | None = None
        self._failed: dict[tuple[str, str, str], str] = {}
        self._count = itertools.count(1)

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(probe=exc_type is None)

    def directory(self, scenario: str, fs: str, group: str) -> Path:
        """A new, not yet existing output directory for one run of `scenario` on `fs`."""
        key = (scenario, fs, group)
        if key != self._key:
            self._open(key)
        if key in self._failed:
            raise GroupUnavailable(self._failed[key])
        assert self._dir is not None
        return self._dir / f"run-{next(self._count)}"

    def _open(self, key: tuple[str, str, str]) -> None:
        self.close()
        scenario, fs, group = key
        self._key = key
        entry = self.filesystems.setdefault(fs, {"groups": 0})
        if entry.get("problem"):  # said once; later groups of it fail the same way
            self._failed[key] = entry["problem"]
            return
        try:
            if fs == "disk":
                self._dir = self.scratch / f"{scenario}-{group}-{next(self._count)}"
                self._dir.mkdir(parents=True)
                info = {"kind": "disk", "fresh": False, **mountinfo.describe(self._dir)}
            else:
                where = self._stack.enter_context(filesystems.prepared(fs))
                self._dir, info = where.directory, where.info
        except filesystems.FilesystemUnavailable as exc:
            self._failed[key] = str(exc)
            entry.setdefault("problem", str(exc))
            self.console.print(f"[yellow]{exc}[/]: its runs are skipped", soft_wrap=True)
            return
        entry["groups"] += 1
        entry["info"] = {k: v for k, v in info.items() if k not in ("path",)}
        if self._probed():
            self._probe(fs, "start")

    def _probed(self) -> bool:
        return self._key is not None and self._key[0] == "output" and "round" in self._key[2]

    def _probe(self, fs: str, when: str) -> None:
        assert self._dir is not None
        os.sync()  # as before every synced run: each flush then writes the probe's data only
        found = storage.probe(self._dir / f"fsync-probe-{when}", PROBE_COUNT[self.quick])
        pooled = self._samples.setdefault(fs, {p: [] for p in storage.PATTERNS})
        for pattern, samples in found.items():
            pooled[pattern].extend(samples)
        self.filesystems[fs]["fsync"] = {
            p: storage.latency_stats(samples) for p, samples in pooled.items()
        }

    def close(self, probe: bool = True) -> None:
        """Unmake the current group's filesystem (the disk's directories stay until the end),
        after its closing probe unless `probe` is False (the study was interrupted)."""
        try:
            if probe and self._probed() and self._dir is not None and self._key not in self._failed:
                self._probe(self._key[1], "end")
        finally:
            self._stack.close()
            self._stack = ExitStack()
            self._key, self._dir = None, None
