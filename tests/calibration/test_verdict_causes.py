"""The verdict by cause, on synthetic monitor reports across the range a machine can show.

The fsync loop is the case that flipped: 30-50% of its time is the kernel's flush on a CPU,
depending on the day, and counted as cpu that made a disk-bound loop "mixed". Here the same
loop is fed with every kernel share from 20% to 70%: its bound must not move.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.sections import SPLIT_KEYS
from harness.verdict import decide
from harness.verdict.evidence import method

KEYS = SPLIT_KEYS


def report(
    shares: dict[str, float],
    *,
    device_by_family: dict[str, float] | None = None,
    lock_chains: dict[str, float] | None = None,
    unseen: tuple[float, float] = (0.0, 0.0),
    threads: int = 1,
    wall: float = 3.0,
    ctx: dict[str, int] | None = None,
    stacks_readable: bool = True,
) -> dict[str, Any]:
    """A monitor report (as assemble passes it to decide) whose causes have these shares."""
    assert abs(sum(shares.values()) - 1) < 1e-6, shares
    thread_time = wall * threads
    on_cpu = sum(v for k, v in shares.items() if k in ("python", "native", "unattributed"))
    on_cpu += sum(v for k, v in shares.items() if k.startswith("kernel:"))
    split = dict.fromkeys(KEYS, 0.0)
    split.update(
        on_cpu=on_cpu,
        cpu_wait=shares.get("queued", 0.0),
        disk_wait=shares.get("device", 0.0),
        network_wait=shares.get("network", 0.0),
        lock_wait=shares.get("gil", 0.0) + shares.get("lock", 0.0),
        sleep=shares.get("sleep", 0.0),
        other=shares.get("other", 0.0) + shares.get("child", 0.0),
    )
    kernel_s = sum(v for k, v in shares.items() if k.startswith("kernel:")) * thread_time
    return {
        "wall_s": wall,
        "thread_time_s": thread_time,
        "split": split,
        "seconds": {k: v * thread_time for k, v in split.items()},
        "cpu": {"cores_used": on_cpu * threads},
        "threads": [{"pid": 1, "tid": t, "parked": False} for t in range(threads)],
        "ctx_switches": ctx or {"voluntary": 1000, "involuntary": 10},
        "causes": {
            "thread_time_s": thread_time,
            "seconds": {k: v * thread_time for k, v in shares.items()},
            "shares": dict(shares),
            "device_by_family": {k: v * thread_time for k, v in (device_by_family or {}).items()},
            "lock_chains": {k: v * thread_time for k, v in (lock_chains or {}).items()},
            "unseen": {"user_s": unseen[0], "sys_s": unseen[1]},
            "unattributed_s": unseen[1],
            "method": {
                "kernel_by_stack_s": kernel_s if stacks_readable else 0.0,
                "kernel_by_blocked_s": 0.0 if stacks_readable else kernel_s,
                "kernel_unknown_s": 0.0,
                "stack_samples": 200 if stacks_readable else 0,
                "stacks_readable": stacks_readable,
            },
        },
    }


@pytest.mark.parametrize("kernel", [0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.70])
@pytest.mark.parametrize("stacks_readable", [True, False])
def test_an_fsync_loop_is_disk_bound_whatever_share_the_flush_takes_on_a_cpu(
    kernel: float, stacks_readable: bool
) -> None:
    # Given: 100-byte appends + fsync; the kernel's flush is 20-70% of the time on a CPU,
    # python 3%, a little write(), a little queueing after wake-ups.
    device = 1.0 - kernel - 0.03 - 0.02
    monitor = report(
        {
            "python": 0.03,
            "kernel:durability": kernel * 0.95,
            "kernel:file_data": kernel * 0.05,
            "device": device,
            "queued": 0.02,
        },
        device_by_family={"durability": device},
        stacks_readable=stacks_readable,
    )

    verdict = decide(monitor, cpu_count=2)

    assert verdict.bound == "disk", verdict.evidence
    assert verdict.shares["disk"] >= 0.9
    assert "fsync" in verdict.advice and "orjson" not in verdict.advice
    assert any("the kernel's flush on a CPU" in line for line in verdict.evidence)


def test_sqlite_committing_each_row_is_disk_bound() -> None:
    # synchronous=FULL: fdatasync of the journal and the database per row, 89% of CPU system.
    monitor = report(
        {
            "python": 0.06,
            "kernel:durability": 0.38,
            "kernel:file_data": 0.05,
            "kernel:metadata": 0.03,
            "device": 0.47,
            "queued": 0.01,
        },
        device_by_family={"durability": 0.44, "metadata": 0.03},
    )
    assert decide(monitor, cpu_count=2).bound == "disk"


def test_a_cold_read_is_disk_bound_and_advised_on_reading() -> None:
    # Pages dropped first: 60% waiting on the device in read(), 35% the kernel's copy.
    monitor = report(
        {"python": 0.05, "kernel:file_data": 0.35, "device": 0.60},
        device_by_family={"file_data": 0.60},
    )
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "disk"
    assert "reading" in verdict.advice


def test_creating_many_small_files_is_filesystem_bound() -> None:
    # output individual, no fsync: 77% of CPU system time, the odd inode read on the device.
    monitor = report(
        {"python": 0.22, "kernel:metadata": 0.50, "kernel:file_data": 0.25, "device": 0.03},
        device_by_family={"metadata": 0.03},
    )
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "filesystem"
    assert verdict.shares["filesystem"] == pytest.approx(0.75)
    assert "fewer, larger files" in verdict.advice


def test_large_buffered_writes_without_waiting_are_filesystem_bound() -> None:
    monitor = report({"python": 0.15, "kernel:file_data": 0.80, "kernel:memory": 0.05})
    assert decide(monitor, cpu_count=2).bound == "filesystem"


def test_writes_throttled_by_writeback_are_disk_bound() -> None:
    # Past the dirty limit, write() waits for the device in balance_dirty_pages.
    monitor = report(
        {"python": 0.05, "kernel:file_data": 0.40, "device": 0.55},
        device_by_family={"file_data": 0.55},
    )
    assert decide(monitor, cpu_count=2).bound == "disk"


def test_threads_queued_on_a_lock_held_across_a_sleep_are_lock_bound() -> None:
    monitor = report(
        {"python": 0.01, "lock": 0.74, "sleep": 0.25},
        lock_chains={"sleep": 0.74},
        threads=4,
    )
    monitor["thread_causes"] = [
        {"pid": 1, "tid": t, "lifetime_s": 3.0, "causes": {"lock": 2.2, "sleep": 0.8}}
        for t in range(4)
    ]
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "lock"
    assert any("4 of 4 threads" in line and "holder sleeps" in line for line in verdict.evidence)
    assert "holding a lock" in verdict.advice


def test_a_lock_held_by_running_threads_in_one_process_is_the_gil() -> None:
    monitor = report({"python": 0.24, "gil": 0.74, "queued": 0.02}, threads=4)
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "gil" and verdict.confidence == "high"


def test_half_compute_half_sleep_stays_mixed() -> None:
    monitor = report({"python": 0.49, "sleep": 0.49, "queued": 0.02})
    assert decide(monitor, cpu_count=2).bound == "mixed"


def test_cpu_in_the_kernel_for_memory_is_cpu_with_kernel_advice() -> None:
    monitor = report({"python": 0.35, "kernel:memory": 0.63, "queued": 0.02})
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "cpu"
    assert "page faults" in verdict.advice and "orjson" not in verdict.advice


def test_cpu_of_unseen_short_threads_is_named() -> None:
    # 56,420 threads of ~0.1 ms: most of the CPU only the process's totals hold.
    monitor = report(
        {"python": 0.45, "kernel:processes": 0.10, "unattributed": 0.35, "gil": 0.10},
        unseen=(1.90, 1.70),
    )
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "cpu"
    assert any("too short-lived to sample" in line for line in verdict.evidence)


def test_without_kernel_stacks_the_evidence_says_how_kernel_time_was_apportioned() -> None:
    monitor = report(
        {"python": 0.03, "kernel:durability": 0.40, "device": 0.57},
        device_by_family={"durability": 0.57},
        stacks_readable=False,
    )
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "disk"
    assert any("blocked in" in line and "root only" in line for line in verdict.evidence)


def test_system_time_no_sample_caught_is_said_to_be_unnamed() -> None:
    causes = {"thread_time_s": 1.0, "method": {"kernel_by_perf_s": 0.1, "kernel_unknown_s": 0.1}}
    assert method(causes) == [
        "System time is exact; its call families were apportioned 50% by the kernel's own "
        "samples, and 50% left unnamed (no sample caught it)."
    ]
    causes["method"] = {"kernel_unknown_s": 0.2}
    assert method(causes) == [
        "System time is exact; its call families were 100% left unnamed (no sample caught it)."
    ]


@pytest.mark.parametrize("copy", [0.20, 0.35, 0.52])
def test_large_writes_each_flushed_are_disk_bound_whatever_the_copy_costs(copy: float) -> None:
    # 4 MB writes + fsync: the copy into the page cache took 22-52% of the time from run to
    # run here, the flush's wait 31-53%.
    device = 0.95 - copy - 0.05
    monitor = report(
        {"python": 0.02, "kernel:file_data": copy, "kernel:durability": 0.05,
         "device": device, "queued": 0.03},
        device_by_family={"durability": device},
    )  # fmt: skip
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "disk", verdict.evidence
    assert verdict.shares["disk"] >= 0.9
    assert "fsync" in verdict.advice and "reading" not in verdict.advice


def test_much_written_and_flushed_once_is_filesystem_bound() -> None:
    # A collection written in large blocks, one fsync at the end: the copies are the time.
    monitor = report(
        {"python": 0.10, "kernel:file_data": 0.80, "device": 0.08, "queued": 0.02},
        device_by_family={"durability": 0.08},
    )
    assert decide(monitor, cpu_count=2).bound == "filesystem"
