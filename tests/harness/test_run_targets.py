"""`harness run -m MODULE` and `harness run -- COMMAND` end to end: the same kind of run as a
scenario, Python found wherever it is in the tree, and the wall time of the exit itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.summary import find_runs, load
from tests.reliability import support

pytestmark = pytest.mark.slow
VENV_BIN = str(Path(sys.executable).parent)


def harness(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    # `python` on PATH is this environment's, as in an activated virtualenv.
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    return support.harness(*args, timeout=timeout, env=env, cwd=cwd)


def only_run(out: Path):
    (run_dir,) = find_runs(out)
    return run_dir, load(run_dir)


@pytest.fixture(scope="module")
def three_ways(tmp_path_factory) -> dict[str, tuple[Path, object]]:
    """The output scenario run as a scenario, as -m module and as a command; the collection
    layout, whose verdict is not borderline (2,000 single files is: cpu or filesystem by the
    day's load), so the three verdicts can be held equal."""
    root = tmp_path_factory.mktemp("three-ways")
    ways = {
        "scenario": ["output", "--set", "items=2000", "--set", "layout=collection"],
        "module": ["-m", "workloads.output", "--", "--items", "2000", "--layout", "collection"],
        "command": ["--", "python", "-m", "workloads.output", "--items", "2000",
                    "--layout", "collection"],
    }  # fmt: skip
    found = {}
    for name, args in ways.items():
        proc = harness("run", "--out", str(root / name), *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        found[name] = only_run(root / name)
    return found


def test_module_and_command_give_the_same_kind_of_run_as_the_scenario(three_ways) -> None:
    _, scenario = three_ways["scenario"]
    wanted = {"flamegraph", "speedscope", "folded", "gil_folded", "stdout", "manifest"}
    for name in ("module", "command"):
        _, summary = three_ways[name]
        assert summary.kind == name and summary.status == "ok"
        assert summary.target == "workloads.output"
        assert wanted <= set(summary.artifacts), summary.artifacts
        assert summary.throughput.items == scenario.throughput.items == 2000
        assert summary.verdict["bound"] == scenario.verdict["bound"] == "cpu"
        assert summary.causes["families"].keys() == scenario.causes["families"].keys()
        assert summary.tool_view["metrics"]["samples"] > 0
        assert summary.command[-2:] == ["--layout", "collection"]
        assert summary.python_processes[0]["recorded_by"] == summary.python_processes[0]["pid"]
        assert summary.artifacts["result"] == "result.json"  # prepared as the scenario is
        assert any("prepared as the output scenario" in p for p in summary.problems)


def test_a_pipeline_command_is_prepared_as_the_pipeline_scenario(tmp_path: Path) -> None:
    out = tmp_path / "p"
    proc = harness("run", "--out", str(out), "--", "python", "-m", "workloads.pipeline",
                   "--items", "2000")  # fmt: skip

    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir, summary = only_run(out)
    assert summary.kind == "command" and summary.target == "workloads.pipeline"
    assert summary.throughput.items == 2000 and set(summary.stages) >= {"ingest", "output"}
    assert summary.verdict["bound"] and summary.causes["families"]
    assert (run_dir / "flamegraph.svg").is_file() and (run_dir / "result.json").is_file()


def test_python_grandchild_of_a_shell_is_profiled(tmp_path: Path) -> None:
    code = (
        "import time\n"
        "def grandchild_spin():\n"
        "    t = time.monotonic()\n"
        "    while time.monotonic() - t < 1.0: pass\n"
        "grandchild_spin()\n"
    )
    script = tmp_path / "spin.py"
    script.write_text(code)
    out = tmp_path / "p"
    proc = harness("run", "--out", str(out), "--", "bash", "-c", f"python3 {script}; true")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir, summary = only_run(out)
    (python,) = summary.python_processes
    assert str(script) in python["cmdline"] and python["recorded_by"] == python["pid"]
    assert "grandchild_spin" in (run_dir / "flamegraph.svg").read_text()
    assert summary.tool_view["metrics"]["gil_held_fraction"] is not None


def test_a_wrapping_tool_on_a_shell_command_leaves_the_monitor_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "p"
    proc = harness("run", "--tool", "memray", "--out", str(out), "--", "bash", "-c", "true; true")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "note: memray starts Python programs itself" in proc.stderr
    _, summary = only_run(out)
    assert summary.tool == "none"
    assert any("monitor's view only" in p for p in summary.problems)


def test_memray_names_python_children_it_did_not_follow(tmp_path: Path) -> None:
    # The child lives 0.5 s: the monitor looks for new processes every 0.1 s.
    child = "import time; x = [0] * 10**6; time.sleep(0.5)"
    code = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    out = tmp_path / "p"
    proc = harness("run", "--tool", "memray", "--out", str(out), "--", "python", "-c", code)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    _, summary = only_run(out)
    assert summary.tool == "memray"
    assert any("memray follows forked children only: 1 Python" in p for p in summary.problems)


def test_wall_time_ends_at_the_exit(tmp_path: Path) -> None:
    # The program never blocks, so its schedstat (on a CPU + waiting for one, since its fork)
    # is its whole lifetime up to the read; it exits at once after it.
    program = tmp_path / "life.py"
    program.write_text(
        "import os, time\n"
        "t = time.monotonic()\n"
        "while time.monotonic() - t < 0.11: pass\n"
        "on, wait = open('/proc/self/schedstat').read().split()[:2]\n"
        "print((int(on) + int(wait)) / 1e9, flush=True)\n"
        "os._exit(0)\n"
    )
    out = tmp_path / "p"
    command = ["--tool", "none", "--", sys.executable, "-S", "-I", str(program)]
    assert harness("run", "--out", str(tmp_path / "warm"), *command).returncode == 0  # page cache
    proc = harness("run", "--out", str(out), *command)

    assert proc.returncode == 0, proc.stderr
    run_dir, summary = only_run(out)
    lifetime = float((run_dir / "stdout.txt").read_text())
    assert 0.11 < lifetime < summary.wall_s < lifetime + 0.010, (summary.wall_s, lifetime)


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--"], "empty command"),
        (["-m", "no_such_module_anywhere"], "no such module"),
        (["--", "no-such-program-anywhere"], "is not on PATH"),
        (["-m", "workloads.output", "--set", "items=3"], "--set applies to scenarios only"),
        ([], "nothing to run"),
    ],
)
def test_bad_targets_are_one_line_and_exit_2(tmp_path: Path, args: list[str], expected: str):
    out = tmp_path / "p"
    proc = harness("run", "--out", str(out), *args)

    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert not out.exists()


def test_manifest_records_how_to_make_the_target_again(three_ways) -> None:
    run_dir, _ = three_ways["command"]
    spec = json.loads((run_dir / "manifest.json").read_text())["target_spec"]
    assert spec["command"] == [
        "python", "-m", "workloads.output", "--items", "2000", "--layout", "collection",
    ]  # fmt: skip


def test_a_command_without_python_gets_the_monitors_view_and_a_note(tmp_path: Path) -> None:
    out = tmp_path / "p"
    proc = harness("run", "--out", str(out), "--", "sleep", "0.3")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "note: py-spy recorded nothing: no Python process appeared" in proc.stdout
    _, summary = only_run(out)
    assert summary.tool == "py-spy" and summary.python_processes == []
    assert 0.3 <= summary.wall_s < 1.0 and summary.verdict["bound"] == "sleep"
