"""How lean the scenarios are: each scenario's throughput against a minimal loop doing the same
work (bench.loops), run interleaved on the same cached data set. A ratio of 1 means the
pipeline's machinery costs nothing; the target is >= 0.8.

Outputs go to fresh directories that are all removed at the end of the section, not after each
run: on this journal-less ext4, creating files where many were deleted less than a minute ago
costs several times more, and would measure the deleting, not the writing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import runs
from bench.pairs import Progress, Sample, interleave, ratio
from harness import stats
from workloads import data
from workloads.api_server import TOKEN_ENV, ApiServerProcess

TARGET = 0.8
#: scenario -> (items, its options); bench.loops has a loop of the same name. Sizes make each
#: run take about half a second here, long enough for fixed costs and timer noise to fade.
CASES: dict[str, tuple[int, list[str]]] = {
    "ingest_files": (20_000, ["--mode", "sequential", "--parser", "json", "--layout", "files"]),
    "output": (5_000, ["--layout", "individual", "--fsync", "none", "--encoder", "json"]),
    "pipeline": (6_000, ["--source", "files", "--ingest-mode", "sequential", "--parser", "json",
                         "--output-layout", "individual", "--fsync", "none"]),
    "ingest_api": (8_000, ["--mode", "sequential", "--latency-ms", "0"]),
}  # fmt: skip
MODULES = {"pipeline": "workloads.pipeline"}
WRITES = ("output", "pipeline")


def _fresh(root: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=root)) / "out"


def efficiency(pairs: int, scratch: Path, say: Progress) -> list[dict[str, Any]]:
    """Scenario / minimal loop, in items per second, for every scenario."""
    rows = []
    outputs = Path(tempfile.mkdtemp(prefix="outputs-", dir=scratch))
    try:
        for name, (items, options) in CASES.items():
            say(f"efficiency of {name} ({items} items)")
            rows.append(_one(name, items, options, pairs, outputs, say))
    finally:
        shutil.rmtree(outputs, ignore_errors=True)
    return rows


def _one(
    name: str, items: int, options: list[str], pairs: int, outputs: Path, say: Progress
) -> dict[str, Any]:
    cache = data.default_cache_dir()
    layout = "jsonl" if name == "output" else "files"
    if name != "ingest_api":
        data.dataset(items, 42, layout, cache_dir=cache)  # generated once, before any clock
    common = ["--items", str(items), "--data-dir", str(cache)]
    server = None
    env = None
    if name == "ingest_api":
        server = ApiServerProcess(items=items, latency_ms=0.0)
        server.start()
        common += ["--api-url", server.url]
        env = {**os.environ, TOKEN_ENV: server.token}
    try:
        scenario = ["-m", MODULES.get(name, f"workloads.{name}"), *common, *options]
        loop = ["-m", "bench.loops", name, *common]

        def arm(argv: list[str]) -> Callable[[], Sample]:
            if name in WRITES:
                return lambda: runs.bare([*argv, "--out-dir", str(_fresh(outputs))], env)
            return lambda: runs.bare(argv, env)

        got = interleave({"scenario": arm(scenario), "loop": arm(loop)}, pairs, True, say)
    finally:
        if server is not None:
            server.stop()
    per_s = ratio(got["scenario"], got["loop"], "items_per_s")
    loop_rate = stats.median(s.items_per_s for s in got["loop"])
    return {
        "section": "efficiency",
        "figure": f"{name} / minimal loop",
        "workload": " ".join(options),
        "items_per_s_ratio": per_s.to_dict(),
        "target": f">= {TARGET:g}",
        "meets": None if per_s.median is None else per_s.median >= TARGET,
        "loop_items_per_s": None if loop_rate is None else round(loop_rate, 1),
        "items": items,
    }
