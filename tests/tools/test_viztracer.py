"""The viztracer adapter: exact command lines, recorded traces, self time, real runs (slow)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.summary import find_runs, load
from harness.tools.base import LaunchContext
from harness.tools.viztracer_tool import TRACE, VizTracer, top_functions
from tests.tools.interrupt import interrupt_when_ready

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "viztracer"
PY = "/venv/bin/python"


def ctx(run_dir: Path, *, is_asyncio: bool = False, **options: str) -> LaunchContext:
    return LaunchContext(run_dir=run_dir, python=PY, options=options, is_asyncio=is_asyncio)


def recorded_run(tmp_path: Path, name: str = "trace.json") -> Path:
    shutil.copy(FIXTURES / name, tmp_path / TRACE)
    return tmp_path


def x(name: str, ts: float, dur: float, tid: int = 1) -> dict:
    return {"ph": "X", "pid": 1, "tid": tid, "ts": ts, "dur": dur, "name": name}


def test_command_caps_the_buffer_and_drops_short_calls(tmp_path):
    cmd = VizTracer().command([PY, "/src/job.py", "--quiet", "-o", "x"], ctx(tmp_path))

    assert cmd == [
        PY, "-m", "viztracer", "-o", str(tmp_path / "trace.json"), "--quiet",
        "--tracer_entries", "300000", "--min_duration", "20us", "--ignore_frozen",
        "--", "/src/job.py", "--quiet", "-o", "x",
    ]  # fmt: skip


def test_command_logs_asyncio_tasks_and_takes_overrides(tmp_path):
    cmd = VizTracer().command(
        [PY, "/src/job.py"], ctx(tmp_path, is_asyncio=True, entries="50000", min_duration="5us")
    )

    assert cmd[cmd.index("--tracer_entries") + 1] == "50000"
    assert cmd[cmd.index("--min_duration") + 1] == "5us"
    assert cmd[-3:] == ["--log_async", "--", "/src/job.py"]


@pytest.mark.parametrize("entries", ["0", "-5", "lots", "1e6"])
def test_command_refuses_a_buffer_size_that_is_not_a_positive_number(tmp_path, entries):
    with pytest.raises(HarnessError, match=r"--set entries=.*: entries "):
        VizTracer().command([PY, "/src/job.py"], ctx(tmp_path, entries=entries))


def test_collect_counts_events_and_ranks_functions_by_self_time(tmp_path):
    result = VizTracer().collect(recorded_run(tmp_path))

    assert result.problems == []
    assert result.artifacts == {"trace": "trace.json"}
    m = result.metrics
    assert m["events"] == 125
    assert m["processes"] == 1
    assert m["trace_mb"] == pytest.approx(16219 / 2**20)
    assert m["async_task_lanes"] == 0 and m["async_tasks_present"] is False
    assert [t["where"] for t in result.top[:3]] == [
        "builtins.sum",
        "time.sleep",
        "/tmp/pipeprof-fixture/work.py:19 allocate",
    ]
    assert result.top[0]["unit"] == "ms"
    assert result.top[0]["calls"] == 53
    assert result.top[0]["value"] == pytest.approx(303.2, abs=0.1)
    spin = next(t for t in result.top if t["where"].endswith("work.py:11 spin"))
    assert spin["inclusive_ms"] == pytest.approx(304.6, abs=0.1)
    assert spin["value"] < 1


def test_collect_sees_asyncio_tasks_as_lanes(tmp_path):
    result = VizTracer().collect(recorded_run(tmp_path, "trace-asyncio.json"))

    assert result.problems == []
    assert result.metrics["async_task_lanes"] == 5
    assert result.metrics["async_tasks_present"] is True
    assert result.top[0]["where"] == "select.epoll.poll"


def test_self_time_subtracts_nested_calls_and_counts_recursion_once():
    events = [
        x("main", 0, 100),
        x("fib", 10, 50),
        x("fib", 20, 30),  # recursive call inside fib
        x("leaf", 30, 10),
        x("leaf", 59.999, 20),  # fib's next sibling: starts as fib ends, give or take rounding
        {"ph": "M", "pid": 1, "tid": 1, "name": "thread_name", "args": {"name": "MainThread"}},
    ]

    top = {t["where"]: t for t in top_functions(events)}

    assert top["main"]["value"] == pytest.approx(0.03)  # 100 - 50 - 20 us
    assert top["fib"]["value"] == pytest.approx(0.04)  # (50 - 30) + (30 - 10)
    assert top["fib"]["inclusive_ms"] == pytest.approx(0.05)
    assert top["fib"]["calls"] == 2
    assert top["leaf"]["value"] == pytest.approx(0.03)
    assert top["leaf"]["calls"] == 2


def test_self_time_keeps_threads_apart():
    top = {t["where"]: t for t in top_functions([x("a", 0, 100, tid=1), x("b", 10, 50, tid=2)])}

    assert top["a"]["value"] == pytest.approx(0.1)
    assert top["b"]["value"] == pytest.approx(0.05)


def test_a_wrapped_buffer_is_a_problem(tmp_path):
    trace = json.loads((FIXTURES / "trace.json").read_text())
    trace["viztracer_metadata"]["overflow"] = True
    (tmp_path / TRACE).write_text(json.dumps(trace))

    result = VizTracer().collect(tmp_path)

    assert len(result.problems) == 1
    assert result.problems[0].startswith("viztracer's ring buffer")
    assert result.metrics["events"] == 125


def test_collect_without_a_trace_says_why(tmp_path):
    result = VizTracer().collect(tmp_path)

    assert result.artifacts == {}
    assert result.problems == [
        "no trace.json: viztracer saves it when the program exits, which a SIGKILL prevents"
    ]


@pytest.mark.parametrize("content", ['{"traceEvents": [{"ph": "X"', '{"other": 1}', "[1, 2]"])
def test_collect_on_a_broken_trace_says_so(tmp_path, content):
    (tmp_path / TRACE).write_text(content)

    result = VizTracer().collect(tmp_path)

    assert len(result.problems) == 1
    assert result.problems[0].startswith("trace.json is unreadable")
    assert result.artifacts == {}


def test_failure_hint_names_the_fix():
    tool = VizTracer()

    assert "20us" in tool.failure_hint("Can't convert 20 seconds to time.")
    assert "pip install viztracer" in tool.failure_hint("No module named viztracer")
    assert tool.failure_hint("RuntimeError") is None


def test_viztracer_is_available_here():
    assert VizTracer().problem() is None


def run_under_viztracer(tmp_path: Path, script: Path, *args: str, **kw: bool) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    cmd = VizTracer().command([sys.executable, str(script), *args], ctx(run_dir, **kw))
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return run_dir


@pytest.mark.slow
def test_real_run_writes_a_small_trace(tmp_path):
    run_dir = run_under_viztracer(tmp_path, FIXTURES.parent / "work.py", "0.3", "20")

    result = VizTracer().collect(run_dir)

    assert result.problems == []
    assert json.loads((run_dir / TRACE).read_text())["traceEvents"]
    assert 0 < result.metrics["events"] < 5000
    assert result.metrics["trace_mb"] < 2
    assert result.top[0]["where"] == "builtins.sum"


@pytest.mark.slow
def test_real_asyncio_run_has_task_lanes(tmp_path):
    run_dir = run_under_viztracer(tmp_path, FIXTURES / "aio.py", is_asyncio=True)

    result = VizTracer().collect(run_dir)

    assert result.problems == []
    assert result.metrics["async_task_lanes"] >= 4


@pytest.mark.slow
def test_sigint_still_writes_the_trace(tmp_path):
    script = tmp_path / "forever.py"
    script.write_text(
        "import time\n\n\ndef tick():\n    time.sleep(0.001)\n\n\n"
        "print('ready', flush=True)\nwhile True:\n    tick()\n"
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    interrupt_when_ready(VizTracer().command([sys.executable, str(script)], ctx(run_dir)), 0.3)

    result = VizTracer().collect(run_dir)

    assert result.problems == []
    assert any(t["where"].endswith("forever.py:4 tick") for t in result.top)


@pytest.mark.slow
def test_a_full_ring_buffer_is_named_in_the_summary(tmp_path):
    """A real run through the harness whose calls outnumber a small buffer: the summary says
    viztracer's ring buffer dropped the older events, and how many it kept."""
    script = tmp_path / "calls.py"
    script.write_text("def f(i):\n    return i * 2\n\n\nfor i in range(20_000):\n    f(i)\n")
    out = tmp_path / "profiles"
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(script), "--tool", "viztracer",
         "--set", "entries=1000", "--set", "min_duration=0", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    summary = load(find_runs(out)[0])
    assert summary.tool_view["metrics"]["ring_buffer_overflow"] is True
    (note,) = [p for p in summary.problems if "ring buffer" in p]
    events = json.loads((find_runs(out)[0] / TRACE).read_text())["traceEvents"]
    assert "older events were dropped" in note and f"latest {len(events):,}" in note
    assert 1000 <= len(events) < 1100  # the buffer's 1,000 calls and a few metadata events
    assert summary.disk["artifacts"]["trace"] > 0
