"""The scalene adapter: exact command lines, parsing of a recorded profile, real runs (slow)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.tools import scalene_tool
from harness.tools.base import LaunchContext
from harness.tools.scalene_tool import PROFILE_HTML, PROFILE_JSON, VIEW_OUTPUT, Scalene
from tests.tools.interrupt import interrupt_when_ready

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scalene"
PY = "/venv/bin/python"


def ctx(run_dir: Path, **options: str) -> LaunchContext:
    return LaunchContext(run_dir=run_dir, python=PY, options=options)


def recorded_run(tmp_path: Path, *, with_html: bool = True) -> Path:
    """A run directory holding the recorded profile (and an already rendered page)."""
    shutil.copy(FIXTURES / PROFILE_JSON, tmp_path / PROFILE_JSON)
    if with_html:
        (tmp_path / PROFILE_HTML).write_text("<html></html>")
    return tmp_path


def test_command_runs_the_script_under_scalene_with_its_args_after_the_separator(tmp_path):
    cmd = Scalene().command([PY, "/src/job.py", "--items", "5"], ctx(tmp_path))

    assert cmd == [
        PY, "-m", "scalene", "run", "-o", str(tmp_path / "scalene.json"),
        "/src/job.py", "---", "--items", "5",
    ]  # fmt: skip


def test_command_without_script_args_has_no_separator(tmp_path):
    cmd = Scalene().command([PY, "/src/job.py"], ctx(tmp_path))

    assert cmd == [PY, "-m", "scalene", "run", "-o", str(tmp_path / "scalene.json"), "/src/job.py"]


def test_command_profiles_cpu_only_when_memory_is_off(tmp_path):
    cmd = Scalene().command([PY, "/src/job.py"], ctx(tmp_path, memory="0"))

    assert cmd[-2:] == ["--cpu-only", "/src/job.py"]


def test_html_is_rendered_standalone_from_the_json():
    assert scalene_tool.render_html_command(PY) == [
        PY, "-m", "scalene", "view", "--standalone", "scalene.json",
    ]  # fmt: skip


def test_collect_reads_the_split_the_peak_and_the_hottest_lines(tmp_path):
    result = Scalene().collect(recorded_run(tmp_path))

    assert result.problems == []
    assert result.artifacts == {"scalene_json": "scalene.json", "scalene_html": "scalene.html"}
    m = result.metrics
    assert m["python_fraction"] == pytest.approx(0.2994, abs=1e-3)
    assert m["native_fraction"] == pytest.approx(0.5062, abs=1e-3)
    assert m["system_fraction"] == pytest.approx(0.1944, abs=1e-3)
    assert m["python_fraction"] + m["native_fraction"] + m["system_fraction"] == pytest.approx(1)
    assert m["elapsed_s"] == pytest.approx(0.648, abs=1e-3)
    assert m["peak_heap_mb"] == pytest.approx(20.11, abs=0.01)
    top = result.top
    assert top[0]["where"] == "work.py:8 return sum(i * i for i in range(n))"
    assert top[0]["unit"] == "%"
    assert top[0]["value"] == pytest.approx(78.49, abs=0.01)
    assert [t["where"] for t in top[1:3]] == [
        "work.py:31 time.sleep(0.1)",
        "work.py:20 block = bytearray(mb * 1024 * 1024)",
    ]
    assert [t["value"] for t in top] == sorted((t["value"] for t in top), reverse=True)
    assert len(top) <= scalene_tool.TOP_N


def test_collect_leaves_out_the_peak_of_a_cpu_only_profile(tmp_path):
    profile = json.loads((FIXTURES / PROFILE_JSON).read_text())
    profile.update(memory=False, max_footprint_mb=0.0)
    (tmp_path / PROFILE_JSON).write_text(json.dumps(profile))
    (tmp_path / PROFILE_HTML).write_text("<html></html>")

    result = Scalene().collect(tmp_path)

    assert "peak_heap_mb" not in result.metrics
    assert result.metrics["python_fraction"] == pytest.approx(0.2994, abs=1e-3)


def test_collect_renders_the_page_in_the_run_dir_and_renames_it(tmp_path, monkeypatch):
    calls: list[tuple[list[str], Any]] = []

    def fake_run(cmd: list[str], cwd: Path, **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append((cmd, cwd))
        (Path(cwd) / VIEW_OUTPUT).write_text("<html>profile</html>")
        return subprocess.CompletedProcess(cmd, 0, "Profile saved", "")

    monkeypatch.setattr(scalene_tool.subprocess, "run", fake_run)

    result = Scalene().collect(recorded_run(tmp_path, with_html=False))

    assert calls == [(scalene_tool.render_html_command(sys.executable), tmp_path)]
    assert (tmp_path / PROFILE_HTML).read_text() == "<html>profile</html>"
    assert not (tmp_path / VIEW_OUTPUT).exists()
    assert result.artifacts["scalene_html"] == "scalene.html"


def test_a_failed_render_is_a_problem_not_an_error(tmp_path, monkeypatch):
    def fake_run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "Scalene: profile file broken\n")

    monkeypatch.setattr(scalene_tool.subprocess, "run", fake_run)

    result = Scalene().collect(recorded_run(tmp_path, with_html=False))

    assert result.problems == [
        "scalene could not render scalene.html: Scalene: profile file broken"
    ]
    assert "scalene_html" not in result.artifacts
    assert result.metrics["peak_heap_mb"] > 0


def test_collect_without_a_profile_says_so(tmp_path):
    result = Scalene().collect(tmp_path)

    assert result.artifacts == {}
    assert result.problems == ["no scalene.json: scalene stopped before saving its profile"]


def test_collect_on_a_truncated_profile_says_so(tmp_path):
    (tmp_path / PROFILE_JSON).write_text((FIXTURES / PROFILE_JSON).read_text()[:1000])

    result = Scalene().collect(tmp_path)

    assert result.problems == ["scalene.json is unreadable (JSONDecodeError)"]
    assert result.metrics == {}


def test_collect_on_the_empty_profile_of_a_short_run_says_why(tmp_path):
    shutil.copy(FIXTURES / "no-profile.json", tmp_path / PROFILE_JSON)

    result = Scalene().collect(tmp_path)

    assert len(result.problems) == 1
    assert result.problems[0].startswith("scalene recorded no profile")
    assert result.top == []


def test_failure_hint_names_the_fix():
    tool = Scalene()

    assert "pip install scalene" in tool.failure_hint(
        "ModuleNotFoundError: No module named scalene"
    )
    assert "more work" in tool.failure_hint(
        "Scalene: The specified code did not run for long enough to profile."
    )
    assert tool.failure_hint("Traceback: ValueError") is None


def test_scalene_is_available_here():
    assert Scalene().problem() is None


# Scripts are copied out of the source tree: scalene walks the directories of local imports.
def script_in(tmp_path: Path, script: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    return Path(shutil.copy(script, src / script.name))


@pytest.mark.slow
def test_real_run_writes_json_and_a_self_contained_page(tmp_path):
    script = script_in(tmp_path, FIXTURES.parent / "work.py")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    cmd = Scalene().command([sys.executable, str(script), "0.5", "20"], ctx(run_dir))

    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    result = Scalene().collect(run_dir)

    assert done.returncode == 0, done.stderr
    assert result.problems == []
    assert (run_dir / "scalene.json").is_file()
    page = (run_dir / "scalene.html").read_text()
    assert "<script src=" not in page
    m = result.metrics
    assert m["python_fraction"] + m["native_fraction"] + m["system_fraction"] == pytest.approx(1)
    assert 15 < m["peak_heap_mb"] < 60
    assert any("work.py:8" in t["where"] for t in result.top)


@pytest.mark.slow
def test_sigint_still_leaves_a_profile(tmp_path):
    script = tmp_path / "src" / "forever.py"
    script.parent.mkdir()
    script.write_text("print('ready', flush=True)\nwhile True:\n    sum(range(10_000))\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()

    # scalene keeps a profile only after about 1 s of run time
    interrupt_when_ready(Scalene().command([sys.executable, str(script)], ctx(run_dir)), 1.5)
    result = Scalene().collect(run_dir)

    assert result.problems == []
    # A CPU loop: its time is on the CPU, in Python or in C (scalene on 3.13 gives
    # `sum(range(...))` wholly to C).
    m = result.metrics
    assert m["python_fraction"] + m["native_fraction"] > 0.5
