"""index.html from the collected rows, the plots and the newest study's answers (jinja2).

The page is self-contained apart from the plot SVGs and the run artifacts it links to, all by
relative paths, so it works opened from disk with no server and no network.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, Undefined, select_autoescape

from harness.report.plots import SPLIT_COLOURS

TEMPLATES = Path(__file__).parent / "templates"
BOUNDS = ("cpu", "gil", "disk", "network", "lock", "sleep", "memory", "mixed", "unknown")


def _num(value: Any, digits: int = 0) -> str:
    if value is None or value == "" or isinstance(value, Undefined):
        return "–"
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def _pct(value: Any) -> str:
    if value is None or isinstance(value, Undefined):
        return "–"
    return f"{100 * float(value):.0f}%"


def _sort_key(value: Any) -> str:
    """A data-sort attribute: numbers as numbers, missing values empty (sorted last)."""
    return "" if value is None else str(value)


def _split_title(split: dict[str, float]) -> str:
    parts = [
        f"{SPLIT_COLOURS[k][0]} {100 * v:.0f}%"
        for k, v in split.items()
        if k in SPLIT_COLOURS and v >= 0.005
    ]
    return ", ".join(parts)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, pct=_pct, sortkey=_sort_key, split_title=_split_title)
    env.globals.update(split_colours=SPLIT_COLOURS, bounds=BOUNDS)
    return env


def render(context: dict[str, Any]) -> str:
    return environment().get_template("index.html").render(**context)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` so a reader sees the old page or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
