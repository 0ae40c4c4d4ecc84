"""Markdown (GitHub-flavoured): a set of runs as one table, and calibration.md; `table` and
`cell` serve every Markdown table the project writes (findings.md, the bench results)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.render import cells, fmt
from harness.render.base import Renderer
from harness.runset import COLUMNS, TEXT_COLUMNS, RunSet, flatten

if TYPE_CHECKING:
    from harness.calibrate import Calibration


def cell(value: Any) -> str:
    """A value as one table cell: figures by fmt.significant, '|' and newlines escaped."""
    text = fmt.significant(value) if fmt.is_number(value) else fmt.number(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], right: Iterable[str] = ()
) -> list[str]:
    """The lines of a table; columns named in `right` are right-aligned (figures). Cells are
    written as given: pass them through `cell` where they may hold '|'."""
    right = set(right)
    align = ["---:" if h in right else ":---" if right else "---" for h in headers]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


@dataclass
class RunsMarkdown(Renderer[RunSet], subject="runs", format="markdown", extension="md"):
    """Every run as one row of runset.COLUMNS, figures right-aligned and rounded for reading."""

    def render(self, data: RunSet) -> str:
        rows = [[cell(row[c]) for c in COLUMNS] for row in map(flatten, data.summaries)]
        right = [c for c in COLUMNS if c not in TEXT_COLUMNS]
        return "\n".join(table(COLUMNS, rows, right)) + "\n"


CALIBRATION_NOTES = """\
- *truth*: the expected verdict and CPU share of each case, by construction (`~`: measured on the
  reference machine, shown but not checked).
- *CPU share*: the verdict's CPU share of the working threads' time: on a CPU, or queued for one
  after a preemption; queueing after a wake-up (the neighbours' load) is left out. On an idle
  machine it is the schedstat on-CPU share.
- The mixes' verdicts follow from the verdict rule (a share must be >= 0.5 and 1.5x the next):
  0.25 CPU leaves sleep 0.75 dominant, 0.75 CPU dominates sleep 0.25, and 0.50 +- 0.10 never
  reaches 1.5x the other share, hence mixed.
- *cores* is judged only when other programs used under 0.3 cores during the run.
- *tool's own view*: py-spy's active-sample fraction against the CPU share, scalene's system
  share against 1 - CPU share, memray's peak heap against the memory held; shown, never failed.
"""


@dataclass
class CalibrationMarkdown(
    Renderer["Calibration"], subject="calibration", format="markdown", extension="md"
):
    """calibration.md: when and where, the table, what was wrong, how to read it."""

    def render(self, data: Calibration) -> str:
        runs, meta = data.runs, data.data
        passed = (
            "**All runs passed.**"
            if meta["passed"]
            else f"**{meta['failed_runs']} run(s) failed.**"
        )
        lines = [
            "# Calibration",
            "",
            f"{meta['created_at']} on {meta['host']} ({meta['cpu_count']} cores), load average "
            f"{meta['load_average_before'][0]} before and {meta['load_average_after'][0]} after; "
            f"tools: {', '.join(meta['tools'])}. {passed}",
            "",
            *table(cells.CALIBRATION_HEADERS, map(cells.calibration_row, runs)),
        ]
        wrong = [(r, c) for r in runs for c in r.checks if c.ok is False]
        if wrong:
            lines += ["", "## Wrong", ""]
            lines += [f"- {r.case} under {r.tool}: {c.detail} ({r.run_dir})" for r, c in wrong]
        unjudged = [(r, c) for r in runs for c in r.checks if c.ok is None]
        if unjudged:
            lines += ["", "## Not judged", ""]
            lines += [f"- {r.case} under {r.tool}: {c.detail}" for r, c in unjudged]
        if meta.get("skipped_tools"):
            lines += ["", "## Tools skipped", ""]
            lines += [f"- {note}" for note in meta["skipped_tools"]]
        lines += ["", "## How to read it", "", CALIBRATION_NOTES]
        return "\n".join(lines)
