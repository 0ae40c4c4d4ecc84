"""`harness run` end to end with every real tool, on a small output scenario."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.summary import find_runs, load
from harness.verdict.families import FAMILIES

pytestmark = pytest.mark.slow


def harness(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def all_tools(tmp_path_factory) -> dict[str, Path]:
    """One `--tool all` run plus a `--tool none` run, shared by the tests below."""
    out = tmp_path_factory.mktemp("profiles")
    proc = harness(
        "run", "output", "--tool", "all", "--tool", "none", "--set", "items=2000", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = {load(d).tool: d for d in find_runs(out)}
    return runs


def test_all_makes_one_run_directory_per_tool(all_tools):
    assert set(all_tools) == {"py-spy", "scalene", "memray", "viztracer", "none"}
    assert len({d.name for d in all_tools.values()}) == 5


@pytest.mark.parametrize("tool", ["py-spy", "scalene", "memray", "viztracer", "none"])
def test_summary_is_complete_and_consistent(all_tools, tool):
    run_dir = all_tools[tool]
    summary = load(run_dir)
    assert summary.status == "ok" and summary.exit_code == 0
    assert abs(sum(summary.split.shares().values()) - 1) <= 0.01
    result = json.loads((run_dir / "result.json").read_text())
    assert summary.throughput.items_per_s == result["items_per_s"] > 0
    assert summary.throughput.items == 2000
    assert summary.memory.peak_rss_mb > 10
    assert summary.verdict["bound"] in {*FAMILIES, "memory", "mixed"} - {"other"}
    causes = summary.causes
    assert abs(sum(causes["shares"].values()) - 1) <= 0.01, causes
    # The causes hold every working thread's time, and the CPU of unseen ones besides.
    assert causes["thread_time_s"] >= round(summary.monitor["thread_time_s"], 4)
    assert summary.verdict["evidence"]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["tool"] == tool and manifest["params"]["items"] == 2000
    for name, rel in summary.artifacts.items():
        assert (run_dir / rel).exists(), f"artifact {name} missing"


def test_pyspy_artifacts(all_tools):
    run_dir = all_tools["py-spy"]
    summary = load(run_dir)
    root = ET.fromstring((run_dir / summary.artifacts["flamegraph"]).read_text())
    assert root.tag.endswith("svg")
    speedscope = json.loads((run_dir / summary.artifacts["speedscope"]).read_text())
    assert speedscope["profiles"] and speedscope["shared"]["frames"]
    assert summary.tool_view["metrics"]["samples"] > 0


def test_memray_artifacts(all_tools):
    summary = load(all_tools["memray"])
    assert "memray_flamegraph" in summary.artifacts
    assert summary.memory.peak_heap_mb > 0
    assert summary.tool_view["top"], "memray found no allocation sites"


def test_scalene_artifacts(all_tools):
    summary = load(all_tools["scalene"])
    assert {"scalene_json", "scalene_html"} <= set(summary.artifacts)


def test_viztracer_artifacts(all_tools):
    run_dir = all_tools["viztracer"]
    summary = load(run_dir)
    trace = json.loads((run_dir / summary.artifacts["trace"]).read_text())
    assert trace["traceEvents"]


def test_any_script_with_its_arguments(tmp_path):
    script = tmp_path / "my_pipeline.py"
    script.write_text(
        "import sys, json\n"
        "total = sum(i * i for i in range(300_000))\n"
        "json.dump(sys.argv[1:], open(sys.argv[-1] + '.args', 'w'))\n"
    )
    marker = tmp_path / "mark"
    proc = harness(
        "run",
        str(script),
        "--tool",
        "none",
        "--out",
        str(tmp_path / "p"),
        "--",
        "arg1",
        "--flag",
        str(marker),
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "mark.args").read_text()) == ["arg1", "--flag", str(marker)]
    (run_dir,) = find_runs(tmp_path / "p")
    summary = load(run_dir)
    assert summary.kind == "script" and summary.target == "my_pipeline"
    assert summary.params == {"argv": ["arg1", "--flag", str(marker)]}
    assert not summary.throughput  # no workload result: nothing measured


def test_an_fsync_call_site_is_disk_and_drawn_by_cause(tmp_path: Path) -> None:
    proc = harness(
        "run", "output", "--tool", "py-spy", "--set", "fsync=each", "--set", "items=1500",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = find_runs(tmp_path)[0]
    summary = load(run_dir)
    source = (Path(__file__).parents[2] / "workloads" / "pipeline" / "output.py").read_text()
    lines = source.splitlines()
    prefix = "workloads/pipeline/output.py:"
    fsync_sites = [
        s
        for s in summary.callsites
        if s["where"].startswith(prefix)
        and "os.fsync(" in lines[int(s["where"][len(prefix) :].split(" ")[0]) - 1]
    ]
    assert fsync_sites, summary.callsites
    site = max(fsync_sites, key=lambda s: s["wall_s"])
    fsync_line = site["where"][len(prefix) :].split(" ")[0]
    assert site["families"]["disk"] >= 0.8, site
    assert "call sites" in proc.stdout and f"output.py:{fsync_line}" in proc.stdout
    svg = run_dir / summary.artifacts["flamegraph_causes"]
    assert ET.parse(svg).getroot().tag.endswith("svg")
