"""Registered profiler adapters, by the name users pass to `--tool`.

Adding a profiler is one module in this package (a Tool subclass, see base.py) and one line in
REGISTRY. An adapter's module is imported the first time the tool is asked for, so a command
that runs no profiler does not pay for one (py-spy's brings the flame graph renderer).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.tools.base import Tool

#: name -> "module:Class" of its adapter, in the order `harness list` and `all` take them.
REGISTRY: dict[str, str] = {
    "py-spy": "harness.tools.pyspy:PySpy",
    "scalene": "harness.tools.scalene_tool:Scalene",
    "memray": "harness.tools.memray_tool:Memray",
    "viztracer": "harness.tools.viztracer_tool:VizTracer",
    "none": "harness.tools.none:NoTool",
}
DEFAULT = "py-spy"  # what `harness run` profiles with when no --tool is given
BARE = "none"  # the monitor alone: baselines, calibration's reference run
ALL = "all"
_LOADED: dict[str, Tool] = {}


def get(name: str) -> Tool:
    """The adapter registered as `name`; HarnessError (exit 2) for an unknown name."""
    if name not in REGISTRY:
        raise HarnessError(f"unknown tool {name!r}: use one of {', '.join(REGISTRY)} or {ALL}")
    if name not in _LOADED:
        module, _, cls = REGISTRY[name].partition(":")
        _LOADED[name] = getattr(importlib.import_module(module), cls)()
    return _LOADED[name]


def every() -> list[Tool]:
    """Every registered adapter, in registry order."""
    return [get(name) for name in REGISTRY]


def profilers() -> list[Tool]:
    """Every adapter but the bare monitor: what `all` means."""
    return [get(name) for name in REGISTRY if name != BARE]


def expand(names: list[str]) -> list[Tool]:
    """The tools a `--tool` list asks for, in order, `all` meaning every profiler."""
    chosen: list[Tool] = []
    for name in names or [DEFAULT]:
        for tool in profilers() if name == ALL else [get(name)]:
            if tool not in chosen:
                chosen.append(tool)
    return chosen


def attachable() -> list[str]:
    """The tools `harness attach` can use on a process it did not start."""
    return [tool.name for tool in every() if tool.can_attach]


def with_stacks() -> list[Tool]:
    """The tools that record stacks (`harness export`, compare's differential flame graph)."""
    from harness.tools.base import Tool

    return [tool for tool in every() if type(tool).stacks is not Tool.stacks]


#: What the harness itself draws for a run whose tool recorded stacks (assemble.py).
OWN_OPENABLE = (("flamegraph_causes", "flame graph by cause"),)


def openable(tool_name: str) -> tuple[tuple[str, str], ...]:
    """The artifacts worth opening of a run under `tool_name` (key or key prefix, label): the
    tool's own, then the harness's; the harness's alone for a tool no longer registered."""
    own = get(tool_name).openable if tool_name in REGISTRY else ()
    return (*own, *OWN_OPENABLE)
