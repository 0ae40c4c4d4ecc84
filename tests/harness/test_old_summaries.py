"""Run directories written by earlier versions (summary schemas 1, 2 and 3, manifests without a
schema) still load: `harness show` lists and shows them, `harness report` links them, and a
summary loaded and saved again keeps every key it had, known or not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.summary import load, save

SCHEMA_1 = {
    "run_id": "20261101T100000Z-output-py-spy",
    "target": "output",
    "kind": "scenario",
    "tool": "py-spy",
    "status": "ok",
    "schema": 1,
    "exit_code": 0,
    "params": {"items": 2000, "fsync": "each"},
    "started_at": "2026-11-01T10:00:00+00:00",
    "wall_s": 2.5,
    "cpu": {"user_s": 0.4, "sys_s": 0.6, "cores_used": 0.4, "cpu_count": 2},
    "split": dict(
        on_cpu=0.35,
        cpu_wait=0.01,
        disk_wait=0.6,
        network_wait=0.0,
        lock_wait=0.0,
        sleep=0.0,
        other=0.04,
    ),
    "gil": {"held_fraction": 0.3, "waiting_fraction": 0.0, "source": "py-spy (held)"},
    "memory": {"peak_rss_mb": 41.5, "peak_heap_mb": None, "workload_peak_rss_mb": 40.0},
    "io": {"read_mb": 0.0, "write_mb": 3.2, "read_chars_mb": 1.0, "write_chars_mb": 3.0},
    "throughput": {"items": 2000, "items_per_s": 900.0, "elapsed_s": 2.2, "source": "workload"},
    "stages": {"output": {"wall_s": 2.2, "cpu_s": 0.9, "share": 1.0}},
    "verdict": {
        "bound": "disk",
        "confidence": "high",
        "evidence": ["disk: 60% of thread time waiting on the device"],
        "advice": "fsync less often",
        "shares": {"cpu": 0.35, "disk": 0.6},
    },
    "artifacts": {"flamegraph": "flamegraph.svg"},
    "tool_view": {"metrics": {"active_fraction": 1.0}, "top": []},
    "monitor": {"samples": 250, "cpu_unknown_key": 1},
    "tool_overhead": None,
    "problems": [],
    "error": None,
}
SCHEMA_2 = {
    **SCHEMA_1,
    "run_id": "20261102T100000Z-output-py-spy",
    "started_at": "2026-11-02T10:00:00+00:00",
    "schema": 2,
    "causes": {
        "thread_time_s": 2.4,
        "seconds": {"device": 1.4, "python": 0.8},
        "shares": {"device": 0.6, "python": 0.34},
        "families": {"disk": 0.6, "cpu": 0.34},
        "unattributed_s": 0.0,
    },
    "callsites": [{"where": "output.py:12 write", "share": 1.0, "families": {"disk": 0.6}}],
}
SCHEMA_3 = {
    **SCHEMA_2,
    "run_id": "20261103T100000Z-output-none",
    "started_at": "2026-11-03T10:00:00+00:00",
    "tool": "none",
    "schema": 3,
    "command": ["python", "workloads/output.py", "--items", "2000"],
    "python_processes": [{"pid": 42, "cmdline": "python workloads/output.py"}],
    "filesystem": None,
    "memory": {**SCHEMA_1["memory"], "peak_rss_source": "monitor", "monitor_peak_rss_mb": 41.5},
}
OLD = (SCHEMA_1, SCHEMA_2, SCHEMA_3)


def write_old(root: Path, summary: dict) -> Path:
    run_dir = root / summary["run_id"]
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    manifest = {"target": summary["target"], "tool": summary["tool"], "params": summary["params"]}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))  # no schema: before it had one
    for name in summary["artifacts"].values():
        (run_dir / name).write_text("<svg/>")
    return run_dir


def harness(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize("old", OLD, ids=lambda s: f"schema-{s['schema']}")
def test_an_old_summary_loads_typed_and_saves_back_whole(tmp_path: Path, old: dict) -> None:
    run_dir = write_old(tmp_path, old)

    summary = load(run_dir)
    save(summary, run_dir)
    again = json.loads((run_dir / "summary.json").read_text())

    assert summary.split.disk_wait == 0.6 and summary.cpu.cores_used == 0.4
    assert summary.throughput.items_per_s == 900.0 and summary.memory.peak_heap_mb is None
    assert again["monitor"]["cpu_unknown_key"] == 1
    assert again["throughput"]["source"] == "workload"
    for section in ("cpu", "split", "gil", "io", "throughput"):
        assert again[section] == old[section], section


def test_show_and_report_read_runs_of_every_earlier_schema(tmp_path: Path) -> None:
    root = tmp_path / "profiles"
    dirs = [write_old(root, old) for old in OLD]

    table = harness("show", str(root), cwd=tmp_path)
    one = harness("show", str(dirs[0]), cwd=tmp_path)
    report = harness("report", "--out", str(root), cwd=tmp_path)

    assert table.returncode == 0, table.stderr
    assert all(d.name in table.stdout for d in dirs) and "warning" not in table.stderr
    assert one.returncode == 0, one.stderr
    assert "disk (high confidence)" in one.stdout
    assert "on-cpu 35%, cpu 1%, disk 60%, other 4%" in one.stdout
    assert report.returncode == 0, report.stderr
    assert "3 runs (3 readable)" in report.stdout
    page = (root / "index.html").read_text()
    assert all(d.name in page for d in dirs)
    assert f"{dirs[0].name}/flamegraph.svg" in page
