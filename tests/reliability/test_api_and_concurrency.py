"""Faults on the API lose nothing and double nothing; the token never leaks into a run's files;
two harness runs into one profiles root never collide."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

from harness.summary import find_runs, load
from tests.reliability.support import harness

TOKEN = "test-token-do-not-leak-7f3a9c"


def test_faulty_api_pipeline_loses_and_duplicates_nothing(tmp_path, ledger):
    out_dir, profiles = tmp_path / "out", tmp_path / "profiles"
    env = {**os.environ, "PIPEPROF_API_TOKEN": TOKEN}
    proc = harness(
        "run",
        "pipeline",
        "--tool",
        "none",
        "--out",
        str(profiles),
        "--set",
        "source=api",
        "--set",
        "ingest_mode=asyncio",
        "--set",
        "workers=16",
        "--set",
        "items=5000",
        "--set",
        "fault_rate=0.05",
        "--set",
        "rate_limit=300",
        "--set",
        "latency_ms=20",
        "--set",
        "output_layout=collection",
        "--set",
        f"out_dir={out_dir}",
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = Counter(
        json.loads(line)["id"] for line in (out_dir / "collection.jsonl").read_text().splitlines()
    )
    lost, dups = 5000 - len(found), sum(n - 1 for n in found.values())
    (run_dir,) = find_runs(profiles)
    result = json.loads((run_dir / "result.json").read_text())
    retries = result["api"]["retries"]
    ledger(
        "pipeline from API, 5000 items, asyncio x16",
        faults=" ".join(f"{k}:{v}" for k, v in retries.items()),
        lost=lost,
        duplicates=dups,
    ).record()
    assert lost == 0 and dups == 0
    assert sum(retries.values()) > 0, "no fault was injected: the test proves nothing"
    report = harness("report", "--out", str(profiles))
    assert report.returncode == 0, report.stderr
    for path in [*profiles.rglob("*"), *out_dir.rglob("*")]:  # run, its output, the report
        if path.is_file():
            assert TOKEN not in path.read_text(errors="replace"), f"token leaked into {path}"
    assert (profiles / "index.html").is_file()
    assert TOKEN not in proc.stdout + proc.stderr + report.stdout + report.stderr


def test_two_runs_at_once_into_one_root(tmp_path, ledger):
    profiles = tmp_path / "profiles"
    command = [
        sys.executable,
        "-m",
        "harness",
        "run",
        "output",
        "--tool",
        "none",
        "--set",
        "items=500",
        "--out",
        str(profiles),
    ]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)
    ]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    runs = find_runs(profiles)
    assert len(runs) == 2 and runs[0] != runs[1]
    for run_dir in runs:
        summary = load(run_dir)
        assert summary.status == "ok" and summary.run_id == run_dir.name
        assert json.loads((run_dir / "result.json").read_text())["items_out"] == 500
    ledger("two harness runs at once, one profiles root", faults="concurrency", orphans=0).record()
