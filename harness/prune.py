"""Keep a profiles root bounded for months: choose whole run directories to remove, oldest
first, and remove them.

Never removed: a run in progress (its directory's lock is held: rundir.in_progress), and,
unless asked (`include_referenced`), a run that a study or a compare page under the root still
references. A study references the runs listed in its study.json; a study directory without a
readable study.json (still running, or stopped) references every run under it. A compare page
references its two runs through the record beside it (compare.RECORD_SUFFIX); a reference held
by a file inside a run that is itself removed does not count.

The rules given add up: a run goes if it is beyond the `keep` newest, older than `older_than`,
or among the oldest that must go for the root to fit in `max_size`.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import rundir
from harness.compare import RECORD_KIND, RECORD_SUFFIX
from harness.errors import HarnessError
from harness.study.results import STUDY_NAME
from harness.study.results import load as load_study
from harness.summary import MANIFEST_NAME, SUMMARY_NAME, find_runs

_AGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", re.IGNORECASE)
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZE_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
_STAMP = re.compile(r"^(\d{8}T\d{6}Z)")
_SUFFIX = re.compile(r"-(\d+)$")  # tool names never end in digits: this is rundir's -N
_STUDY_DIR = re.compile(r"^study-\d{8}T\d{6}Z(-\d+)?$")
MAX_AGE_S = 100 * 365 * 86400


def parse_age(text: str) -> timedelta:
    """'30d', '12h', '90m', '45s', '2w' -> a timedelta; HarnessError (exit 2) otherwise."""
    m = _AGE.fullmatch(text)
    seconds = float(m.group(1)) * _AGE_UNITS[m.group(2).lower()] if m else -1
    if not 0 <= seconds <= MAX_AGE_S:
        raise HarnessError(
            f"--older-than {text!r}: write a number and a unit (s, m, h, d, w) up to 100 years, "
            "e.g. 30d or 12h"
        )
    return timedelta(seconds=seconds)


def parse_size(text: str) -> int:
    """'5GB', '500M', '1.5GiB', '2048' (bytes) -> bytes (K, M, G, T are powers of 1024)."""
    m = _SIZE.fullmatch(text)
    if not m or float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()] > 2**60:
        raise HarnessError(
            f"--max-size {text!r}: write a number and a unit (K, M, G, T; powers of 1024), "
            "e.g. 5GB or 500MB"
        )
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])


def disk_usage(path: Path) -> int:
    """Bytes `path` occupies on disk (allocated blocks; a hard-linked file counted once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    stack = [str(path)]
    while stack:
        top = stack.pop()
        try:
            st = os.lstat(top)
        except OSError:
            continue
        if st.st_nlink > 1:
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
        total += st.st_blocks * 512
        if os.path.isdir(top) and not os.path.islink(top):
            try:
                stack += [e.path for e in os.scandir(top)]
            except OSError:
                continue
    return total


def human_size(n: int) -> str:
    """Bytes as B, KB, MB or GB (powers of 1024, as --max-size reads them)."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"


def run_started(run_dir: Path) -> datetime:
    """When the run began: its summary's started_at, its manifest's created_at, the stamp in
    its name, or else its directory's mtime."""
    for name, key in ((SUMMARY_NAME, "started_at"), (MANIFEST_NAME, "created_at")):
        try:
            value = json.loads((run_dir / name).read_text()).get(key)
            started = datetime.fromisoformat(value)
            return started if started.tzinfo else started.replace(tzinfo=UTC)
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    m = _STAMP.match(run_dir.name)
    if m:
        return datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    try:
        return datetime.fromtimestamp(run_dir.stat().st_mtime, UTC)
    except OSError:
        return datetime.now(UTC)


@dataclass
class Run:
    path: Path
    started: datetime
    size: int
    in_progress: bool

    @property
    def key(self) -> Path:
        return self.path.resolve()


def _age_order(run: Run) -> tuple[datetime, str, int]:
    """Oldest first; runs of the same second by name, then by the -N a name collision adds."""
    m = _SUFFIX.search(run.path.name)
    base = run.path.name[: m.start()] if m else run.path.name
    return run.started, base, int(m.group(1)) if m else 1


@dataclass(frozen=True)
class Reference:
    """`source` (a study.json or a compare record) still needs the run at `target`."""

    source: Path
    target: Path
    label: str


@dataclass
class Plan:
    root: Path
    root_size: int
    runs: list[Run]
    remove: list[Run] = field(default_factory=list)
    referenced: dict[Path, list[str]] = field(default_factory=dict)  # kept for these reasons
    warnings: list[str] = field(default_factory=list)

    @property
    def in_progress(self) -> list[Run]:
        return [r for r in self.runs if r.in_progress]

    @property
    def kept_referenced(self) -> list[Run]:
        gone = {r.key for r in self.remove}
        return [r for r in self.runs if r.key in self.referenced and r.key not in gone]


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _study_references(root: Path, runs: list[Run], warnings: list[str]) -> list[Reference]:
    refs: list[Reference] = []
    for study_dir in sorted(p for p in root.rglob("study-*") if p.is_dir()):
        if not _STUDY_DIR.match(study_dir.name) or (study_dir / SUMMARY_NAME).exists():
            continue
        label = f"study {study_dir.relative_to(root)}"
        inside = [r.key for r in runs if _under(r.key, study_dir.resolve())]
        path = study_dir / STUDY_NAME
        if not path.exists():
            refs += [
                Reference(path, k, f"{label} (no study.json: running or stopped)") for k in inside
            ]
            continue
        try:
            study = load_study(path)
            dirs = [rec.dir for p in study.points for rec in p.runs]
            dirs += [rec.dir for rec in study.warmups]
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            warnings.append(f"{path}: unreadable ({exc}); all {len(inside)} runs under it kept")
            refs += [Reference(path, k, f"{label} (unreadable study.json)") for k in inside]
            continue
        for d in dirs:
            if isinstance(d, str) and d:
                refs.append(Reference(path, (study_dir / d).resolve(), label))
    return refs


def _compare_references(root: Path, warnings: list[str]) -> list[Reference]:
    refs: list[Reference] = []
    for path in sorted(root.rglob(f"*{RECORD_SUFFIX}")):
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict) or data.get("kind") != RECORD_KIND:
                raise ValueError("not a compare record")
            names = [*data.get("runs_relative", []), *data.get("runs", [])]
            targets = {(path.parent / str(n)).resolve() for n in names}
        except (OSError, ValueError, TypeError) as exc:
            warnings.append(f"{path}: unreadable compare record ({exc}); ignored")
            continue
        label = f"compare {path.relative_to(root).with_name(str(data.get('html', path.name)))}"
        refs += [Reference(path, t, label) for t in targets]
    return refs


def _select(
    candidates: list[Run],
    root_size: int,
    keep: int | None,
    older_than: timedelta | None,
    max_size: int | None,
    now: datetime,
) -> list[Run]:
    """Of `candidates` (oldest first), those the rules remove, oldest first."""
    chosen: dict[Path, Run] = {}
    if keep is not None:
        chosen.update((r.key, r) for r in candidates[: max(0, len(candidates) - keep)])
    if older_than is not None:
        chosen.update((r.key, r) for r in candidates if now - r.started > older_than)
    if max_size is not None:
        size = root_size - sum(r.size for r in chosen.values())
        for r in candidates:
            if size <= max_size:
                break
            if r.key not in chosen:
                chosen[r.key] = r
                size -= r.size
    return [r for r in candidates if r.key in chosen]


def plan(
    root: Path,
    keep: int | None = None,
    older_than: timedelta | None = None,
    max_size: int | None = None,
    include_referenced: bool = False,
    now: datetime | None = None,
) -> Plan:
    """What a prune of `root` with these rules removes (nothing is touched)."""
    now = now or datetime.now(UTC)
    runs = [
        Run(d, run_started(d), disk_usage(d), rundir.is_in_progress(d)) for d in find_runs(root)
    ]
    runs.sort(key=_age_order)
    result = Plan(root, disk_usage(root), runs)
    refs: list[Reference] = []
    if not include_referenced:
        refs = _study_references(root, runs, result.warnings)
        refs += _compare_references(root, result.warnings)
    free = [r for r in runs if not r.in_progress]
    while True:  # a reference held by a file inside a removed run goes with it
        gone = [r.key for r in result.remove]
        live = [
            x
            for x in refs  # a page inside a run does not hold that run, nor a removed run's page
            if not _under(x.source.resolve(), x.target)
            and not any(_under(x.source.resolve(), g) for g in gone)
        ]
        result.referenced = {}
        for x in live:
            result.referenced.setdefault(x.target, []).append(x.label)
        candidates = [r for r in free if r.key not in result.referenced]
        chosen = _select(candidates, result.root_size, keep, older_than, max_size, now)
        if [r.key for r in chosen] == gone:
            return result
        result.remove = chosen


@contextmanager
def _locked_if_free(run_dir: Path) -> Iterator[bool]:
    """Hold the run's lock while removing it; False if a harness holds it (it is running)."""
    try:
        fd = os.open(run_dir / rundir.LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def remove(chosen: list[Run]) -> tuple[list[Run], list[str]]:
    """Remove the chosen runs; the ones removed and one warning per one that could not be."""
    removed, warnings = [], []
    for run in chosen:
        with _locked_if_free(run.path) as free:
            if not free:
                warnings.append(f"{run.path}: started running meanwhile; kept")
                continue
            try:
                shutil.rmtree(run.path)
            except OSError as exc:
                warnings.append(f"{run.path}: could not remove it ({exc.strerror or exc})")
                continue
        removed.append(run)
    return removed, warnings
