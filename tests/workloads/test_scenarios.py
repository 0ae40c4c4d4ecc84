"""The scenarios as users run them: `python -m workloads.<name>`, real files and fsync."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from workloads import data


def run(module: str, *args: str, check: bool = True) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=300
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ids_in(out_dir: Path) -> Counter:
    found: Counter = Counter()
    for path in out_dir.glob("items/**/*.json"):
        found[json.loads(path.read_bytes())["id"]] += 1
    for path in out_dir.glob("batches/*"):
        found.update(json.loads(line)["id"] for line in path.read_text().splitlines())
    for path in out_dir.glob("collection.jsonl"):
        found.update(json.loads(line)["id"] for line in path.read_text().splitlines())
    return found


def test_output_individual_fsync_each_writes_every_item(tmp_path):
    out = tmp_path / "out"
    result = run(
        "workloads.output",
        "--items",
        "2000",
        "--layout",
        "individual",
        "--fsync",
        "each",
        "--out-dir",
        str(out),
    )
    assert result["items_out"] == 2000 and result["status"] == "ok"
    files = sorted((out / "items").iterdir())
    assert len(files) == 2000
    for n in (0, 999, 1999):
        assert json.loads(files[n].read_bytes()) == data.make_item(n, 42)
    assert result["stages"]["output"]["wall_s"] > 0
    assert result["items_per_s"] > 0 and result["peak_rss_mb"] > 0


@pytest.mark.parametrize("layout", ["collection", "batched"])
def test_output_result_fields(tmp_path, layout):
    result = run(
        "workloads.output",
        "--items",
        "300",
        "--layout",
        layout,
        "--fsync",
        "end",
        "--result",
        str(tmp_path / "r.json"),
    )
    on_disk = json.loads((tmp_path / "r.json").read_text())
    for key in (
        "scenario",
        "params",
        "items_in",
        "items_out",
        "items_quarantined",
        "elapsed_s",
        "items_per_s",
        "stages",
        "peak_rss_mb",
    ):
        assert key in result and on_disk[key] == result[key]
    assert set(result["stages"]) == {"ingest", "transform", "output", "checkpoint"}


@pytest.mark.parametrize("mode", ["sequential", "asyncio", "threads", "processes"])
def test_ingest_files_modes(mode):
    result = run("workloads.ingest_files", "--items", "400", "--mode", mode, "--workers", "3")
    assert result["items_in"] == result["items_out"] == 400
    assert result["stages"]["ingest"]["cpu_s"] > 0


def test_corrupt_records_are_all_quarantined_with_reasons(tmp_path):
    out = tmp_path / "out"
    result = run(
        "workloads.pipeline", "--items", "2000", "--corrupt-rate", "0.01", "--out-dir", str(out)
    )
    assert result["items_in"] == 2000
    assert result["items_in"] == result["items_out"] + result["items_quarantined"]
    assert result["items_quarantined"] == 20
    quarantined = [json.loads(x) for x in (out / "quarantine.jsonl").read_text().splitlines()]
    assert len(quarantined) == 20 and all(q["reason"] for q in quarantined)
    bad = data.corrupt_indices(2000, 42, 0.01)
    assert sum(ids_in(out).values()) == 2000 - len(bad)
    assert {q["stage"] for q in quarantined} == {"parse", "validate"}


@pytest.mark.parametrize("layout", ["individual", "batched", "collection"])
def test_pipeline_killed_midway_then_resumed_writes_each_id_once(tmp_path, layout):
    out = tmp_path / "out"
    args = [
        "--items",
        "5000",
        "--checkpoint-every",
        "500",
        "--output-layout",
        layout,
        "--fsync",
        "batch",
        "--out-dir",
        str(out),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "workloads.pipeline", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    checkpoint = out / "checkpoint.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if checkpoint.exists() and json.loads(checkpoint.read_text())["position"] >= 1000:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = json.loads(checkpoint.read_text())["position"]
    assert 0 < killed_at < 5000, "the run was not killed midway: make it longer"
    result = run("workloads.pipeline", *args, "--resume")
    assert result["resumed_from"] == killed_at
    assert result["items_in"] == 5000 - killed_at
    found = ids_in(out)
    assert len(found) == 5000 and set(found.values()) == {1}


def test_non_empty_out_dir_without_resume_is_refused(tmp_path):
    (tmp_path / "old.txt").write_text("keep me")
    proc = subprocess.run(
        [sys.executable, "-m", "workloads.output", "--items", "10", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "not empty" in proc.stderr and "--resume" in proc.stderr
    assert (tmp_path / "old.txt").read_text() == "keep me"


def test_pipeline_from_faulty_rate_limited_api_writes_each_id_once(tmp_path):
    out = tmp_path / "out"
    result = run(
        "workloads.pipeline",
        "--source",
        "api",
        "--ingest-mode",
        "asyncio",
        "--workers",
        "16",
        "--items",
        "1000",
        "--fault-rate",
        "0.05",
        "--rate-limit",
        "300",
        "--output-layout",
        "collection",
        "--out-dir",
        str(out),
    )
    found = ids_in(out)
    assert len(found) == 1000 and set(found.values()) == {1}
    retries = result["api"]["retries"]
    assert sum(retries.values()) > 0, "no fault was injected: the test proves nothing"
    assert result["items_out"] == 1000
