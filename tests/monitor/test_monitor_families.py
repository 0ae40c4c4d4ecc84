"""Which family of calls kernel time serves: from a syscall's name, a /proc stack, a perf chain."""

from __future__ import annotations

from collections import Counter

import pytest

from harness.monitor import families as f
from harness.monitor.causes import kernel_mix
from harness.monitor.classify import DISK, IPC, LOCK, NETWORK, SLEEP

# Recorded on this kind of machine: an fsync loop blocked in its flush, and a running thread
# last switched out on its way back to user mode.
FSYNC_STACK = b"""[<0>] folio_wait_bit+0x11f/0x250
[<0>] folio_wait_writeback+0x2b/0x80
[<0>] __filemap_fdatawait_range+0x8d/0xf0
[<0>] file_write_and_wait_range+0x7e/0xa0
[<0>] ext4_sync_file+0x84/0x340
[<0>] do_fsync+0x38/0x70
[<0>] __x64_sys_fsync+0x10/0x20
[<0>] do_syscall_64+0x71/0x6c0
[<0>] entry_SYSCALL_64_after_hwframe+0x76/0x7e
"""
USER_STACK = b"""[<0>] irqentry_exit_to_user_mode+0x110/0x1a0
[<0>] asm_sysvec_apic_timer_interrupt+0x16/0x20
"""
SOCKET_WRITE = b"""[<0>] tcp_sendmsg+0x2c/0x50
[<0>] sock_write_iter+0x15b/0x1a0
[<0>] vfs_write+0x22f/0x3e0
[<0>] ksys_write+0x66/0xe0
[<0>] do_syscall_64+0x71/0x6c0
"""


@pytest.mark.parametrize(
    ("name", "category", "family"),
    [
        ("fsync", DISK, f.DURABILITY),
        ("fdatasync", None, f.DURABILITY),
        ("write", DISK, f.FILE_DATA),
        ("write", NETWORK, f.NET),
        ("write", IPC, f.OTHER),
        ("close", DISK, f.METADATA),
        ("openat", DISK, f.METADATA),
        ("recvfrom", NETWORK, f.NET),
        ("epoll_wait", NETWORK, f.NET),
        ("epoll_wait", SLEEP, f.OTHER),
        ("mmap", None, f.MEMORY),
        ("clone3", None, f.PROCESSES),
        ("futex", LOCK, f.OTHER),
        (None, None, f.OTHER),
    ],
)
def test_a_syscall_name_and_what_it_waited_on_give_its_family(name, category, family) -> None:
    assert f.family_of(name, category) == family


def test_a_kernel_stack_names_the_call_it_is_in_or_none_in_user_mode() -> None:
    assert f.stack_family(FSYNC_STACK) == f.DURABILITY
    assert f.stack_family(SOCKET_WRITE) == f.NET
    assert f.stack_family(USER_STACK) is None
    assert f.stack_family(b"[<0>] exc_page_fault+0x7a/0x1a0\n") == f.MEMORY


@pytest.mark.parametrize(
    ("chain", "family"),
    [
        # A perf chain's functions of interest, leaf first (None: a function of no interest).
        ([None, None, "__x64_sys_openat", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"],
         f.METADATA),
        ([None, "ksys_write", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"], f.FILE_DATA),
        (["tcp_sendmsg", "sock_write_iter", "ksys_write", "do_syscall_64"], f.NET),
        (["pipe_write", "ksys_write", "do_syscall_64"], f.OTHER),
        ([None, "do_fsync", "__x64_sys_fsync", "do_syscall_64"], f.DURABILITY),
        ([None, "do_user_addr_fault", "exc_page_fault", "asm_exc_page_fault"], f.MEMORY),
        ([None, None], f.OTHER),  # in the kernel, not for a call (an interrupt)
        ([], None),  # user mode
    ],
)  # fmt: skip
def test_a_perf_chain_names_the_call_it_served(chain, family) -> None:
    assert f.chain_family(chain) == family


def test_kernel_time_is_apportioned_by_the_best_evidence_there_is() -> None:
    blocked = Counter({(DISK, f.DURABILITY): 30, (SLEEP, f.OTHER): 70})
    # The kernel's own samples first, user-mode ones left out.
    mix, how = kernel_mix(Counter({f.METADATA: 6, f.FILE_DATA: 2, "user": 90}), Counter(), blocked)
    assert how == "perf" and mix == {f.METADATA: 0.75, f.FILE_DATA: 0.25}
    # Then /proc stacks.
    mix, how = kernel_mix(Counter({"user": 5}), Counter({f.DURABILITY: 4}), blocked)
    assert how == "stack" and mix == {f.DURABILITY: 1.0}
    # Then the calls it blocked in, sleeps left out: a timer wait costs the kernel nothing.
    mix, how = kernel_mix(Counter(), Counter(), blocked)
    assert how == "blocked" and mix == {f.DURABILITY: 1.0}
    mix, how = kernel_mix(Counter(), Counter(), Counter())
    assert how == "none" and mix == {f.OTHER: 1.0}
