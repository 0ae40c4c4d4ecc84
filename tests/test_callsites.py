"""Every call site its own split: a profiler's samples joined with the monitor's causes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness import callsites
from harness.verdict.evidence import callsite_line

SOURCE = """\
import json, os

def encode(item):
    return json.dumps(item).encode()

def save(fd, data):
    os.write(fd, data)
    os.fsync(fd)
"""


@pytest.fixture
def job(tmp_path: Path) -> Path:
    path = tmp_path / "job.py"
    path.write_text(SOURCE)
    return path


def stacks(job: Path, tid: int = 7) -> dict[tuple[str, ...], int]:
    root = (f'process 1:"python {job}"', f"thread ({tid})", f"<module> ({job.name}:9)")
    return {
        (*root, f"encode ({job.name}:4)"): 10,  # json.dumps: computing
        (*root, f"save ({job.name}:7)"): 5,  # os.write
        (*root, f"save ({job.name}:8)"): 85,  # os.fsync
    }


def thread_causes(tid: int = 7) -> list[dict]:
    # One thread of 1 s: python 0.1 s, the kernel's flush 0.35 s, writes 0.05 s, the device
    # 0.5 s (all in fsync).
    causes = {
        "python": 0.1,
        "kernel:durability": 0.35,
        "kernel:file_data": 0.05,
        "device": 0.5,
    }
    return [{"pid": 1, "tid": tid, "lifetime_s": 1.0, "causes": causes,
             "device": {"durability": 0.5}}]  # fmt: skip


def test_each_line_gets_the_causes_it_can_spend(job: Path) -> None:
    joined = callsites.join(stacks(job), thread_causes(), callsites.resolver([job.parent]))

    sites = {s.where.split(" ")[0]: s for s in joined.sites.values()}
    fsync, write, encode = sites["job.py:8"], sites["job.py:7"], sites["job.py:4"]
    assert fsync.causes == pytest.approx({"kernel:durability": 0.35, "device": 0.5})
    # A write may compute what it writes on the same line: it shares the user-mode CPU.
    assert write.causes == pytest.approx({"kernel:file_data": 0.05, "python": 0.1 * 5 / 15})
    assert encode.causes == pytest.approx({"python": 0.1 * 10 / 15})
    assert sum(s.wall_s for s in joined.sites.values()) == pytest.approx(1.0)


def test_time_no_line_shows_goes_to_every_line_alike(job: Path) -> None:
    causes = thread_causes()
    causes[0]["causes"]["sleep"] = 0.2  # no line sleeps
    joined = callsites.join(stacks(job), causes, callsites.resolver([job.parent]))

    sleep = {s.where.split(" ")[0]: s.causes["sleep"] for s in joined.sites.values()}
    assert sleep == pytest.approx({"job.py:8": 0.17, "job.py:7": 0.01, "job.py:4": 0.02})


def test_a_thread_the_monitor_did_not_see_is_counted_apart(job: Path) -> None:
    joined = callsites.join(stacks(job, tid=99), thread_causes(tid=7), callsites.resolver([]))
    assert joined.threads_without_causes == 1 and not joined.sites


def test_native_leaf_frames_say_what_the_line_calls() -> None:
    stack = ("run (job.py:3)", "os_fsync (libpython3.11.so.1.0)", "fsync (libc.so.6)")
    assert "durability" in callsites.hints_of(stack, callsites.resolver([]))
    assert callsites.hints_of(("f (nowhere.py:1)",), callsites.resolver([])) == frozenset()


def test_summary_rows_give_shares_by_family_without_queueing(job: Path) -> None:
    causes = thread_causes()
    causes[0]["causes"]["queued"] = 1.0
    joined = callsites.join(stacks(job), causes, callsites.resolver([job.parent]))
    family = {"python": "cpu", "queued": "queued"}.get

    rows = callsites.summary_rows(joined, lambda c: family(c) or "disk")

    top = rows[0]
    assert top["where"].startswith("job.py:8") and top["families"] == {"disk": 1.0}
    assert top["queued_s"] == pytest.approx(0.85)
    assert Counter(r["where"].split(" ")[0] for r in rows) == Counter(
        ["job.py:8", "job.py:7", "job.py:4"]
    )


def test_the_evidence_line_lists_only_the_causes_of_the_bound() -> None:
    # A line that opens files: half the kernel's metadata work, half Python.
    site = {
        "where": "out.py:12 write",
        "wall_s": 1.0,
        "share": 0.6,
        "queued_s": 0.0,
        "causes": {"kernel:metadata": 0.5, "python": 0.45, "kernel:memory": 0.05},
        "families": {"cpu": 0.5, "filesystem": 0.5},
    }
    family = {"kernel:metadata": "filesystem"}.get

    line = callsite_line("cpu", [site], lambda c: family(c) or "cpu")

    assert line is not None and "50% is cpu" in line
    assert "45% user-mode CPU" in line and "metadata" not in line
