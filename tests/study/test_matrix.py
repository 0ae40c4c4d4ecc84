"""The matrix covers the plan's scenarios, and runs them warm-up first, repeats interleaved."""

from __future__ import annotations

from harness.study.execute import plan
from harness.study.matrix import build


def keys(matrix) -> set[str]:
    return {p.key for p in matrix.points}


def test_quick_matrix_covers_every_scenario_the_plan_asks_for():
    matrix = build(quick=True, cores=2)
    k = keys(matrix)

    assert {
        f"output/{layout}/fsync-{f}"
        for layout in ("individual", "individual-nested", "collection")
        for f in ("none", "each", "end")
    } <= k
    assert {
        "output/batched/fsync-none",
        "output/batched/fsync-batch",
        "output/batched/fsync-end",
    } <= k
    assert {"ingest_files/sequential", "ingest_files/sequential/orjson"} <= k
    assert {f"ingest_files/asyncio-{n}" for n in (5, 10, 20)} <= k
    assert {f"ingest_files/processes-{n}" for n in (1, 2, 3, 4)} <= k
    assert {"ingest_files/threads-1", "ingest_files/threads-2"} <= k
    assert {"ingest_api/sequential", "ingest_api/asyncio-10"} <= k
    assert {
        "pipeline/sequential",
        "pipeline/concurrent",
        "pipeline/concurrent-batched",
        "pipeline/checkpoint",
    } <= k
    profiled = {(p.scenario, p.tool) for p in matrix.points if p.group == "profile"}
    assert profiled == {
        (s, t)
        for s in ("output", "ingest_files", "ingest_api", "pipeline")
        for t in ("py-spy", "memray")
    }


def test_processes_sweep_follows_the_core_count_and_full_is_a_superset():
    assert {
        p.params["workers"] for p in build(True, 3).points if p.params.get("mode") == "processes"
    } == {1, 2, 3, 4, 5, 6}
    assert keys(build(quick=True, cores=2)) <= keys(build(quick=False, cores=2))


def test_api_items_grow_with_concurrency_so_every_run_makes_the_same_rounds():
    matrix = build(quick=True, cores=2)
    api = [p for p in matrix.points if p.key.startswith("ingest_api/asyncio") and p.tool == "none"]

    rounds = {p.params["items"] / (p.params["workers"] * p.params["page_size"]) for p in api}

    assert rounds == {matrix.sizes.api_rounds}


def test_plan_warms_up_each_scenario_then_interleaves_repeats_then_profiles():
    matrix = build(quick=True, cores=2)

    steps = plan(matrix, repeat=2)

    output = [s for s in steps if s.point.scenario == "output"]
    assert output[0].warmup and not any(s.warmup for s in output[1:])
    timed = [s.point.key for s in output if not s.warmup and s.point.tool == "none"]
    half = len(timed) // 2
    assert timed[:half] == timed[half:]  # round one, then round two
    assert [s.last for s in output if not s.warmup and s.point.tool == "none"][half:] == [
        True
    ] * half
    assert [s.point.tool for s in output[-2:]] == ["py-spy", "memray"]
    assert sum(s.warmup for s in steps) == 4
    assert len(steps) == 4 + 2 * sum(p.tool == "none" for p in matrix.points) + 8
