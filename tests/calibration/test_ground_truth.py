"""The ground-truth cases through `harness run --tool none`: the verdict, the CPU share where it is
known by construction, cores used where the machine left them free, and peak memory.

Run-queue wait after a preemption counts as CPU in the verdict (the thread wanted to compute);
after a wake-up it is the neighbours' load and is left out. That keeps these checks as strict on
a busy shared machine as on an idle one: only cores used depends on the neighbours, and only that
figure is skipped when they took the cores.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.summary import load
from tests.calibration.support import RunCase
from workloads.calibration.cases import CASES, FAST_SECONDS


def assert_cpu_share(run, name: str) -> None:
    case = CASES[name]
    assert case.cpu is not None and case.cpu_tolerance is not None
    low, high = case.cpu - case.cpu_tolerance, case.cpu + case.cpu_tolerance
    assert low <= run.cpu_share <= high, run.explain()


def test_pure_python_loop_is_cpu_bound(run_case_once: RunCase) -> None:
    run = run_case_once("cpu_loop", FAST_SECONDS)
    assert run.summary.status == "ok"
    assert run.summary.verdict["bound"] == "cpu", run.explain()
    assert_cpu_share(run, "cpu_loop")


def test_small_appends_with_fsync_are_disk_bound(run_case_once: RunCase) -> None:
    run = run_case_once("fsync_small", FAST_SECONDS)
    run.skip_if_mostly_queued()
    assert run.summary.verdict["bound"] == "disk", run.explain()
    # The device's waits and the kernel's flush on a CPU are both the disk's time; the rest is
    # the loop's own Python: ~7% on a quiet machine, but a 1.5 s run on CPU 0.1 s has ~10 clock
    # ticks to split user from system time, and with both cores loaded it read up to 19%.
    assert run.summary.verdict["shares"]["disk"] >= 0.6, run.explain()
    assert run.summary.causes["shares"].get("kernel:durability", 0) > 0, run.summary.causes


def test_half_compute_half_sleep_is_mixed_with_half_on_cpu(run_case_once: RunCase) -> None:
    run = run_case_once("mix_50_50", FAST_SECONDS)
    assert run.summary.verdict["bound"] == "mixed", run.explain()
    assert 0.4 <= run.cpu_share <= 0.6, run.explain()
    assert_cpu_share(run, "mix_50_50")


@pytest.mark.slow
def test_large_writes_with_fsync_are_disk_bound(run_case_once: RunCase) -> None:
    run = run_case_once("fsync_large")
    assert run.summary.verdict["bound"] == "disk", run.explain()
    assert run.summary.verdict["shares"]["disk"] >= 0.6, run.explain()


@pytest.mark.slow
def test_client_of_slow_loopback_http_is_network_bound(run_case_once: RunCase) -> None:
    run = run_case_once("slow_http")
    assert run.summary.verdict["bound"] == "network", run.explain()
    assert_cpu_share(run, "slow_http")
    monitored = {p["pid"] for p in run.summary.monitor["per_process"]}
    # The double-forked server is the run's too (the harness is a subreaper): counted, and
    # waiting on the network as the client does.
    assert run.result["server_pid"] in monitored, "the server was not counted with the run"


@pytest.mark.slow
def test_four_python_threads_are_gil_bound(run_case_once: RunCase) -> None:
    run = run_case_once("gil_threads")
    assert run.summary.verdict["bound"] == "gil", run.explain()
    assert run.summary.split.lock_wait > run.summary.split.on_cpu, run.explain()


@pytest.mark.slow
def test_pool_of_two_cpu_workers_is_cpu_bound(run_case_once: RunCase) -> None:
    run = run_case_once("process_pool")
    assert run.summary.verdict["bound"] == "cpu", run.explain()


@pytest.mark.slow
def test_pool_of_two_cpu_workers_uses_two_cores(run_case_once: RunCase) -> None:
    run = run_case_once("process_pool")
    run.skip_unless_cores_free()
    assert run.summary.cpu.cores_used >= CASES["process_pool"].min_cores, run.explain()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mix_25_75", "mix_75_25"])
def test_quarter_and_three_quarter_mixes(run_case_once: RunCase, name: str) -> None:
    run = run_case_once(name)
    assert run.summary.verdict["bound"] == CASES[name].bound, run.explain()
    assert_cpu_share(run, name)


@pytest.mark.slow
def test_asyncio_timer_waits_are_sleep(run_case_once: RunCase) -> None:
    run = run_case_once("asyncio_waits")
    assert run.summary.verdict["bound"] == "sleep", run.explain()


@pytest.mark.slow
def test_holding_600_mb_peaks_within_10_percent(run_case_once: RunCase) -> None:
    run = run_case_once("memory_peak")
    case = CASES["memory_peak"]
    assert case.peak_rss_mb is not None
    peak = run.summary.memory.peak_rss_mb
    assert abs(peak / case.peak_rss_mb - 1) <= case.memory_tolerance, run.summary.memory


@pytest.mark.slow
def test_threads_in_c_code_that_releases_the_gil_are_cpu_not_gil(run_case_once: RunCase) -> None:
    run = run_case_once("c_ext_threads")
    assert run.summary.verdict["bound"] == "cpu", run.explain()


@pytest.mark.slow
def test_threads_in_c_code_that_releases_the_gil_use_two_cores(run_case_once: RunCase) -> None:
    run = run_case_once("c_ext_threads")
    run.skip_unless_cores_free()
    assert run.summary.cpu.cores_used >= CASES["c_ext_threads"].min_cores, run.explain()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sqlite_commits", "cold_read"])
def test_storage_that_waits_on_the_device_is_disk_bound(run_case_once: RunCase, name: str) -> None:
    run = run_case_once(name, FAST_SECONDS)
    assert run.summary.verdict["bound"] == "disk", run.explain()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["small_files", "large_writes"])
def test_kernel_file_work_without_device_waits_is_filesystem_bound(
    run_case_once: RunCase, name: str
) -> None:
    run = run_case_once(name, FAST_SECONDS)
    assert run.summary.verdict["bound"] == "filesystem", run.explain()
    assert run.summary.verdict["shares"]["filesystem"] >= 0.6, run.explain()


@pytest.mark.slow
def test_threads_queued_on_a_lock_whose_holder_sleeps_are_lock_bound(run_case_once: RunCase):
    run = run_case_once("lock_chain", FAST_SECONDS)
    assert run.summary.verdict["bound"] == "lock", run.explain()
    assert any("holder sleeps" in line for line in run.summary.verdict["evidence"])


@pytest.mark.slow
def test_cpu_of_threads_too_short_to_sample_is_accounted_for(run_case_once: RunCase) -> None:
    run = run_case_once("short_threads", FAST_SECONDS)
    # Each short thread must get a CPU at once: queued behind other programs, its wait is
    # only its parent's join (a wait on a result), and the CPU it does is the lesser part.
    run.skip_unless_cores_free()
    assert run.summary.verdict["bound"] == "cpu", run.explain()
    cpu = run.summary.cpu.user_s + run.summary.cpu.sys_s
    causes = run.summary.causes
    on_cpu = sum(
        s
        for k, s in causes["seconds"].items()
        if k in ("python", "native", "unattributed") or k.startswith("kernel:")
    )
    assert on_cpu == pytest.approx(cpu, rel=0.05), (on_cpu, cpu, causes)
    assert any("too short-lived to sample" in line for line in run.summary.verdict["evidence"])


def test_every_case_has_a_script_and_a_coherent_truth() -> None:
    for case in CASES.values():
        assert case.script.is_file(), case.name
        if case.cpu_tolerance is not None:
            assert case.cpu is not None and 0 <= case.cpu <= 1, case.name
    assert {c.name for c in CASES.values() if c.fast} == {"cpu_loop", "fsync_small", "mix_50_50"}


@pytest.mark.slow
def test_without_privileges_kernel_time_falls_back_to_blocked_calls_and_stays_disk(
    tmp_path: Path,
) -> None:
    # Root without capabilities, as in a container without CAP_SYS_ADMIN / CAP_PERFMON:
    # no kernel stacks, no perf events, no kernel symbols.
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    harness = Path(sys.executable).with_name("harness")
    case = CASES["fsync_small"]
    done = subprocess.run(
        ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--",
         str(harness), "run", str(case.script), "--tool", "none", "--out", str(tmp_path),
         "--", "--seconds", "2"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = load(next(tmp_path.iterdir()))
    method = summary.causes["method"]
    assert method["stacks_readable"] is False and method["perf_problem"], method
    assert method["kernel_by_blocked_s"] > 0 and method["kernel_by_perf_s"] == 0, method
    assert any("root only" in line for line in summary.verdict["evidence"]), summary.verdict
    if summary.verdict["confidence"] != "low":  # not drowned in the neighbours' load
        assert summary.verdict["bound"] == "disk", summary.verdict
