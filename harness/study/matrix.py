"""The study's scenario matrix: which points answer Q1-Q4, at which sizes.

Each scenario keeps one item count for all its points, so one data set (warmed once) serves
them all; the API points size their items to the concurrency instead, so every run makes the
same few rounds of requests at the server's default latency (the plan's 69 items/s). Workers
sweep from 1, which the scaling fit needs as its base; the full study adds the plan's 5, 10 and
20 processes. Output points repeat on every filesystem that can be made here (fs-major, so each
filesystem's points of one round run together on one fresh filesystem); the pipeline points
run on the reference filesystem, where the recommendation is measured too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCENARIO_ORDER = ("output", "ingest_files", "ingest_api", "pipeline")
PROFILERS = ("py-spy", "memray")
API_PAGE_SIZE = 10
FILESYSTEMS = ("disk", "tmpfs", "ext4", "xfs", "btrfs")
RECOMMENDED_KEY = "pipeline/recommended"  # its parameters are chosen during the study
PLAN_PROCESSES = (5, 10, 20)  # the plan's Task 3 counts
# (layout, nested, fsync policies): the quick study keeps the contrasts that matter per
# filesystem (no fsync against one per item or batch, and batches synced once at the end, the
# candidate a recommendation with checkpoints needs); the full one adds nested and `end` for all.
QUICK_LAYOUTS = (
    ("individual", False, ("none", "each")),
    ("collection", False, ("none", "each")),
    ("batched", False, ("none", "batch", "end")),
)
FULL_LAYOUTS = (
    ("individual", False, ("none", "each", "end")),
    ("individual", True, ("none", "each", "end")),
    ("collection", False, ("none", "each", "end")),
    ("batched", False, ("none", "batch", "end")),
)


def reference_fs(filesystems: tuple[str, ...]) -> str:
    """Where the pipeline and the recommendation run: a fresh journaled ext4 if possible."""
    return "ext4" if "ext4" in filesystems else "disk"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Point:
    """One configuration to measure: a scenario, its `--set` values and the tool."""

    key: str
    scenario: str
    group: str
    label: str
    sets: tuple[tuple[str, Any], ...]
    tool: str = "none"
    repeat: int | None = None  # None: the study's repeat count
    options: tuple[tuple[str, str], ...] = ()

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.sets)

    def set_strings(self) -> list[str]:
        return [f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in self.sets]


@dataclass(frozen=True)
class Sizes:
    output_items: int
    synced_items: int  # output points that fsync every item: as many flushes per run
    ingest_items: int
    pipeline_items: int
    api_rounds: int
    threads: tuple[int, ...]
    asyncio: tuple[int, ...]
    api_workers: tuple[int, ...]
    repeat: int


QUICK = Sizes(2_000, 200, 6_000, 3_000, 4, (1, 2, 4), (1, 5, 10, 20), (5, 10, 20), 3)
FULL = Sizes(
    5_000, 1_000, 10_000, 10_000, 10, (1, 2, 4, 8, 16), (1, 2, 5, 10, 20), (1, 5, 10, 20, 40), 7
)


@dataclass
class Matrix:
    """The points in run order, grouped by scenario (a warm-up run precedes each group)."""

    sizes: Sizes
    cores: int
    points: list[Point] = field(default_factory=list)
    filesystems: tuple[str, ...] = ("disk",)

    def by_scenario(self) -> list[tuple[str, list[Point]]]:
        return [(s, [p for p in self.points if p.scenario == s]) for s in SCENARIO_ORDER]


def _output(sizes: Sizes, quick: bool, filesystems: tuple[str, ...]) -> list[Point]:
    """Layouts x fsync policies on each filesystem. A point that syncs every item writes fewer
    items (at 1-3 ms per flush here a full-size run would take seconds); per-item rates are
    comparable across the two sizes."""
    points = []
    for fs in filesystems:
        for layout, nested, policies in QUICK_LAYOUTS if quick else FULL_LAYOUTS:
            name = "individual nested" if nested else layout
            for fsync in policies:
                items = sizes.synced_items if fsync == "each" else sizes.output_items
                sets: tuple[tuple[str, Any], ...] = (("items", items), ("layout", layout))
                sets += (("nested", True),) if nested else ()
                sets += (("fsync", fsync), ("fs", fs))
                key = f"output/{fs}/{name.replace(' ', '-')}/fsync-{fsync}"
                label = f"{name}, fsync {fsync}, {fs}"
                points.append(Point(key, "output", "layout", label, sets))
    return points


def _ingest(items: int, sizes: Sizes, cores: int, quick: bool) -> list[Point]:
    base = (("items", items),)

    def point(mode: str, workers: int | None, parser: str = "json") -> Point:
        sets = (*base, ("mode", mode))
        label = mode if workers is None else f"{mode}, {_plural(workers, 'worker')}"
        key = f"ingest_files/{mode}" + (f"-{workers}" if workers is not None else "")
        if workers is not None:
            sets += (("workers", workers),)
        if parser != "json":
            sets += (("parser", parser),)
            label += f", {parser}"
            key += f"/{parser}"
        group = "ingest" if parser == "json" else "parser"
        return Point(key, "ingest_files", group, label, sets)

    points = [point("sequential", None), point("sequential", None, "orjson")]
    points += [point("threads", n) for n in sizes.threads]
    procs = list(range(1, 2 * cores + 1))
    procs += [] if quick else [n for n in PLAN_PROCESSES if n > 2 * cores]
    points += [point("processes", n) for n in procs]
    points += [point("asyncio", n) for n in sizes.asyncio]
    if not quick:
        points += [point("processes", cores, "orjson"), point("threads", cores, "orjson")]
    return points


def _api(sizes: Sizes) -> list[Point]:
    def items(workers: int) -> int:
        return API_PAGE_SIZE * sizes.api_rounds * workers

    common = (("page_size", API_PAGE_SIZE),)
    points = [
        Point(
            "ingest_api/sequential",
            "ingest_api",
            "api",
            "sequential",
            (("items", items(1)), ("mode", "sequential"), *common),
        )
    ]
    for n in sizes.api_workers:
        points.append(
            Point(
                f"ingest_api/asyncio-{n}",
                "ingest_api",
                "api",
                f"asyncio, {n} in flight",
                (("items", items(n)), ("mode", "asyncio"), ("workers", n), *common),
            )
        )
    return points


def _pipeline(items: int, cores: int, fs: str) -> list[Point]:
    base = (("items", items), ("fs", fs))
    concurrent = (("ingest_mode", "processes"), ("workers", cores))
    variants = (
        ("sequential", "sequential", ()),
        ("batched", "sequential ingest, batched output", (("output_layout", "batched"),)),
        ("concurrent", f"processes ingest ({cores}), individual output", concurrent),
        (
            "concurrent-batched",
            f"processes ingest ({cores}), batched output",
            (*concurrent, ("output_layout", "batched")),
        ),
        ("checkpoint", "sequential, checkpoint every 500", (("checkpoint_every", 500),)),
    )
    points = [
        Point(f"pipeline/{key}", "pipeline", "pipeline", label, base + extra)
        for key, label, extra in variants
    ]
    label = "recommended configuration (chosen from the points measured before it)"
    return [*points, Point(RECOMMENDED_KEY, "pipeline", "pipeline", label, base)]


def representatives(matrix: Matrix) -> list[Point]:
    """One run per scenario under each profiler, for flame graphs and the Q1 cross-check."""
    chosen = {
        "output": "output/disk/individual/fsync-none",
        "ingest_files": "ingest_files/sequential",
        "ingest_api": "ingest_api/asyncio-10",
        "pipeline": "pipeline/sequential",
    }
    keys = {p.key: p for p in matrix.points}
    out = []
    for scenario, key in chosen.items():
        base = keys.get(key) or next((p for p in matrix.points if p.scenario == scenario), None)
        if base is None:
            continue
        for tool in PROFILERS:
            options = (("rate", "250"),) if tool == "py-spy" else ()
            out.append(
                Point(
                    f"{base.key}/{tool}",
                    scenario,
                    "profile",
                    f"{base.label}, under {tool}",
                    base.sets,
                    tool=tool,
                    repeat=1,
                    options=options,
                )
            )
    return out


def build(quick: bool, cores: int, filesystems: tuple[str, ...] = ("disk",)) -> Matrix:
    """The full matrix (or the quick one: smaller sizes and sweeps), profiler runs included,
    with output points on each of `filesystems` (those that can be made here)."""
    sizes = QUICK if quick else FULL
    matrix = Matrix(sizes, cores, filesystems=filesystems)
    matrix.points = [
        *_output(sizes, quick, filesystems),
        *_ingest(sizes.ingest_items, sizes, cores, quick),
        *_api(sizes),
        *_pipeline(sizes.pipeline_items, cores, reference_fs(filesystems)),
    ]
    matrix.points += representatives(matrix)
    return matrix
