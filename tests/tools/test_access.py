"""Who may trace whom: the rules as pure functions of the machine's facts, and the real probes."""

from __future__ import annotations

import os
import subprocess

import pytest

from harness.tools import access

ROOT = access.Facts(uid=0, yama_scope=None, cap_sys_ptrace=True, in_container=False,
                    seccomp_filtered=False)  # fmt: skip
USER = access.Facts(uid=1000, yama_scope=1, cap_sys_ptrace=False, in_container=False,
                    seccomp_filtered=False)  # fmt: skip


@pytest.mark.parametrize(
    "facts, expected",
    [
        (ROOT, None),
        (USER, None),  # scope 1: the runner's children let any tracer in
        (access.Facts(1000, 2, False, False, False), "ptrace_scope=2 lets only CAP_SYS_PTRACE"),
        (access.Facts(0, 2, True, False, False), None),
        (access.Facts(0, 3, True, False, False), "ptrace_scope=3, fixed until reboot"),
    ],
)
def test_launch_problem_by_yama_scope(facts: access.Facts, expected: str | None) -> None:
    problem = access.launch_problem(facts)
    assert problem is None if expected is None else expected in problem


def test_attach_needs_the_same_user_or_the_capability() -> None:
    assert access.attach_problem(ROOT, 42, 1000, None) is None
    problem = access.attach_problem(USER, 42, 0, None)
    assert "pid 42 belongs to user root" in problem and "as root (sudo)" in problem


def test_attach_under_yama_scope_1_needs_the_capability() -> None:
    problem = access.attach_problem(USER, 42, 1000, None)
    assert "ptrace_scope=1" in problem and "set kernel.yama.ptrace_scope to 0" in problem
    assert access.attach_problem(access.Facts(1000, 0, False, False, False), 42, 1000, None) is None


def test_a_container_without_the_capability_names_the_docker_fix() -> None:
    facts = access.Facts(0, None, False, True, True)
    problem = access.attach_problem(facts, 42, 0, 1)  # EPERM from the read probe
    assert "--cap-add SYS_PTRACE" in problem and "securityContext" in problem


def test_the_read_probe_reads_a_child_and_leaves_it_alone() -> None:
    child = subprocess.Popen(["sleep", "5"])
    try:
        assert access.read_probe(child.pid) is None  # root here, or the same user
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()
    assert access.read_probe(child.pid) is not None  # gone: refused


def test_facts_of_this_machine_are_read() -> None:
    facts = access.Facts.here()
    assert facts.uid == os.geteuid()
    assert facts.yama_scope is None or 0 <= facts.yama_scope <= 3
    if facts.cap_sys_ptrace:  # then nothing may refuse ptrace on our own child
        assert access.probe_ptrace() is None
        assert access.syscall_problem(facts) is None
