"""The py-spy adapter: its command lines, collect() over recorded py-spy output, its hints.

The fixtures under tests/fixtures/py-spy/ were recorded once with py-spy 0.4.3 running
cpu_loop.py and two_threads.py through command() and attach(), then collect() (which freezes
the companion's stop time into pyspy-gil.meta.json).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.process import wait_for_exec
from harness.tools.base import LaunchContext
from harness.tools.pyspy import PySpy, find_pyspy, ptrace_problem

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "py-spy"
SVG = "{http://www.w3.org/2000/svg}"


def recorded(name: str, tmp_path: Path) -> Path:
    """A fresh run directory holding the recorded py-spy output `name`."""
    run_dir = tmp_path / name
    shutil.copytree(FIXTURES / name, run_dir)
    return run_dir


def svg_titles(path: Path) -> list[str]:
    root = ET.fromstring(path.read_text())
    return [t.text for t in root.iter(f"{SVG}title")]


def test_target_runs_as_it_is_and_py_spy_attaches_to_it(tmp_path: Path) -> None:
    ctx = LaunchContext(run_dir=tmp_path, python="/venv/bin/python")
    tool = PySpy("/venv/bin/py-spy")

    assert tool.command(["/venv/bin/python", "job.py", "-n", "3"], ctx) == [
        "/venv/bin/python", "job.py", "-n", "3",
    ]  # fmt: skip
    assert tool.recorder_argv(4242, ctx) == [
        "/venv/bin/py-spy", "record", "--pid", "4242", "--format", "raw", "--idle",
        "--subprocesses", "--threads", "--rate", "100",
        "--output", str(tmp_path / "pyspy.folded"),
    ]  # fmt: skip


def test_recorder_takes_rate_and_native_from_options(tmp_path: Path) -> None:
    ctx = LaunchContext(tmp_path, "python", options={"rate": "250", "native": "yes"})

    argv = PySpy("py-spy").recorder_argv(1, ctx)

    assert argv[argv.index("--rate") + 1] == "250"
    assert argv[-1] == "--native"
    ctx.options["native"] = "0"
    assert "--native" not in PySpy("py-spy").recorder_argv(1, ctx)


@pytest.mark.parametrize("rate", ["0", "-5", "fast", "1.5"])
def test_bad_rate_is_a_harness_error(tmp_path: Path, rate: str) -> None:
    ctx = LaunchContext(tmp_path, "python", options={"rate": rate})

    with pytest.raises(HarnessError, match="rate"):
        PySpy("py-spy").recorder_argv(1, ctx)


def test_collect_cpu_loop(tmp_path: Path) -> None:
    run_dir = recorded("cpu_loop", tmp_path)

    result = PySpy().collect(run_dir)

    assert result.problems == []
    assert result.artifacts == {
        "flamegraph": "flamegraph.svg",
        "speedscope": "profile.speedscope.json",
        "folded": "pyspy.folded",
        "gil_folded": "pyspy-gil.folded",
    }
    titles = svg_titles(run_dir / "flamegraph.svg")
    assert "all (100 samples, 100.00%)" in titles
    assert "burn (cpu_loop.py:17) (100 samples, 100.00%)" in titles
    assert "square_sum (cpu_loop.py:10) (67 samples, 67.00%)" in titles
    assert not any(t.startswith(("thread (", "process ")) for t in titles)
    m = result.metrics
    assert (m["samples"], m["processes"], m["threads"]) == (100, 1, 1)
    assert (m["idle_fraction"], m["active_fraction"]) == (0.0, 1.0)
    # 111 GIL samples in a 1.013 s window at 100 Hz: random sampling gaps put it over 1.
    assert (m["gil_held_fraction"], m["gil_samples"], m["gil_seconds"]) == (1.0, 111, 1.013)
    assert result.top == [
        {
            "where": "cpu_loop.py:10 square_sum",
            "value": 67.0,
            "unit": "samples",
            "share": 0.67,
            "waiting": False,
        },
        {
            "where": "cpu_loop.py:9 square_sum",
            "value": 33.0,
            "unit": "samples",
            "share": 0.33,
            "waiting": False,
        },
    ]


def test_collect_two_threads_separates_threads_and_shows_waiting(tmp_path: Path) -> None:
    run_dir = recorded("two_threads", tmp_path)

    result = PySpy().collect(run_dir)

    assert result.problems == []
    m = result.metrics
    assert (m["samples"], m["threads"], m["processes"]) == (312, 3, 1)
    # Waiting: sleeper's Event.wait (101) + MainThread's join (101) and Condition.wait (2).
    assert m["idle_fraction"] == round(204 / 312, 4)
    assert m["gil_samples"] == 118
    assert result.top[0]["waiting"] is True
    spin = next(t for t in result.top if t["where"] == "two_threads.py:10 spin")
    assert (spin["value"], spin["waiting"]) == (87.0, False)

    doc = json.loads((run_dir / "profile.speedscope.json").read_text())
    names = [p["name"] for p in doc["profiles"]]
    assert len(names) == 3
    assert {n.rpartition(" / ")[2].partition(": ")[2] for n in names} == {
        "MainThread",
        "spinner",
        "sleeper",
    }
    assert sum(sum(p["weights"]) for p in doc["profiles"]) == 312

    root = ET.fromstring((run_dir / "flamegraph.svg").read_text())
    fills = {
        g.find(f"{SVG}title").text.split(" (")[0]: g.find(f"{SVG}rect").get("fill")
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "f"
    }
    assert fills["sleeper"] != fills["spin"]
    r, _, b = (int(v) for v in fills["sleeper"][4:-1].split(","))
    assert b > r


def test_collect_measures_gil_share_over_the_window_and_freezes_its_end(tmp_path: Path) -> None:
    run_dir = recorded("cpu_loop", tmp_path)
    meta_path = run_dir / "pyspy-gil.meta.json"
    meta = json.loads(meta_path.read_text())
    end = meta.pop("stopped_at")
    meta_path.write_text(json.dumps(meta))
    os.utime(run_dir / "pyspy-gil.folded", (end + 1.0, end + 1.0))

    result = PySpy().collect(run_dir)

    seconds = end + 1.0 - meta["sampling_started_at"]
    assert result.metrics["gil_held_fraction"] == round(111 / (100 * seconds), 3)
    assert json.loads(meta_path.read_text())["stopped_at"] == end + 1.0


def test_collect_when_no_python_appeared_says_so(tmp_path: Path) -> None:
    result = PySpy().collect(tmp_path)

    assert result.artifacts == {}
    assert result.metrics == {"gil_held_fraction": None}
    assert result.problems == [
        "py-spy recorded nothing: no Python process appeared in the run's process tree "
        "(the summary has the monitor's view only)"
    ]


def test_collect_without_output_records_problems_and_does_not_raise(tmp_path: Path) -> None:
    (tmp_path / "pyspy.log").write_text("py-spy> Sampling process 100 times a second.\n")

    result = PySpy().collect(tmp_path)

    assert result.artifacts == {"log": "pyspy.log"}
    assert result.metrics == {"gil_held_fraction": None}
    assert any("wrote no pyspy.folded" in p for p in result.problems)
    assert any("companion was not started" in p for p in result.problems)


def test_collect_empty_folded_records_a_problem(tmp_path: Path) -> None:
    (tmp_path / "pyspy.folded").write_text("")

    result = PySpy().collect(tmp_path)

    assert "pyspy.folded holds no samples" in result.problems
    assert result.artifacts == {"folded": "pyspy.folded"}


def test_collect_truncated_folded_keeps_whole_lines(tmp_path: Path) -> None:
    run_dir = recorded("two_threads", tmp_path)
    text = (run_dir / "pyspy.folded").read_text()
    cut = text.index("\n", len(text) // 2) + 40
    (run_dir / "pyspy.folded").write_text(text[:cut])

    result = PySpy().collect(run_dir)

    assert any("malformed" in p for p in result.problems)
    assert 0 < result.metrics["samples"] < 312
    assert (run_dir / "flamegraph.svg").is_file()


def test_collect_reports_why_the_companion_failed(tmp_path: Path) -> None:
    run_dir = recorded("cpu_loop", tmp_path)
    (run_dir / "pyspy-gil.folded").unlink()
    denied = (FIXTURES / "permission-denied-root-nocap.txt").read_text()
    (run_dir / "pyspy-gil.log").write_text(denied)

    result = PySpy().collect(run_dir)

    assert result.metrics["gil_held_fraction"] is None
    assert "gil_folded" not in result.artifacts
    [problem] = result.problems
    assert "GIL share unknown" in problem
    assert "SYS_PTRACE" in problem


def test_collect_reports_a_companion_that_could_not_attach(tmp_path: Path) -> None:
    run_dir = recorded("cpu_loop", tmp_path)
    (run_dir / "pyspy-gil.folded").unlink()
    (run_dir / "pyspy-gil.meta.json").write_text(json.dumps({"rate": 100, "error": "no python"}))

    result = PySpy().collect(run_dir)

    assert result.problems == ["GIL share unknown: no python"]
    assert result.metrics["samples"] == 100


@pytest.mark.parametrize(
    "fixture", ["permission-denied-nonroot.txt", "permission-denied-root-nocap.txt"]
)
def test_failure_hint_names_the_ptrace_fix(fixture: str) -> None:
    hint = PySpy().failure_hint((FIXTURES / fixture).read_text())

    assert hint is not None
    assert "SYS_PTRACE" in hint
    assert "ptrace_scope" in hint
    assert "\n" not in hint


def test_failure_hint_ignores_the_targets_own_errors() -> None:
    assert PySpy().failure_hint("Traceback ...\nValueError: bad input\n") is None
    target_error = "PermissionError: [Errno 13] Permission denied: '/data/x'\n"
    assert PySpy().failure_hint(target_error) is None
    assert "SYS_PTRACE" in PySpy().failure_hint("Reason: Operation not permitted (os error 1)")
    assert "upgrade" in PySpy().failure_hint("Error: Unsupported version of Python: 3.99")


def test_ptrace_problem_by_yama_scope() -> None:
    assert ptrace_problem(scope=None, privileged=False) is None
    assert ptrace_problem(scope=1, privileged=False) is None
    assert ptrace_problem(scope=2, privileged=True) is None
    assert "SYS_PTRACE" in ptrace_problem(scope=2, privileged=False)
    assert "ptrace_scope=3" in ptrace_problem(scope=3, privileged=True)


def test_problem_names_the_install_fix_when_py_spy_is_missing(tmp_path: Path) -> None:
    problem = PySpy(str(tmp_path / "py-spy")).problem()

    assert problem is not None
    assert "pip install" in problem


@pytest.mark.slow
def test_real_py_spy_run_of_a_cpu_loop(tmp_path: Path) -> None:
    tool = PySpy()
    if find_pyspy() is None or tool.problem() is not None:
        pytest.skip(f"py-spy cannot run here: {tool.problem()}")
    ctx = LaunchContext(run_dir=tmp_path, python=sys.executable)
    argv = tool.command([sys.executable, str(FIXTURES / "cpu_loop.py"), "1.5"], ctx)

    with open(tmp_path / "stdout.log", "wb") as log:
        main = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        assert wait_for_exec(main, argv)
        watchers = tool.attach(main.pid, ctx)
        try:
            assert main.wait(timeout=60) == 0
            assert len(watchers) == 2  # the recorder and the GIL companion
            for watcher in watchers:
                watcher.wait(timeout=30)
        finally:
            for proc in (main, *watchers):
                if proc.poll() is None:
                    proc.kill()
    result = tool.collect(tmp_path)

    assert result.problems == []
    for name in ("flamegraph.svg", "profile.speedscope.json", "pyspy.folded", "pyspy-gil.folded"):
        assert (tmp_path / name).is_file()
    ET.fromstring((tmp_path / "flamegraph.svg").read_text())
    assert result.metrics["samples"] > 50
    assert result.top[0]["where"].split()[-1] == "square_sum"
    assert result.metrics["gil_held_fraction"] > 0.7
