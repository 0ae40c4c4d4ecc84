"""Aggregation of records into a MonitorReport, on synthetic records with known answers."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from harness.monitor import MonitorReport
from harness.monitor import classify as c
from harness.monitor.blocked import note_lock_context
from harness.monitor.procfs import CLK_TCK, FdBudget, ProcFile
from harness.monitor.records import ProcessRecord, ThreadRecord
from harness.monitor.report import build_report
from harness.monitor.threadtimes import is_parked, shared_lock_words, thread_times

_NOWHERE = ProcFile("/nonexistent", FdBudget(0))


def thread(
    pid: int, tid: int, life: float, on: float, wait: float = 0.0, **counts: int
) -> ThreadRecord:
    th = ThreadRecord(pid, tid, "python", _NOWHERE, _NOWHERE, _NOWHERE)
    th.life_start, th.last_seen = 100.0, 100.0 + life
    th.base_on_ns, th.on_ns = 5_000, 5_000 + int(on * 1e9)
    th.base_wait_ns, th.wait_ns = 7_000, 7_000 + int(wait * 1e9)
    th.counts = Counter(counts)
    th.blocked = sum(counts.values())
    return th


def process(pid: int, *threads: ThreadRecord, ppid: int = 1) -> ProcessRecord:
    p = ProcessRecord(pid, _NOWHERE, _NOWHERE)
    p.ppid = ppid
    p.name = "python"
    p.last_read = 200.0
    for th in threads:
        p.ended_threads.append(th)
    return p


def report(*procs: ProcessRecord, wall: float = 2.0) -> MonitorReport:
    return build_report(
        procs=list(procs),
        wall_s=wall,
        interval_s=0.01,
        samples=200,
        threads_seen=sum(len(p.all_threads()) for p in procs),
        peak_tree_rss_pages=0,
        syscalls=Counter({"futex": 3, "read": 1}),
        wchans=Counter(),
        delayacct=False,
        monitor_cpu_s=0.01,
        errors=[],
    )


def test_off_cpu_time_is_apportioned_by_blocked_samples() -> None:
    tt = thread_times(thread(1, 1, life=2.0, on=0.5, wait=0.1, disk=3, sleep=1))
    assert tt.on_cpu_s == pytest.approx(0.5)
    assert tt.cpu_wait_s == pytest.approx(0.1)
    assert tt.off_s[c.DISK] == pytest.approx(1.4 * 0.75)
    assert tt.off_s[c.SLEEP] == pytest.approx(1.4 * 0.25)
    assert tt.top_category == c.DISK


def test_a_thread_without_blocked_samples_goes_to_other() -> None:
    tt = thread_times(thread(1, 1, life=1.0, on=0.8))
    assert tt.off_s == {c.OTHER: pytest.approx(0.2)}


def test_counters_beyond_the_observed_lifetime_stretch_it() -> None:
    tt = thread_times(thread(1, 1, life=0.5, on=0.6))
    assert tt.lifetime_s == pytest.approx(0.6)
    assert tt.off_s == {}


def test_split_sums_to_one_and_seconds_match() -> None:
    r = report(
        process(
            10,
            thread(10, 10, life=2.0, on=1.0, wait=0.2, disk=2, network=1, lock=1),
            thread(10, 11, life=1.0, on=0.3, sleep=5, ipc=5),
        )
    )
    assert sum(r.split.values()) == pytest.approx(1.0)
    assert r.thread_time_s == pytest.approx(3.0)
    assert r.seconds["on_cpu"] == pytest.approx(1.3)
    assert r.seconds["cpu_wait"] == pytest.approx(0.2)
    assert r.seconds["disk_wait"] == pytest.approx(0.8 * 0.5)
    assert r.seconds["network_wait"] == pytest.approx(0.8 * 0.25)
    assert r.seconds["lock_wait"] == pytest.approx(0.8 * 0.25)
    assert r.seconds["sleep"] == pytest.approx(0.35)
    assert r.seconds["other"] == pytest.approx(0.35)
    assert r.other_detail["ipc"] == pytest.approx(0.35)
    assert r.split["on_cpu"] == pytest.approx(1.3 / 3.0)


def test_parked_threads_are_left_out_of_the_split() -> None:
    joiner = thread(10, 10, life=2.0, on=0.01, lock=150, ipc=40, sleep=2)
    worker = thread(10, 11, life=2.0, on=1.8, lock=10)
    sleeper = thread(10, 12, life=2.0, on=0.0, sleep=200)  # sleeping is not parked
    assert is_parked(thread_times(joiner))
    assert not is_parked(thread_times(worker))
    assert not is_parked(thread_times(sleeper))
    r = report(process(10, joiner, worker, sleeper))
    assert r.parked_s == pytest.approx(2.0)
    assert r.thread_time_s == pytest.approx(4.0)
    assert r.seconds["on_cpu"] == pytest.approx(1.8)
    assert [t["parked"] for t in r.threads] == [True, False, False]


def test_parked_needs_almost_no_cpu_and_almost_only_idle_waits() -> None:
    assert not is_parked(thread_times(thread(1, 1, life=2.0, on=0.05, lock=100)))  # 2.5% CPU
    assert not is_parked(thread_times(thread(1, 1, life=2.0, on=0.0, lock=90, disk=10)))
    assert not is_parked(thread_times(thread(1, 1, life=2.0, on=0.0, lock=2)))  # too few
    assert is_parked(thread_times(thread(1, 1, life=2.0, on=0.0, child_wait=50)))


def idle_from(th: ThreadRecord, after_s: float, on_cpu_s: float) -> ThreadRecord:
    """Mark its first sampled wait on others `after_s` into its life, with `on_cpu_s` by then."""
    th.idle_since = th.life_start + after_s
    th.idle_from_ns = th.base_on_ns + int(on_cpu_s * 1e9)
    return th


def test_parked_is_judged_from_its_first_wait_on_others() -> None:
    # A pool parent's main thread: 80 ms of start-up (interpreter, pool), then only waiting.
    parent = thread(10, 10, life=3.1, on=0.08, lock=200, ipc=80)
    assert not is_parked(thread_times(parent))  # 2.6% of its life on CPU, all counted
    idle_from(parent, after_s=0.1, on_cpu_s=0.075)  # 5 ms on CPU since
    assert is_parked(thread_times(parent))
    worker = thread(11, 11, life=3.0, on=2.9, lock=10)
    r = report(process(10, parent), process(11, worker, ppid=10))
    assert r.parked_s == pytest.approx(3.1)
    assert r.seconds["on_cpu"] == pytest.approx(2.9)
    assert r.cpu["user_s"] == pytest.approx(2.98)  # its start-up CPU still counts here
    # Work after its first wait counts against it.
    idle_from(parent, after_s=0.1, on_cpu_s=0.01)
    assert not is_parked(thread_times(parent))


def test_a_worker_first_seen_waiting_when_its_work_is_done_is_not_parked() -> None:
    worker = idle_from(thread(11, 11, life=1.54, on=1.5, ipc=4), after_s=1.5, on_cpu_s=1.5)
    assert not is_parked(thread_times(worker))
    # A start-up that is more than a tenth of its life is no start-up either.
    parent = idle_from(thread(10, 10, life=2.0, on=0.25, lock=100), after_s=0.25, on_cpu_s=0.25)
    assert not is_parked(thread_times(parent))
    idle_from(parent, after_s=0.19, on_cpu_s=0.25)
    assert is_parked(thread_times(parent))


def test_when_every_thread_would_be_parked_none_is() -> None:
    r = report(process(10, thread(10, 10, life=2.0, on=0.0, lock=100)))
    assert r.parked_s == 0
    assert r.thread_time_s == pytest.approx(2.0)
    assert r.split["lock_wait"] == pytest.approx(1.0)


def test_cpu_of_reaped_children_is_counted_once() -> None:
    parent = process(10)
    parent.utime, parent.stime = 10, 5
    # Seen child: 100 ticks user, 20 sys; its final values were 110 / 20 when reaped.
    child = process(11, ppid=10)
    child.utime, child.stime = 100, 20
    child.vanished_at = 150.0
    child.starttime = 1
    # The parent's reaped-children counters: the child's final 110/20, plus an unseen
    # short-lived child of 30/10.
    parent.cutime, parent.cstime = 110 + 30, 20 + 10
    r = report(parent, child)
    total = r.cpu["user_s"] + r.cpu["sys_s"]
    assert total == pytest.approx((15 + 120 + (170 - 120)) / CLK_TCK)
    assert r.cpu["sys_s"] == pytest.approx((5 + 20 + 50 * 30 / 170) / CLK_TCK)
    assert r.cpu["cores_used"] == pytest.approx(total / 2.0)


def test_fresher_schedstat_counts_when_ticks_lag() -> None:
    # Ticks last read 100 ms before the process exited; its thread's schedstat later.
    p = process(10, thread(10, 10, life=1.0, on=0.95))
    p.utime, p.stime = 60, 20  # 0.8 s
    r = report(p)
    assert r.cpu["user_s"] + r.cpu["sys_s"] == pytest.approx(0.95)
    assert r.cpu["user_s"] == pytest.approx(0.95 * 0.75)
    p.utime = 90  # ticks ahead (a thread we never saw): ticks count
    assert report(p).cpu["user_s"] == pytest.approx(0.9)


def test_io_of_reaped_children_is_counted_once() -> None:
    parent = process(10)
    parent.base_io, parent.io, parent.io_read_at = (0, 0, 0, 0), (0, 1000 + 50, 0, 0), 200.0
    child = process(11, ppid=10)
    child.base_io, child.io = (0, 0, 0, 0), (0, 1000, 0, 0)
    child.vanished_at = 150.0
    r = report(parent, child)
    assert r.io["write_bytes"] == 1050


def test_excluded_processes_are_not_counted() -> None:
    profiler = process(9, thread(9, 9, life=2.0, on=2.0))
    profiler.excluded = True
    profiler.utime = 200
    target = process(10, thread(10, 10, life=2.0, on=1.0, sleep=10), ppid=9)
    target.utime = 100
    r = report(profiler, target)
    assert r.processes_seen == 1
    assert r.cpu["user_s"] == pytest.approx(100 / CLK_TCK)
    assert r.seconds["on_cpu"] == pytest.approx(1.0)
    assert [p["pid"] for p in r.per_process] == [10]


def test_to_dict_is_json_and_round_trips() -> None:
    r = report(process(10, thread(10, 10, life=2.0, on=1.0, disk=4)))
    data = json.loads(json.dumps(r.to_dict()))
    back = MonitorReport.from_dict(data)
    assert back == r
    assert back.top_syscalls == [("futex", 3), ("read", 1)]
    assert MonitorReport.from_dict({**data, "added_later": 1}) == r


def _waits(*pairs: tuple[ThreadRecord, str, bytes]) -> list[tuple[ThreadRecord, str, bytes]]:
    """Blocked samples as the sampler passes them: (thread, category, syscall line)."""
    return list(pairs)


def test_each_futex_wait_keeps_its_word_and_what_the_siblings_did():
    consumer = thread(1, 1, life=1.0, on=0.1)
    loop = thread(1, 2, life=1.0, on=0.1)
    gil_waiter = thread(2, 3, life=1.0, on=0.1)
    procs = {1: process(1, consumer, loop), 2: process(2, gil_waiter)}
    # Given: nobody runs; the consumer waits on a futex while the loop thread waits on a socket.
    note_lock_context(
        procs[1],
        _waits((consumer, c.LOCK, b"202 0x7f10 0x80"), (loop, c.NETWORK, b"232 0x3 0x1")),
        running_any=False,
        everyone=True,
    )
    # Given: a sibling runs while it waits.
    note_lock_context(
        procs[2], _waits((gil_waiter, c.LOCK, b"202 0x7f20 0x80")), running_any=True, everyone=True
    )

    assert consumer.lock_ctx == Counter({(b"0x7f10", c.NETWORK): 1})
    assert gil_waiter.lock_ctx == Counter({(b"0x7f20", "running"): 1})
    assert loop.lock_ctx == Counter()


def test_a_wait_on_a_word_of_its_own_while_the_others_wait_is_handed_off():
    th = thread(1, 1, life=1.0, on=0.2, lock=8, network=2)
    th.lock_ctx = Counter({(b"0x7f10", c.NETWORK): 6, (b"0x7f10", "running"): 2})

    times = thread_times(th, shared=frozenset())

    assert times.off_s[c.LOCK] == pytest.approx(0.8 * 2 / 10)
    assert times.off_s[c.NETWORK] == pytest.approx(0.8 * 8 / 10)
    assert times.lock_own_s == pytest.approx(0.8 * 2 / 10)
    assert th.counts[c.LOCK] == 8  # the raw record is kept (it decides parking)


def test_lock_waits_are_contention_a_chain_a_hand_off_or_a_wait_of_its_own():
    gil_a = thread(1, 1, life=1.0, on=0.2, lock=10)
    gil_a.lock_ctx = Counter({(b"0x7f00", "running"): 10})
    gil_b = thread(1, 2, life=1.0, on=0.2, lock=10)
    gil_b.lock_ctx = Counter({(b"0x7f00", "running"): 6, (b"0x5500", "running"): 4})
    # Same address, another process: a word of its own there, waited on while a sibling slept.
    other = thread(2, 3, life=1.0, on=0.2, lock=10)
    other.lock_ctx = Counter({(b"0x7f00", c.SLEEP): 10})
    # Two threads of a third process queued at once on one lock while its holder sleeps.
    chain_a = thread(3, 4, life=1.0, on=0.2, lock=10)
    chain_a.lock_ctx = Counter({(b"0x9900", "chain:sleep"): 10})
    chain_b = thread(3, 5, life=1.0, on=0.2, lock=10)
    chain_b.lock_ctx = Counter({(b"0x9900", "chain:sleep"): 10})
    procs = [process(1, gil_a, gil_b), process(2, other), process(3, chain_a, chain_b)]

    shared = shared_lock_words(procs)
    times = {th.tid: thread_times(th, shared) for th in (gil_a, gil_b, other, chain_a, chain_b)}

    assert shared == {(1, b"0x7f00"), (3, b"0x9900")}
    assert times[3].lock_own_s == 0.0
    assert times[1].lock_contended_s == pytest.approx(0.8)
    assert times[2].lock_contended_s == pytest.approx(0.8 * 0.6)
    assert times[2].lock_own_s == pytest.approx(0.8 * 0.4)
    assert times[3].off_s == {c.SLEEP: pytest.approx(0.8)}  # handed off to the sleeper
    assert times[4].lock_chain_s == {c.SLEEP: pytest.approx(0.8)}
    assert times[4].off_s == {c.LOCK: pytest.approx(0.8)}


def test_threads_queued_at_once_on_a_word_while_the_holder_sleeps_are_a_chain():
    a, b, holder = (thread(1, t, life=1.0, on=0.1) for t in (1, 2, 3))
    note_lock_context(
        process(1, a, b, holder),
        _waits(
            (a, c.LOCK, b"202 0x9900 0x80"),
            (b, c.LOCK, b"202 0x9900 0x80"),
            (holder, c.SLEEP, b"230 0x1 0x0"),
        ),
        running_any=False,
        everyone=True,
    )

    assert a.lock_ctx == b.lock_ctx == Counter({(b"0x9900", "chain:sleep"): 1})
