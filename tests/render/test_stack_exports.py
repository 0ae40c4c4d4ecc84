"""Folded, speedscope and Chrome-trace exports of recorded stacks: what other tools parse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from harness import stacks as st
from harness.commands.export import export
from harness.errors import HarnessError
from harness.render.chrome_trace import LAYOUT
from harness.render.speedscope import SPEEDSCOPE_SCHEMA

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# One process whose command line holds a ';' and a thread with a name, as py-spy writes them.
PROCESS = 'process 7:"python -c import a; a.run()"'
RECORDED = (
    f"{PROCESS};thread (8): MainThread;main (a.py:3);work (a.py:9) 30\n"
    f"{PROCESS};thread (8): MainThread;main (a.py:3) 10\n"
    f"{PROCESS};thread (9): pool;wait (threading.py:320) 25\n"
)


@pytest.fixture
def pyspy_run(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "pyspy.folded").write_text(RECORDED)
    (run / "pyspy-gil.meta.json").write_text(json.dumps({"rate": 50}))
    return run


def test_folded_lines_carry_process_and_thread_labels(pyspy_run: Path) -> None:
    lines = export(pyspy_run, "folded").decode().splitlines()

    assert lines[0] == (
        "process 7 python -c import a, a.run();thread 8 MainThread;main (a.py:3) 10"
    )
    total = 0
    for line in lines:  # what flamegraph.pl and inferno do with a line
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        assert frames[0].startswith("process 7 ") and frames[1].startswith("thread ")
        total += int(count)
    assert total == 65


def test_folded_merges_the_recordings_of_every_process(pyspy_run: Path) -> None:
    (pyspy_run / "pyspy.42.folded").write_text(
        'process 42:"python b.py";thread (42);f (b.py:1) 5\n'
    )
    lines = export(pyspy_run, "folded").decode().splitlines()
    assert "process 42 python b.py;thread 42;f (b.py:1) 5" in lines


def test_speedscope_keeps_every_sample(pyspy_run: Path) -> None:
    doc = json.loads(export(pyspy_run, "speedscope"))
    assert doc["$schema"] == SPEEDSCOPE_SCHEMA
    assert sum(sum(p["weights"]) for p in doc["profiles"]) == 65
    assert {p["name"].split(" / ")[1] for p in doc["profiles"]} == {
        "thread (8): MainThread",
        "thread (9): pool",
    }


def test_chrome_trace_nests_calls_per_thread_and_names_them(pyspy_run: Path) -> None:
    doc = json.loads(export(pyspy_run, "chrome-trace"))
    events = doc["traceEvents"]
    calls = [e for e in events if e["ph"] == "X"]
    by_thread: dict[int, list[dict]] = defaultdict(list)
    for event in calls:
        assert {"name", "ts", "dur", "pid", "tid"} <= event.keys() and event["pid"] == 7
        by_thread[event["tid"]].append(event)
    # 40 samples at 50 Hz on thread 8: 0.8 s; `main` spans them all, `work` nests inside it.
    main = next(e for e in by_thread[8] if e["name"] == "main (a.py:3)")
    work = next(e for e in by_thread[8] if e["name"] == "work (a.py:9)")
    assert main["dur"] == pytest.approx(800_000)
    assert main["ts"] <= work["ts"] and work["ts"] + work["dur"] <= main["ts"] + main["dur"]
    assert calls.index(main) < calls.index(work)  # parents first
    assert by_thread[9][0]["dur"] == pytest.approx(500_000)
    names = {(e["name"], e.get("tid")): e["args"]["name"] for e in events if e["ph"] == "M"}
    assert names[("process_name", None)] == "process 7 python -c import a, a.run()"
    assert names[("thread_name", 9)] == "thread 9 pool"
    assert doc["otherData"]["layout"] == LAYOUT and doc["displayTimeUnit"] == "ms"


def test_viztracer_runs_pass_their_own_trace_on_and_fold_own_time(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(FIXTURES / "viztracer" / "trace.json", run / "trace.json")

    assert export(run, "chrome-trace") == (run / "trace.json").read_bytes()
    folded = st.parse_folded(export(run, "folded").decode())
    events = json.loads((run / "trace.json").read_text())["traceEvents"]
    calls = sorted(
        (e for e in events if e.get("ph") == "X" and "dur" in e),
        key=lambda e: (e["pid"], e["tid"], e["ts"], -e["dur"]),
    )
    outermost, ends = 0.0, {}  # own times add up to the outermost calls' time
    for e in calls:
        lane = (e["pid"], e["tid"])
        if e["ts"] >= ends.get(lane, float("-inf")) - 0.002:
            outermost += e["dur"]
            ends[lane] = e["ts"] + e["dur"]
    assert folded and all(s[0].startswith("process ") for s in folded)
    assert sum(folded.values()) == pytest.approx(outermost, abs=len(calls))  # 1 us rounding each


def test_a_run_without_stacks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="has no stacks"):
        export(tmp_path, "folded")


def test_export_command_writes_a_file_and_refuses_bad_input(pyspy_run: Path, tmp_path: Path):
    out = tmp_path / "stacks.folded"
    done = subprocess.run(
        [sys.executable, "-m", "harness", "export", str(pyspy_run), "-f", "folded", "-o", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_text() == export(pyspy_run, "folded").decode()
    done = subprocess.run(
        [sys.executable, "-m", "harness", "export", str(tmp_path / "none"), "-f", "folded"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "is not a run directory" in done.stderr
