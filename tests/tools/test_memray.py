"""The memray adapter: exact command lines, stats from recorded captures, real runs (slow)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.tools import memray_tool
from harness.tools.base import LaunchContext
from harness.tools.memray_tool import CAPTURE, FLAMEGRAPH, STATS, Memray
from tests.tools.interrupt import interrupt_when_ready

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "memray"
WORK = FIXTURES.parent / "work.py"  # a CPU loop, then a large allocation held briefly
PY = "/venv/bin/python"


def ctx(run_dir: Path, **options: str) -> LaunchContext:
    return LaunchContext(run_dir=run_dir, python=PY, options=options)


def recorded_run(tmp_path: Path, source: Path = FIXTURES, *, rendered: bool = True) -> Path:
    """A run directory with recorded captures; `rendered` adds their reports, newer than them."""
    captures = list(source.glob(f"{CAPTURE}*"))
    for capture in captures:
        shutil.copy(capture, tmp_path / capture.name)
    if rendered:
        later = time.time() + 5
        for stats in source.glob("memray-stats*.json"):
            os.utime(shutil.copy(stats, tmp_path / stats.name), (later, later))
        for capture in captures:
            suffix = capture.name.removeprefix(CAPTURE)
            graph = tmp_path / f"memray-flamegraph{suffix}.html"
            graph.write_text("<html></html>")
            os.utime(graph, (later, later))
    return tmp_path


def test_command_records_forked_children_quietly_into_the_run_dir(tmp_path):
    cmd = Memray().command([PY, "/src/job.py", "--items", "5"], ctx(tmp_path))

    assert cmd == [
        PY, "-m", "memray", "run", "-q", "--follow-fork", "-o", str(tmp_path / "memray.bin"),
        "/src/job.py", "--items", "5",
    ]  # fmt: skip


def test_command_adds_native_frames_on_request(tmp_path):
    cmd = Memray().command([PY, "/src/job.py"], ctx(tmp_path, native="1"))

    assert cmd[-2:] == ["--native", "/src/job.py"]


def test_render_commands_are_exact(tmp_path):
    capture, out = tmp_path / "memray.bin", tmp_path / "out"

    assert memray_tool.stats_command(PY, capture, out) == [
        PY, "-m", "memray", "stats", "--json", "-n", "10", "-f", "-o", str(out), str(capture),
    ]  # fmt: skip
    assert memray_tool.flamegraph_command(PY, capture, out) == [
        PY, "-m", "memray", "flamegraph", "--no-web", "-f", "-o", str(out), str(capture),
    ]  # fmt: skip


def test_collect_reads_peak_totals_and_top_sites(tmp_path):
    result = Memray().collect(recorded_run(tmp_path))

    assert result.problems == []
    assert result.artifacts == {
        "memray_bin": "memray.bin",
        "memray_stats": "memray-stats.json",
        "memray_flamegraph": "memray-flamegraph.html",
    }
    m = result.metrics
    assert m["peak_heap_mb"] == pytest.approx(20.04, abs=0.01)
    assert m["total_allocations"] == 161
    assert m["total_allocated_mb"] == pytest.approx(20.28, abs=0.01)
    assert m["child_captures"] == 0
    assert result.top[0] == {
        "where": "/tmp/pipeprof-fixture/work.py:20 allocate",
        "value": 20.0,
        "unit": "MB",
    }
    assert result.top[1]["where"] == "<frozen runpy>:259 _get_code_from_file"
    assert len(result.top) == memray_tool.TOP_N


def test_collect_adds_forked_children(tmp_path):
    result = Memray().collect(recorded_run(tmp_path, FIXTURES / "fork"))

    assert result.problems == []
    m = result.metrics
    assert m["child_captures"] == 2
    assert m["peak_heap_mb"] == pytest.approx(1.26, abs=0.01)
    assert m["child_peak_heap_mb"] == pytest.approx(30.0, abs=0.01)
    assert m["total_allocated_mb"] == pytest.approx(62.23, abs=0.01)
    assert result.top[0] == {
        "where": "/tmp/pipeprof-fixture/mp.py:6 work",
        "value": 60.0,
        "unit": "MB",
    }
    for pid in ("10310", "10312"):
        assert result.artifacts[f"memray_bin_{pid}"] == f"memray.bin.{pid}"
        assert result.artifacts[f"memray_stats_{pid}"] == f"memray-stats.{pid}.json"
        assert result.artifacts[f"memray_flamegraph_{pid}"] == f"memray-flamegraph.{pid}.html"


def test_collect_flags_a_capture_cut_short_by_sigkill(tmp_path):
    result = Memray().collect(recorded_run(tmp_path, FIXTURES / "killed"))

    assert result.problems == [
        "memray.bin ends where it starts: the process was killed before memray closed it; "
        "figures cover what was written"
    ]
    assert result.metrics["peak_heap_mb"] > 0


def test_collect_renders_each_capture_with_the_exact_commands(tmp_path, monkeypatch):
    run_dir = recorded_run(tmp_path, FIXTURES / "fork", rendered=False)
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        output = Path(cmd[cmd.index("-o") + 1])
        stats = FIXTURES / "fork" / output.name
        output.write_text(stats.read_text() if stats.is_file() else "<html></html>")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(memray_tool.subprocess, "run", fake_run)

    result = Memray().collect(run_dir)

    py = sys.executable
    expected = []
    for suffix in ("", ".10310", ".10312"):
        capture = run_dir / f"memray.bin{suffix}"
        stats = run_dir / f"memray-stats{suffix}.json"
        graph = run_dir / f"memray-flamegraph{suffix}.html"
        expected += [
            memray_tool.stats_command(py, capture, stats),
            memray_tool.flamegraph_command(py, capture, graph),
        ]
    assert sorted(calls) == sorted(expected)
    assert result.metrics["child_captures"] == 2


def test_collect_caps_the_children_given_flame_graphs(tmp_path, monkeypatch):
    monkeypatch.setattr(memray_tool, "MAX_CHILD_FLAMEGRAPHS", 1)

    result = Memray().collect(recorded_run(tmp_path, FIXTURES / "fork"))

    assert result.problems == ["flame graphs drawn for 1 of 2 forked children"]
    graphs = [k for k in result.artifacts if k.startswith("memray_flamegraph_")]
    assert len(graphs) == 1


def test_a_capture_memray_cannot_read_is_a_problem_not_an_error(tmp_path, monkeypatch):
    (tmp_path / CAPTURE).write_bytes(b"not a capture")

    def fake_run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        reason = "Reason: The provided input file does not look like a binary generated by memray."
        return subprocess.CompletedProcess(cmd, 1, "", f"Failed to compute statistics\n{reason}\n")

    monkeypatch.setattr(memray_tool.subprocess, "run", fake_run)

    result = Memray().collect(tmp_path)

    assert len(result.problems) == 2
    assert result.problems[0].startswith(
        "memray could not render memray-stats.json from memray.bin"
    )
    assert result.problems[0].endswith("does not look like a binary generated by memray.")
    assert result.artifacts == {"memray_bin": "memray.bin"}
    assert "peak_heap_mb" not in result.metrics


def test_collect_on_unreadable_stats_says_so(tmp_path):
    run_dir = recorded_run(tmp_path)
    (run_dir / STATS).write_text('{"total_num_allocations": ')
    os.utime(run_dir / STATS, (time.time() + 5, time.time() + 5))

    result = Memray().collect(run_dir)

    assert result.problems == ["memray-stats.json is unreadable (JSONDecodeError)"]
    assert result.artifacts["memray_flamegraph"] == FLAMEGRAPH


def test_collect_without_a_capture_says_so(tmp_path):
    result = Memray().collect(tmp_path)

    assert result.artifacts == {}
    assert result.problems == ["no memray.bin: memray stopped before it started recording"]


def test_failure_hint_names_the_fix():
    tool = Memray()

    assert "fresh run directory" in tool.failure_hint(
        "Output file memray.bin already exists. Memray can overwrite it with --force"
    )
    assert "pip install memray" in tool.failure_hint("No module named memray")
    assert tool.failure_hint("KeyError: 'x'") is None


def test_memray_is_available_here():
    assert Memray().problem() is None


def run_dir_in(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    return run_dir


@pytest.mark.slow
def test_real_run_finds_a_50_mb_allocation_and_draws_an_offline_flame_graph(tmp_path):
    run_dir = run_dir_in(tmp_path)
    cmd = Memray().command([sys.executable, str(WORK), "0.2", "50"], ctx(run_dir))

    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    result = Memray().collect(run_dir)

    assert done.returncode == 0, done.stderr
    assert result.problems == []
    assert 45 < result.metrics["peak_heap_mb"] < 80
    assert result.top[0]["where"].endswith("work.py:20 allocate")
    page = (run_dir / FLAMEGRAPH).read_text()
    assert "<script src=" not in page and "cdn.jsdelivr.net" not in page
    assert json.loads((run_dir / STATS).read_text())["metadata"]["peak_memory"] > 45 * 2**20


@pytest.mark.slow
def test_a_capture_cut_short_by_sigkill_still_renders(tmp_path):
    shutil.copy(FIXTURES / "killed" / CAPTURE, tmp_path / CAPTURE)

    result = Memray().collect(tmp_path)

    assert (tmp_path / FLAMEGRAPH).is_file()
    assert [p for p in result.problems if "killed" in p]
    assert result.metrics["total_allocations"] > 0


@pytest.mark.slow
def test_sigint_closes_the_capture(tmp_path):
    script = tmp_path / "forever.py"
    script.write_text(
        "block = bytearray(30 * 2**20)\nprint('ready', flush=True)\n"
        "while True:\n    sum(range(10_000))\n"
    )
    run_dir = run_dir_in(tmp_path)
    interrupt_when_ready(Memray().command([sys.executable, str(script)], ctx(run_dir)))

    result = Memray().collect(run_dir)

    assert result.problems == []
    assert result.metrics["peak_heap_mb"] > 25


def test_an_attached_python_without_memray_is_named_as_the_reason(tmp_path: Path) -> None:
    # What `memray attach` logs when the target's Python has no memray to import.
    (tmp_path / memray_tool.ATTACH_LOG).write_text(
        "Failed to start tracking in remote process: "
        "ModuleNotFoundError(\"No module named 'memray'\")\n"
    )

    result = Memray().collect(tmp_path)

    assert result.problems == [
        f"no {CAPTURE}: the process's own Python cannot import memray (its tracker runs inside "
        "the process): install memray in that Python, or use --tool py-spy"
    ]
