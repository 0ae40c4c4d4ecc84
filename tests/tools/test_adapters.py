"""Every registered tool, by the same checks: a profiler added with one module and one line in
harness/tools/__init__.py is picked up here. Each runs for real, as a user would by hand
(Tool.by_hand), on a short CPU loop with an allocation; collect() then reads what it wrote."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import tools
from harness.errors import HarnessError
from harness.tools.base import LaunchContext, Tool, Truth

WORK = Path(__file__).resolve().parents[1] / "fixtures" / "work.py"
NAMES = list(tools.REGISTRY)


@pytest.fixture(params=NAMES)
def tool(request: pytest.FixtureRequest) -> Tool:
    return tools.get(request.param)


def test_the_registry_names_each_adapter_by_its_own_name(tool: Tool) -> None:
    assert tool.name in tools.REGISTRY and tools.get(tool.name) is tool
    assert tool.description and tool.problem() is None  # every tool is installed here
    assert tool.name != tools.BARE or tool.package is None  # a stdlib profiler has none too
    assert all(key and label for key, label in tool.openable)


def test_options_default_and_parse_with_the_scenarios_parser(tool: Tool) -> None:
    defaults = tool.settings({})
    assert defaults == {o.name: o.default for o in tool.options}
    for option in tool.options:
        given = {"int": "7", "bool": "yes", "str": str(option.default)}[option.type]
        assert tool.settings({option.name: given})[option.name] == option.parse(given)
        with pytest.raises(HarnessError) as caught:
            tool.settings({option.name: "not a value\n"})
        assert caught.value.message.startswith(f"--set {option.name}=")
        assert tool.name in caught.value.message


def test_another_tools_options_are_left_alone(tool: Tool) -> None:
    others = {o.name for t in tools.every() if t is not tool for o in t.options}
    mine = {o.name for o in tool.options}
    assert tool.settings(dict.fromkeys(others - mine, "not a value")) == tool.settings({})


def test_a_view_of_a_case_says_what_it_is_held_to(tool: Tool) -> None:
    metrics = {
        "active_fraction": 0.9, "system_fraction": 0.2, "peak_heap_mb": 50.0,
        "gil_held_fraction": 0.5,
    }  # fmt: skip
    view = tool.calibration_view(metrics, Truth(cpu=0.8, peak_rss_mb=50.0))
    if view:
        assert view["label"] and view["error"] == pytest.approx(view["value"] - view["truth"])
    assert tool.calibration_view({}, Truth(None, None)) == {}


@pytest.mark.slow
def test_by_hand_then_collect(tool: Tool, tmp_path: Path) -> None:
    """The command a user would type runs the program under the tool and leaves output that
    collect() turns into figures and artifacts; its evidence and stacks read from them."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    target = [sys.executable, str(WORK), "1.2", "30"]  # scalene keeps a profile after ~1 s
    argv = tool.by_hand(target, LaunchContext(run_dir=run_dir, python=sys.executable))
    assert shutil.which(argv[0]) and str(WORK) in argv

    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-2000:]
    assert str(30 * 1024 * 1024) in done.stdout.splitlines()  # the program ran to its end
    result = tool.collect(run_dir)
    assert result.unavailable is None  # (by hand, a run lacks what only the harness starts)
    assert not [p for p in result.problems if p.startswith("no ") or "unreadable" in p]
    for key, name in result.artifacts.items():
        assert (run_dir / name).is_file(), key
    assert bool(tool.options or tool.openable) == bool(result.artifacts)
    lines = tool.evidence(result, {"on_cpu": 0.9})
    assert all(tool.name in line for line in lines)
    found = tool.stacks(run_dir)
    if found is not None:
        assert found.stacks and found.unit in ("samples", "us")
        assert any("spin" in frame for stack in found.stacks for frame in stack)
