"""Registered profiler adapters, by the name users pass to `--tool`."""

from __future__ import annotations

from harness.errors import HarnessError
from harness.tools.base import Tool
from harness.tools.memray_tool import Memray
from harness.tools.none import NoTool
from harness.tools.pyspy import PySpy
from harness.tools.scalene_tool import Scalene
from harness.tools.viztracer_tool import VizTracer

TOOLS: dict[str, Tool] = {t.name: t for t in (PySpy(), Scalene(), Memray(), VizTracer(), NoTool())}
ALL = "all"


def get(name: str) -> Tool:
    try:
        return TOOLS[name]
    except KeyError:
        raise HarnessError(
            f"unknown tool {name!r}: use one of {', '.join(TOOLS)} or {ALL}"
        ) from None


def expand(names: list[str]) -> list[Tool]:
    """The tools a `--tool` list asks for, in order, `all` meaning every profiler."""
    chosen: list[Tool] = []
    for name in names or ["py-spy"]:
        for tool in [t for n, t in TOOLS.items() if n != "none"] if name == ALL else [get(name)]:
            if tool not in chosen:
                chosen.append(tool)
    return chosen
