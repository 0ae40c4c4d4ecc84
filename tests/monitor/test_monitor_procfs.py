"""Parsers of /proc files, on text recorded from this kernel (6.x, x86_64)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from harness.monitor import procfs

# A thread whose comm holds spaces and parentheses; field 42 (delayacct ticks) is 7.
STAT_ODD_COMM = (
    b"4242 (a) (b c)) S 4200 4242 2482 0 -1 4194368 3 0 0 0 150 25 4 1 20 0 2 0 62378 "
    b"89985024 2772 18446744073709551615 93922406240256 93922406240597 140723919654432 0 0 0 "
    b"0 16781312 2 1 0 0 -1 0 0 0 7 0 0 93922406251952 93922406252568 93923326410752 "
    b"140723919657209 140723919657700 140723919657700 140723919658983 0\n"
)


def test_parse_stat_with_spaces_and_parentheses_in_comm() -> None:
    st = procfs.parse_stat(STAT_ODD_COMM)
    assert st.pid == 4242
    assert st.comm == "a) (b c)"
    assert st.state == "S"
    assert st.ppid == 4200
    assert (st.utime, st.stime, st.cutime, st.cstime) == (150, 25, 4, 1)
    assert st.num_threads == 2
    assert st.starttime == 62378
    assert st.rss_pages == 2772
    assert st.delayacct_blkio_ticks == 7
    assert procfs.stat_state(STAT_ODD_COMM) == "S"


def test_parse_stat_of_this_process() -> None:
    raw = procfs.read_bytes(f"/proc/{os.getpid()}/stat")
    assert raw is not None
    st = procfs.parse_stat(raw)
    assert st.pid == os.getpid() and st.ppid == os.getppid()
    assert st.state == "R"
    # Every thread of the process, the interpreter's and any a library started alike.
    assert st.num_threads == len(os.listdir(f"/proc/{os.getpid()}/task"))
    assert st.num_threads >= threading.active_count()


def test_parse_schedstat() -> None:
    assert procfs.parse_schedstat(b"530850883 191596 7\n") == (530850883, 191596, 7)


def test_parse_syscall_running_blocked_and_outside_a_syscall() -> None:
    assert procfs.parse_syscall(b"running\n") is None
    call = procfs.parse_syscall(
        b"202 0x7fa774000ba0 0x189 0x0 0x0 0x0 0xffffffff 0x7fa77c1838c0 0x7fa77c6a3f16\n"
    )
    assert call is not None
    assert call.nr == 202
    assert call.arg(0) == 0x7FA774000BA0 and call.arg(1) == 0x189 and call.arg(5) == 0xFFFFFFFF
    read = procfs.parse_syscall(
        b"0 0x3 0x7f16967c8000 0x20000 0x7f169685bb60 0xffffffff 0x0 0x7ffed1e06288 0x7f16969442ad"
    )
    assert read is not None and read.nr == 0 and read.arg(0) == 3
    outside = procfs.parse_syscall(b"-1 0x7ffd60224108 0x7f0002894503\n")
    assert outside is not None and outside.nr == -1 and outside.arg(0) == 0


def test_parse_fdinfo_tfd_lines() -> None:
    text = (
        "pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t1057\n"
        "tfd:        7 events:       19 data:                7  pos:0 ino:d1b2 sdev:8\n"
        "tfd:       12 events:       19 data:                c  pos:0 ino:d1c4 sdev:8\n"
    )
    assert procfs.parse_fdinfo_tfds(text) == [7, 12]
    assert procfs.parse_fdinfo_tfds("pos:\t0\nflags:\t02000002\n") == []


def test_parse_status_context_switches() -> None:
    text = (
        "Name:\tpython\nState:\tS (sleeping)\nMems_allowed_list:\t0\n"
        "voluntary_ctxt_switches:\t1650\nnonvoluntary_ctxt_switches:\t601\n"
    )
    assert procfs.parse_status_ctxt(text) == (1650, 601)


def test_parse_io() -> None:
    raw = (
        b"rchar: 956790\nwchar: 2461204\nsyscr: 10\nsyscw: 4\nread_bytes: 4096\n"
        b"write_bytes: 103182336\ncancelled_write_bytes: 0\n"
    )
    assert procfs.parse_io(raw) == (4096, 103182336, 956790, 2461204)


def test_parse_socket_tables() -> None:
    tcp = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0  "
        "      0 1601 1 00000000c9493592 100 0 0 10 0\n"
        "   1: 0100007F:900D 0100007F:853A 06 00000000:00000000 03:00000698 00000000     0  "
        "      0 0 3 0000000073d33e50\n"
    )
    assert procfs.parse_net_inodes(tcp) == {1601, 0}
    unix = (
        "Num       RefCount Protocol Flags    Type St Inode Path\n"
        "00000000212ab09f: 00000003 00000000 00000000 0001 03  1597\n"
        "000000008f6d06ed: 00000002 00000000 00010000 0001 01  1598 /run/x.sock\n"
    )
    assert procfs.parse_unix_inodes(unix) == {1597, 1598}


def test_proc_file_reports_a_vanished_thread_as_none() -> None:
    budget = procfs.FdBudget(8)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    f = procfs.ProcFile(f"/proc/{os.getpid()}/task/{t.native_id}/schedstat", budget)
    first = f.read()
    assert first is not None and budget.used == 1
    stop.set()
    t.join()
    # join() returns before the kernel has finished the thread off: poll until it is gone.
    deadline = time.monotonic() + 5
    while f.read() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert f.read() is None
    assert budget.used == 0  # closed on the way out
    assert procfs.ProcFile("/proc/999999999/stat", budget).read() is None


def test_proc_file_beyond_the_budget_still_reads() -> None:
    budget = procfs.FdBudget(0)
    f = procfs.ProcFile(f"/proc/{os.getpid()}/stat", budget)
    assert f.read() is not None
    assert budget.used == 0


@pytest.mark.parametrize("path", ["/proc/999999999/stat", "/proc/999999999/task"])
def test_readers_of_missing_processes(path: str) -> None:
    assert procfs.read_bytes(path) is None
    assert procfs.read_text(path) is None
    assert procfs.list_ints(path) == []
