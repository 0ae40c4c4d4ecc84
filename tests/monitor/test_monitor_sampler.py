"""The sampler's pass over one thread, fed recorded /proc lines one sample after another."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.monitor import classify as c
from harness.monitor.fds import EPOLL_TTL_S
from harness.monitor.procfs import FdBudget, ProcFile
from harness.monitor.records import ProcessRecord, ThreadRecord
from harness.monitor.sampler import SCHED_EVERY, Sampler

# Recorded on this machine (x86_64): a thread in Event().wait(30), first as it waits, then
# after py-spy stopped and resumed it (the timed futex goes on as restart_syscall, same args);
# a thread in time.sleep(30); a loop of small writes each followed by os.fsync.
FUTEX = "202 0x7f2994000ba0 0x89 0x0 0x7f299b383960 0x0 0xffffffff 0x7f299b3838b0 0x7f299b8a3f16"
RESTART = "219 0x7f2994000ba0 0x89 0x0 0x7f299b383960 0x0 0xffffffff 0x7f299b3838b0 0x7f299b8a3f16"
SLEEP = "230 0x1 0x1 0x7fff5b7a8f00 0x0 0x0 0x0 0x7fff5b7a8ec0 0x7f299b8ed545"
FSYNC = "74 0x3 0x0 0x0 0x7fcf94b5dfd8 0x0 0x0 0x7ffd7593dd68 0x7fcf94d1cc20"
# A multiprocessing.Pool's worker handler thread under py-spy: an infinite poll() on its
# workers' sentinel pipes, entered before any sample saw it, resumed after every stop.
RESTARTED_POLL = "219 0x7f2389617530 0x4 0xffffffff 0x4 0x0 0x0 0x7f23891f19a0 0x7f238991a26f"
POLL_ADDR = 0x7F2389617530
# An asyncio loop in asyncio.sleep(30): epoll_wait on epfd 3 with a 30 s timeout.
EPOLL = "232 0x3 0x7fe49646c800 0x1 0x7530 0x0 0x0 0x7ffc1c1575b8 0x7fe496726ef3"
RUNNING = "running"
STAT = (
    "30004 (python) {state} 30002 29999 27747 0 -1 4194368 4 0 0 0 0 0 0 0 20 0 2 0 714410 "
    "90009600 2725 18446744073709551615 93982643933184 93982643933525 140722792910528 0 0 0 0 "
    "16781312 2 1 0 0 -1 0 0 0 0 0 0 93982643944880 93982643945496 93983707058176 "
    "140722792913489 140722792913620 140722792913620 140722792914908 0\n"
)
TID = 30004
NOW = 1.0


class FakeFds:
    """What the poll() above waits on: pipes to other processes; the epoll: its self-pipe."""

    def __init__(self) -> None:
        self.epoll_asks = 0

    def fd_kind(self, pid: int, fd: int) -> str | None:
        return None

    def epoll_kinds(self, pid: int, epfd: int) -> frozenset[str] | None:
        self.epoll_asks += 1
        return frozenset({c.SELF_PIPE}) if epfd == 3 else None

    def poll_kinds(self, pid: int, addr: int, nfds: int) -> frozenset[str] | None:
        return frozenset({c.PIPE}) if (addr, nfds) == (POLL_ADDR, 4) else None

    def select_kinds(
        self, pid: int, nfds: int, sets: tuple[int, int, int]
    ) -> frozenset[str] | None:
        return None


class OneThread:
    """A sampler over one thread whose /proc files are plain files we rewrite between passes."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        budget = FdBudget(16)
        self.sampler = Sampler(os.getpid(), 0.01, frozenset(), own_pid=-1)
        files = {name: tmp_path / name for name in ("stat", "schedstat", "syscall")}
        self.write(state="S", on_ns=0, syscall=RUNNING)
        th = ThreadRecord(
            os.getpid(),
            TID,
            "python",
            ProcFile(str(files["stat"]), budget),
            ProcFile(str(files["schedstat"]), budget),
            ProcFile(str(files["syscall"]), budget),
        )
        proc = ProcessRecord(os.getpid(), ProcFile("/nonexistent", budget), ProcFile("", budget))
        proc.threads[TID] = th
        self.thread, self.proc = th, proc
        self.wchan = ""
        self.wchan_reads = 0
        self.sampler.blocked._wchan = self.read_wchan
        self.fds = FakeFds()
        self.sampler.blocked.fds = self.fds

    def read_wchan(self, pid: int, tid: int) -> str:
        self.wchan_reads += 1
        return self.wchan

    def write(self, *, state: str, on_ns: int, syscall: str) -> None:
        (self.dir / "stat").write_text(STAT.format(state=state))
        (self.dir / "schedstat").write_text(f"{on_ns} 1000 42\n")
        (self.dir / "syscall").write_text(syscall + "\n")

    def step(self, syscall: str, *, state: str = "S", on_ns: int = 0, now: float = NOW) -> None:
        """One pass of the sampler, seeing these files."""
        self.write(state=state, on_ns=on_ns, syscall=syscall)
        self.sampler.samples += 1
        self.sampler._sample_threads(self.proc, now, full=False)

    def close(self) -> None:
        self.thread.close()


@pytest.fixture
def one(tmp_path: Path) -> Iterator[OneThread]:
    t = OneThread(tmp_path)
    yield t
    t.close()


def test_restart_syscall_keeps_the_category_it_resumes(one: OneThread) -> None:
    for line in (FUTEX, RESTART, RESTART, RESTART, SLEEP, RESTART, RESTART):
        one.step(line)
    assert one.thread.counts == {c.LOCK: 4, c.SLEEP: 3}
    assert one.sampler.blocked.syscalls["restart_syscall"] == 5


def test_restart_syscall_carries_over_a_category_seen_before_running(one: OneThread) -> None:
    for line in (SLEEP, RUNNING, RESTART):
        one.step(line)
    assert one.thread.counts == {c.SLEEP: 2}


def test_restart_syscall_with_no_history_is_other_or_stopped(one: OneThread) -> None:
    one.wchan = "ptrace_stop"  # stopped by a tracer: where it sleeps says nothing
    one.step(RESTART)
    assert one.thread.counts == {c.OTHER: 1}
    one.step(RESTART, state="t")  # stopped by a tracer at that moment
    assert one.thread.counts == {c.OTHER: 1, c.STOPPED: 1}
    one.step(RESTART)  # stopped is not what it waits in: not carried over
    assert one.thread.counts == {c.OTHER: 2, c.STOPPED: 1}


@pytest.mark.parametrize(
    ("wchan", "line", "expected"),
    [
        ("poll_schedule_timeout.constprop.0", RESTARTED_POLL, c.IPC),
        ("futex_do_wait", RESTART, c.LOCK),
        ("futex_wait_queue", RESTART, c.LOCK),  # older kernels
        ("hrtimer_nanosleep", RESTART, c.SLEEP),
    ],
)
def test_restart_syscall_with_no_history_goes_by_where_it_sleeps(
    one: OneThread, wchan: str, line: str, expected: str
) -> None:
    one.wchan = wchan
    for _ in range(3):
        one.step(line)
    assert one.thread.counts == {expected: 3}
    assert one.wchan_reads == 1  # then carried over


def test_first_idle_wait_keeps_the_cpu_time_read_then(one: OneThread) -> None:
    one.step(RUNNING, on_ns=50_000_000)
    assert one.thread.idle_from_ns == -1
    one.step(FSYNC, on_ns=60_000_000)  # waiting on storage is not waiting on others
    assert one.thread.idle_from_ns == -1
    # A pass that would not read a blocked thread's schedstat: it is read for this sample.
    assert (one.sampler.samples + 1 + TID) % SCHED_EVERY != 0
    one.step(FUTEX, on_ns=70_000_000)
    assert one.thread.idle_from_ns == 70_000_000
    assert one.thread.idle_since == NOW
    one.step(RUNNING, on_ns=90_000_000)
    one.step(FUTEX, on_ns=90_000_000)
    assert one.thread.idle_from_ns == 70_000_000  # the first one only
    assert one.thread.on_ns == 90_000_000


def test_a_waited_set_is_looked_at_again_once_its_memo_expires(one: OneThread) -> None:
    # The same line is the same call, still waiting: its category holds for EPOLL_TTL_S.
    for i in range(5):
        one.step(EPOLL, now=NOW + i * 0.01)
    assert one.fds.epoll_asks == 1
    one.step(EPOLL, now=NOW + EPOLL_TTL_S + 0.01)
    assert one.fds.epoll_asks == 2
    one.step(EPOLL.replace("0x7530", "0x752f"), now=NOW + EPOLL_TTL_S + 0.02)  # another call
    assert one.fds.epoll_asks == 3
    assert one.thread.counts == {c.SLEEP: 7}
