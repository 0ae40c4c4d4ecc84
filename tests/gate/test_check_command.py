"""`harness check` end to end on this noisy machine: the same program passes over five repeats,
20% more CPU work fails on CPU per item, an fsync per item fails on the disk share."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.summary import find_runs

pytestmark = pytest.mark.slow

JOB = """
import json, os, sys, time
ITEMS, WORK, FSYNC = {items}, {work}, {fsync}

def handle(i):
    return sum(k * k for k in range(WORK))

start = time.perf_counter()
with open(sys.argv[1], "w") as out:
    for i in range(ITEMS):
        out.write(f"{{handle(i)}}\\n")
        if FSYNC:
            out.flush()
            os.fsync(out.fileno())
elapsed = time.perf_counter() - start
print(json.dumps({{"items_in": ITEMS, "items_per_s": ITEMS / elapsed, "elapsed_s": elapsed}}))
"""
# ~0.8 s of CPU: runs of a second or more keep CPU per item steady here (see gate/judge.py).
ITEMS, WORK = 1500, 15_000
# Light items (~0.3 ms of CPU), so that an fsync of each (0.25-2.5 ms here) is much of the time;
# 0.6 s runs, as the monitor reads peak RSS every 0.1 s.
LIGHT_ITEMS, LIGHT_WORK = 2000, 3_000


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True, text=True, timeout=600, cwd=cwd,
    )  # fmt: skip


def run_job(
    tmp: Path, out: str, work: int, fsync: bool, repeat: int = 1, items: int = ITEMS
) -> None:
    """The job at one path, as CI runs the same command on two checkouts."""
    (tmp / "job.py").write_text(JOB.format(items=items, work=work, fsync=fsync))
    command = [sys.executable, "job.py", str(tmp / "items.txt")]
    done = harness("run", "--tool", "none", "--repeat", str(repeat), "--out", out, "--", *command,
                   cwd=tmp)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """Five rounds of: the job (baseline), the job doing 20% more work, the job again. Sets of
    runs taken apart drift with the machine's load (the same job's CPU per item moved 12%
    between two sets of five here); taken in rounds they drift together."""
    tmp = tmp_path_factory.mktemp("gate")
    for _ in range(5):
        run_job(tmp, "baseline", WORK, fsync=False)
        run_job(tmp, "heavier", int(WORK * 1.2), fsync=False)
        run_job(tmp, "same", WORK, fsync=False)
    (tmp / "job.py").write_text(JOB.format(items=ITEMS, work=WORK, fsync=False))
    return tmp


def check(tmp: Path, out: str, *args: str, repeat: int = 5) -> subprocess.CompletedProcess:
    return harness("check", out, "--baseline", "baseline", "--repeat", str(repeat), *args,
                   cwd=tmp)  # fmt: skip


def test_the_same_program_passes_over_five_repeats(workdir: Path) -> None:
    done = check(workdir, "same")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        done.stdout.strip().splitlines()[-1]
        == "ok: 12 figures within their limits (5 run(s) against 5)"
    )


def test_twenty_percent_more_cpu_work_fails_naming_cpu_per_item(workdir: Path) -> None:
    done = check(workdir, "heavier")
    assert done.returncode == 1, done.stdout + done.stderr
    failures = done.stdout.strip().splitlines()
    assert any(line.startswith("CPU per item ") for line in failures), done.stdout
    assert failures[-1] == "FAIL: 1 of 1 target(s) regressed"


def test_an_fsync_per_item_fails_naming_the_disk_share(tmp_path: Path) -> None:
    run_job(tmp_path, "baseline", LIGHT_WORK, fsync=False, repeat=3, items=LIGHT_ITEMS)
    run_job(tmp_path, "fsync", LIGHT_WORK, fsync=True, items=LIGHT_ITEMS)
    done = check(tmp_path, "fsync", "--format", "markdown", repeat=3)
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(find_runs(tmp_path / "fsync")) == 3  # one given, two repeats
    row = next(line for line in done.stdout.splitlines() if line.startswith("| disk share |"))
    assert row.endswith("| **FAIL** |"), done.stdout
    assert done.stdout.startswith("### pipeprof check: FAIL")


def test_bad_limits_and_baselines_are_one_line(workdir: Path) -> None:
    for args, expected in (
        (["--max-cpu-regression", "five"], "--max-cpu-regression 'five': write it as"),
        (["--max-share-shift", "10%"], "--max-share-shift '10%': write it as a number of pp"),
    ):
        done = harness("check", "baseline", "--baseline", "baseline", *args, cwd=workdir)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
    done = harness("check", "baseline", "--baseline", "nowhere", cwd=workdir)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: --baseline nowhere does not exist: give a run directory or one of runs"
    )
