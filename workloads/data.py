"""Deterministic synthetic items, written once per (count, seed, layout, corrupt rate) and cached.

An item is about 1 KB of JSON shaped like a real ingestion record: a stable `id`, timestamps,
a nested `attributes` object of 10-20 fields, a list of tags and free text. The same
(index, seed) always gives the same item, so the API server, the file layouts and the tests
agree on what "every item exactly once" means.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

LAYOUTS = ("files", "jsonl")
CORRUPT_KINDS = ("bad_json", "missing_field", "wrong_type")
REQUIRED_FIELDS = ("id", "seq", "created_at", "updated_at", "source", "attributes", "tags", "text")

_WORDS = (
    "ingest pipeline record batch sensor latency window shard replica cursor offset partition "
    "payload schema metric event stream buffer commit checkpoint region tenant device reading "
    "anomaly threshold sample upstream downstream retry backoff quota token archive"
).split()
_TAGS = ("alpha", "beta", "prod", "staging", "eu", "us", "apac", "hot", "cold", "audit", "pii")
_SOURCES = tuple(f"sensor-{n:02d}" for n in range(24))
_EPOCH_2026 = 1_767_225_600  # 2026-01-01T00:00:00Z


def item_id(index: int) -> str:
    return f"item-{index:07d}"


def _iso(ts: int) -> str:
    # Hand-rolled to keep generation cheap and independent of the local time zone.
    days, rem = divmod(ts - _EPOCH_2026, 86_400)
    month_days = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    month = 0
    while days >= month_days[month % 12]:
        days -= month_days[month % 12]
        month += 1
    year = 2026 + month // 12
    hh, rem = divmod(rem, 3600)
    mm, ss = divmod(rem, 60)
    return f"{year:04d}-{month % 12 + 1:02d}-{days + 1:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z"


def make_item(index: int, seed: int) -> dict:
    """The valid item at `index` for `seed`: about 1 KB once serialised."""
    rng = random.Random(seed * 1_000_003 + index)
    created = _EPOCH_2026 + rng.randrange(0, 300 * 86_400)
    attributes: dict[str, object] = {
        "priority": rng.randrange(1, 6),
        "score": round(rng.uniform(0, 100), 3),
        "temperature_c": round(rng.gauss(21.0, 4.0), 2),
        "humidity_pct": round(rng.uniform(10, 90), 1),
        "active": rng.random() < 0.8,
        "region": rng.choice(("eu-west", "us-east", "ap-south", "sa-east")),
        "owner_email": f"{rng.choice(_WORDS)}.{rng.randrange(1000)}@example.com",
        "version": f"{rng.randrange(1, 4)}.{rng.randrange(10)}.{rng.randrange(20)}",
        "retries": rng.randrange(0, 4),
        "latency_ms": rng.randrange(1, 900),
    }
    for n in range(rng.randrange(0, 11)):
        attributes[f"extra_{n}"] = rng.choice(_WORDS) + "-" + str(rng.randrange(10_000))
    text_words = [rng.choice(_WORDS) for _ in range(rng.randrange(45, 70))]
    return {
        "id": item_id(index),
        "seq": index,
        "created_at": _iso(created),
        "updated_at": _iso(created + rng.randrange(0, 7 * 86_400)),
        "source": rng.choice(_SOURCES),
        "attributes": attributes,
        "tags": rng.sample(_TAGS, rng.randrange(1, 5)),
        "text": " ".join(text_words).capitalize() + ".",
    }


def corrupt_indices(count: int, seed: int, rate: float) -> dict[int, str]:
    """Which indices are malformed for this corrupt rate, and how: index -> kind."""
    if rate <= 0:
        return {}
    rng = random.Random(seed * 7_919 + 17)
    chosen = rng.sample(range(count), min(count, round(count * rate)))
    return {index: CORRUPT_KINDS[n % len(CORRUPT_KINDS)] for n, index in enumerate(chosen)}


def corrupt_item(item: dict, kind: str) -> dict:
    """A parseable but invalid variant of `item` (the API serves these; bad JSON needs a file)."""
    broken = dict(item)
    if kind == "missing_field":
        del broken["created_at"]
    else:  # wrong_type, and bad_json where the record must stay JSON
        broken["seq"] = f"#{item['seq']}"
    return broken


def record_bytes(index: int, seed: int, kind: str | None) -> bytes:
    """The serialised record at `index`, malformed as `kind` says (None: valid)."""
    item = make_item(index, seed)
    if kind is None:
        return json.dumps(item).encode()
    if kind == "bad_json":
        text = json.dumps(item)
        return text[: len(text) // 2].encode()
    return json.dumps(corrupt_item(item, kind)).encode()


@dataclass(frozen=True)
class Dataset:
    """A generated data set on disk: a directory of files or one JSONL file."""

    path: Path
    layout: str
    count: int
    seed: int
    corrupt_rate: float

    def files(self) -> list[Path]:
        """The item files in index order (layout `files`)."""
        return [self.path / f"{item_id(i)}.json" for i in range(self.count)]

    def file_names(self, start: int = 0) -> list[str]:
        """The same paths as plain strings: cheap enough to build inside a timed run."""
        base = str(self.path)
        return [f"{base}/item-{i:07d}.json" for i in range(start, self.count)]


def default_cache_dir() -> Path:
    env = os.environ.get("PIPEPROF_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pipeprof" / "data"


def _location(
    count: int, seed: int, layout: str, corrupt_rate: float, cache_dir: Path | None
) -> tuple[Path, str, Path]:
    """(cache root, the data set's name, its directory) for these settings."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown data layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    name = f"{layout}-n{count}-s{seed}-c{corrupt_rate:g}"
    return root, name, root / name


def is_cached(
    count: int, seed: int, layout: str, corrupt_rate: float, cache_dir: Path | None = None
) -> bool:
    """Whether dataset() with these settings would find the data set already made."""
    return (_location(count, seed, layout, corrupt_rate, cache_dir)[2] / ".complete").exists()


def dataset(
    count: int,
    seed: int = 42,
    layout: str = "files",
    corrupt_rate: float = 0.0,
    cache_dir: Path | None = None,
) -> Dataset:
    """The cached data set for these settings, generated (atomically) on first use."""
    root, name, target = _location(count, seed, layout, corrupt_rate, cache_dir)
    final = target if layout == "files" else target / "items.jsonl"
    ds = Dataset(final, layout, count, seed, corrupt_rate)
    if (target / ".complete").exists():
        return ds
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        _write(staging, layout, count, seed, corrupt_rate)
        (staging / ".complete").touch()
        try:
            staging.rename(target)
        except OSError:
            if not (target / ".complete").exists():  # lost a race to a concurrent writer?
                shutil.rmtree(target, ignore_errors=True)
                staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ds


def _write(directory: Path, layout: str, count: int, seed: int, corrupt_rate: float) -> None:
    bad = corrupt_indices(count, seed, corrupt_rate)
    if layout == "files":
        for i in range(count):
            (directory / f"{item_id(i)}.json").write_bytes(record_bytes(i, seed, bad.get(i)))
        return
    with open(directory / "items.jsonl", "wb") as out:
        for i in range(count):
            out.write(record_bytes(i, seed, bad.get(i)) + b"\n")
