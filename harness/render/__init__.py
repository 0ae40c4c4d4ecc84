"""Every output format, as renderers of the same data (see base.Renderer).

The registry names each renderer by subject and format and imports it only when asked for, so a
command pays for the formats it writes and nothing else (rich, jinja2).
"""

from __future__ import annotations

import importlib

from harness.render.base import Renderer

RENDERERS: dict[tuple[str, str], str] = {
    ("runs", "console"): "harness.render.console:RunsConsole",
    ("runs", "json"): "harness.render.jsonrenderer:RunsJson",
    ("runs", "csv"): "harness.render.csvrenderer:RunsCsv",
    ("runs", "markdown"): "harness.render.markdown:RunsMarkdown",
    ("stacks", "svg"): "harness.render.flamegraph:FlameGraph",
    ("stacks", "speedscope"): "harness.render.speedscope:Speedscope",
    ("stacks", "folded"): "harness.render.folded:Folded",
    ("stacks", "chrome-trace"): "harness.render.chrome_trace:ChromeTrace",
    ("stack-diff", "svg"): "harness.render.flamegraph:DiffFlameGraph",
    ("cause-stacks", "svg"): "harness.render.causeflame:CauseFlameGraph",
    ("comparison", "console"): "harness.render.console:ComparisonConsole",
    ("comparison", "html"): "harness.render.htmlrenderer:ComparisonHtml",
    ("calibration", "console"): "harness.render.console:CalibrationConsole",
    ("calibration", "markdown"): "harness.render.markdown:CalibrationMarkdown",
    ("report", "html"): "harness.render.htmlrenderer:ReportHtml",
    ("study", "markdown"): "harness.render.findings:FindingsMarkdown",
    ("gate", "console"): "harness.render.gate:GateLines",
    ("gate", "markdown"): "harness.render.gate:GateMarkdown",
}


def get(subject: str, format: str) -> type[Renderer]:
    """The renderer class of `subject` in `format`; KeyError names the formats there are."""
    try:
        module, _, name = RENDERERS[(subject, format)].partition(":")
    except KeyError:
        there = sorted(f for s, f in RENDERERS if s == subject)
        raise KeyError(
            f"no {format} renderer for {subject}; there are {', '.join(there)}"
        ) from None
    return getattr(importlib.import_module(module), name)


def formats(subject: str) -> list[str]:
    return [f for s, f in RENDERERS if s == subject]
