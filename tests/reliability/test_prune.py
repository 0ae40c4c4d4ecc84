"""harness prune on a root of real runs: --keep 3 leaves the 3 newest, every run a study
references, and the run going on meanwhile, untouched."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from harness import rundir, tools
from harness.runner import RunRequest, execute
from harness.study.results import PointResult, RunRecord, Study, save
from harness.summary import find_runs, load
from harness.targets import resolve

QUICK = "x = sum(range(10_000))\n"
SLOW = "import time\ntime.sleep(60)\n"


def real_run(script: Path, root: Path) -> Path:
    request = RunRequest(
        resolve(str(script), [], []), tools.get("none"), rundir.check_writable(root)
    )
    return execute(request).run_dir


def test_prune_keep_3_with_a_study_and_a_run_in_progress(tmp_path, ledger):
    root = tmp_path / "profiles"
    quick, slow = tmp_path / "quick.py", tmp_path / "slow.py"
    quick.write_text(QUICK)
    slow.write_text(SLOW)
    study_dir = root / "study-20261129T000000Z"
    in_study = [real_run(quick, study_dir / "runs") for _ in range(2)]
    point = PointResult("k", "output", "layout", "k", {}, "none")
    point.runs = [RunRecord(f"runs/{d.name}", "ok") for d in in_study]
    save(Study(points=[point]), study_dir)
    plain = [real_run(quick, root) for _ in range(10)]
    running = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", str(slow), "--tool", "none", "--out", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(find_runs(root)) < 13 and time.monotonic() < deadline:
            time.sleep(0.05)
        (live,) = set(find_runs(root)) - set(plain) - set(in_study)
        assert rundir.is_in_progress(live)
        dry = harness_prune(root, "--keep", "0", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert live.name not in dry.stdout.replace(f"kept {live.name}: in progress", "")
        assert f"kept {live.name}: in progress" in dry.stdout
        assert len(find_runs(root)) == 13, "a dry run removed something"
        done = harness_prune(root, "--keep", "3")
        assert done.returncode == 0, done.stderr
        assert "removed 7 run(s), freed" in done.stdout
        assert running.poll() is None, "the run in progress was disturbed"
        left = set(find_runs(root))
        must_stay = {*plain[-3:], *in_study, live}
        lost = len(must_stay - left)
        assert left == must_stay
        for run_dir in in_study + plain[-3:]:
            assert load(run_dir).status == "ok"
    finally:
        running.send_signal(signal.SIGINT)
        running.communicate(timeout=60)
    assert running.returncode == 130
    assert load(live).status == "interrupted"
    ledger(
        "prune --keep 3: 10 runs, a study, one run going on",
        faults="prune during a run",
        lost=lost,
    ).record()


def harness_prune(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", "prune", "--out", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
