"""The verdict's rules on hand-built monitor reports, with figures measured on this machine."""

from __future__ import annotations

from typing import Any

from harness.verdict import decide, queueing


def report(
    split: dict[str, float],
    *,
    wall: float = 3.0,
    threads: list[dict[str, Any]] | None = None,
    ctx: dict[str, int] | None = None,
    cores: float = 1.0,
) -> dict[str, Any]:
    """A monitor report as assemble.fill passes it to decide()."""
    threads = threads or [{"pid": 1, "tid": 1, "parked": False}]
    thread_time = wall * len(threads)
    full = dict.fromkeys(
        ("on_cpu", "cpu_wait", "disk_wait", "network_wait", "lock_wait", "sleep", "other"), 0.0
    )
    full.update(split)
    return {
        "wall_s": wall,
        "thread_time_s": thread_time,
        "split": full,
        "seconds": {k: v * thread_time for k, v in full.items()},
        "cpu": {"cores_used": cores},
        "threads": threads,
        **({"ctx_switches": ctx} if ctx is not None else {}),
    }


def test_queueing_after_wake_ups_is_left_out_so_fsync_stays_disk_bound() -> None:
    # fsync_small on a busy machine: 70,074 voluntary switches, 20 involuntary.
    monitor = report(
        {"on_cpu": 0.219, "cpu_wait": 0.347, "disk_wait": 0.434},
        ctx={"voluntary": 70074, "involuntary": 20},
        cores=0.22,
    )
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "disk"
    assert abs(verdict.shares["cpu"] + verdict.shares["disk"] - 1) < 1e-3
    assert any("wake-up latency" in line for line in verdict.evidence)


def test_queueing_after_preemptions_counts_as_cpu() -> None:
    # cpu_loop sharing one core with a neighbour: half on CPU, half queued after preemptions.
    monitor = report(
        {"on_cpu": 0.5, "cpu_wait": 0.5}, ctx={"voluntary": 0, "involuntary": 900}, cores=0.5
    )
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "cpu" and verdict.shares["cpu"] == 1.0


def test_without_switch_counts_all_queueing_counts_as_cpu() -> None:
    q = queueing({"cpu_wait": 0.3}, None)
    assert q.counted == 0.3 and q.left_out == 0.0


def test_gil_needs_busy_threads_in_one_process() -> None:
    # process_pool: the parent's main thread waits on a lock, each worker is its own process.
    threads = [
        {"pid": 10, "tid": 10, "parked": False},
        {"pid": 11, "tid": 11, "parked": False},
        {"pid": 12, "tid": 12, "parked": False},
    ]
    monitor = report(
        {"on_cpu": 0.335, "cpu_wait": 0.332, "lock_wait": 0.333},
        threads=threads,
        ctx={"voluntary": 22, "involuntary": 924},
        cores=0.98,
    )
    assert decide(monitor, cpu_count=2).bound == "cpu"


def test_four_python_threads_waiting_on_a_futex_are_gil_bound() -> None:
    threads = [{"pid": 7, "tid": t, "parked": False} for t in range(4)]
    monitor = report(
        {"on_cpu": 0.253, "cpu_wait": 0.02, "lock_wait": 0.727},
        threads=threads,
        ctx={"voluntary": 2928, "involuntary": 499},
        cores=0.98,
    )
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "gil" and verdict.confidence == "high"


def test_threads_in_c_code_on_a_busy_machine_are_not_gil_bound() -> None:
    # c_ext_threads with the neighbours taking a core: 1 core used, but 4 threads queued for a
    # CPU after preemptions, not waiting on the GIL.
    threads = [{"pid": 7, "tid": t, "parked": False} for t in range(5)]
    monitor = report(
        {"on_cpu": 0.211, "cpu_wait": 0.587, "lock_wait": 0.202},
        threads=threads,
        ctx={"voluntary": 22, "involuntary": 813},
        cores=0.97,
    )
    assert decide(monitor, cpu_count=2).bound == "cpu"


def test_half_compute_half_sleep_is_mixed() -> None:
    monitor = report(
        {"on_cpu": 0.473, "cpu_wait": 0.035, "sleep": 0.492},
        ctx={"voluntary": 150, "involuntary": 40},
        cores=0.46,
    )
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "mixed"
    assert 0.4 <= verdict.shares["cpu"] <= 0.6


def test_own_lock_waits_of_a_pool_parent_do_not_make_it_gil_bound() -> None:
    # ingest_files processes x2, measured: lock 0.26, of it 0.03 on words two threads shared.
    threads = [{"pid": 1, "tid": t, "parked": False} for t in (1, 2, 3)]
    monitor = report(
        {"on_cpu": 0.45, "cpu_wait": 0.05, "lock_wait": 0.26, "other": 0.24},
        threads=threads,
        cores=1.1,
    )
    monitor["lock_detail"] = {"contended_share": 0.03}

    verdict = decide(monitor, cpu_count=2)

    assert verdict.bound == "cpu"
    assert verdict.shares["lock"] == 0.03


def test_contended_lock_waits_of_busy_threads_are_gil() -> None:
    threads = [{"pid": 1, "tid": t, "parked": False} for t in (1, 2, 3, 4)]
    monitor = report({"on_cpu": 0.25, "lock_wait": 0.75}, threads=threads, cores=0.95)
    monitor["lock_detail"] = {"contended_share": 0.74}

    assert decide(monitor, cpu_count=2).bound == "gil"


def test_cpu_spent_in_system_calls_gets_kernel_advice() -> None:
    # output, individual layout, fsync none, 5,000 files: 0.22 s user, 0.76 s sys.
    monitor = report({"on_cpu": 0.966, "cpu_wait": 0.014, "disk_wait": 0.02}, cores=0.94)
    monitor["cpu"].update(user_s=0.22, sys_s=0.76)
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "cpu"
    assert "78% of it system time" in verdict.evidence[0]
    assert "system calls" in verdict.advice and "orjson" not in verdict.advice


def test_cpu_spent_in_python_keeps_the_cpu_advice() -> None:
    monitor = report({"on_cpu": 0.99, "cpu_wait": 0.01}, cores=1.0)
    monitor["cpu"].update(user_s=2.9, sys_s=0.05)
    verdict = decide(monitor, cpu_count=2)
    assert verdict.bound == "cpu"
    assert "2% of it system time" in verdict.evidence[0]
    assert "orjson" in verdict.advice
