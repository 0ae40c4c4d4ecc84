"""HTML pages (jinja2 templates under templates/): two runs compared, and the report's index.

Both pages are self-contained apart from the files they link to by relative paths (the
differential flame graph, the plots, run artifacts), so they work opened from disk with no server
and no network. Figures go through the `num` and `pct` filters, i.e. harness/render/fmt.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, Undefined, select_autoescape

from harness.compare import NOTABLE_PP, NOTABLE_RATIO, SECTION_TITLES, Comparison, Row
from harness.render import fmt
from harness.render.base import Renderer
from harness.render.palette import FAMILY_COLOURS, SPLIT_COLOURS
from harness.verdict.families import FAMILIES

TEMPLATES = Path(__file__).parent / "templates"
#: The bounds a verdict can name, each with its badge colour in templates/index.html.
BOUNDS = (*FAMILIES, "memory", "mixed", "unknown")


def _defined(value: Any) -> Any:
    return None if isinstance(value, Undefined) else value


def _num(value: Any, digits: int = 0) -> str:
    return fmt.number(_defined(value), digits)


def _pct(value: Any) -> str:
    return fmt.percent(_defined(value))


def _sort_key(value: Any) -> str:
    """A data-sort attribute: numbers as numbers, missing values empty (sorted last)."""
    return "" if value is None else str(value)


def _split_title(split: dict[str, float]) -> str:
    parts = [
        f"{SPLIT_COLOURS[k][0]} {fmt.percent(v)}"
        for k, v in split.items()
        if k in SPLIT_COLOURS and v >= 0.005
    ]
    return ", ".join(parts)


def _cause_title(shares: dict[str, float]) -> str:
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {fmt.percent(v)}" for k, v in ranked if v >= 0.005)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=_num, pct=_pct, sortkey=_sort_key, split_title=_split_title, cause_title=_cause_title
    )
    env.globals.update(split_colours=SPLIT_COLOURS, family_colours=FAMILY_COLOURS, bounds=BOUNDS)
    return env


@dataclass
class ComparisonHtml(Renderer[Comparison], subject="comparison", format="html", extension="html"):
    """The compare page; `svg_name` links the differential flame graph written beside it, or
    `note` says why there is none."""

    svg_name: str | None = None
    note: str | None = None

    def render(self, data: Comparison) -> str:
        sections: dict[str, list[Row]] = {}
        for row in data.rows:
            sections.setdefault(row.section, []).append(row)
        return (
            environment()
            .get_template("compare.html")
            .render(
                c=data,
                sections=sections,
                titles=SECTION_TITLES,
                svg_name=self.svg_name,
                note=self.note,
                notable=f"{fmt.percent(NOTABLE_RATIO)} ({NOTABLE_PP:.0f} pp for shares)",
            )
        )


@dataclass
class ReportHtml(Renderer[dict[str, Any]], subject="report", format="html", extension="html"):
    """The report's index.html from the context report/build.py gathers (rows, plots, the
    newest study's answers)."""

    def render(self, data: dict[str, Any]) -> str:
        return environment().get_template("index.html").render(**data)
