"""The matrix covers the plan's scenarios, and runs them warm-up first, repeats interleaved."""

from __future__ import annotations

from harness.study.execute import plan
from harness.study.matrix import FILESYSTEMS, build


def keys(matrix) -> set[str]:
    return {p.key for p in matrix.points}


def test_quick_matrix_covers_every_scenario_the_plan_asks_for():
    matrix = build(quick=True, cores=2, filesystems=FILESYSTEMS)
    k = keys(matrix)

    for fs in FILESYSTEMS:
        assert {
            f"output/{fs}/{layout}/fsync-{f}"
            for layout in ("individual", "collection")
            for f in ("none", "each")
        } <= k
        assert {f"output/{fs}/batched/fsync-none", f"output/{fs}/batched/fsync-batch"} <= k
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
        "pipeline/recommended",
    } <= k
    assert {p.params["fs"] for p in matrix.points if p.scenario == "pipeline"} == {"ext4"}
    profiled = {(p.scenario, p.tool) for p in matrix.points if p.group == "profile"}
    assert profiled == {
        (s, t)
        for s in ("output", "ingest_files", "ingest_api", "pipeline")
        for t in ("py-spy", "memray")
    }


def test_processes_sweep_follows_the_core_count_and_full_adds_the_plans_counts():
    def procs(quick: bool, cores: int) -> set[int]:
        points = build(quick, cores).points
        return {p.params["workers"] for p in points if p.params.get("mode") == "processes"}

    assert procs(True, 3) == {1, 2, 3, 4, 5, 6}
    assert procs(False, 2) == {1, 2, 3, 4, 5, 10, 20}
    assert procs(False, 3) == {1, 2, 3, 4, 5, 6, 10, 20}
    assert keys(build(quick=True, cores=2)) <= keys(build(quick=False, cores=2))


def test_full_output_points_cover_every_layout_and_policy_on_every_filesystem():
    matrix = build(quick=False, cores=2, filesystems=("disk", "xfs"))
    output = [p for p in matrix.points if p.scenario == "output" and p.tool == "none"]
    assert len(output) == 2 * 12
    assert {p.params["fs"] for p in output} == {"disk", "xfs"}
    # fs-major: each filesystem's points run together, so one fresh filesystem serves a round
    order = [p.params["fs"] for p in output]
    assert order == sorted(order, key=("disk", "xfs").index)
    pipeline = {p.params["fs"] for p in matrix.points if p.scenario == "pipeline"}
    assert pipeline == {"disk"}  # no ext4 here: the pipeline stays on the default disk


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
