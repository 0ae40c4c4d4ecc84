"""findings.md, the Markdown of a study: the answers to Q1-Q4 with links to their runs (Q4's
table per filesystem, the storage model and the filesystems after them: render/filesystems.py),
how they were measured, what to distrust (unsteady points) and what failed, every point in one
table, and last the recommendation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from harness.render import filesystems as fs_sections
from harness.render import fmt
from harness.render.base import Renderer
from harness.render.markdown import table
from harness.stats import UNSTABLE_REL_STD
from harness.study import hazards
from harness.study.questions import answer_all
from harness.study.results import PointResult, Study

RULE = fmt.percent(UNSTABLE_REL_STD)


def _link(label: str, path: str) -> str:
    return f"[{label.replace('[', '(').replace(']', ')')}]({path})"


def _answer_block(key: str, answer: dict[str, Any]) -> list[str]:
    lines = [f"## {key}. {answer['question']}", "", answer["text"], ""]
    cited = answer.get("citations") or []
    if cited:
        lines += ["Runs: " + ", ".join(_link(c["label"], c["path"]) for c in cited), ""]
    return lines


def _method(study: Study) -> list[str]:
    m = study.meta
    timed = [r for p in study.points if p.tool == "none" for r in p.runs]
    probe = m.get("file_creation_us") or {}
    cache = {state: sum(r.cache == state for r in timed) for state in ("warm", "cold", "unknown")}
    return [
        "## How it was measured",
        "",
        f"- Every point ran {m.get('repeat')} times under the monitor alone (`--tool none`); "
        "repeats were interleaved across a scenario's points so drift on this shared machine "
        "spreads over all of them. Figures are medians; a point whose standard deviation is "
        f"{RULE} of its mean or more is flagged below (pyperf's rule).",
        "- Warm-up: one untimed run per scenario, just before its timed runs, generated the data "
        "set if needed and warmed the page cache (run directories under `warmup/`). Timed runs "
        f"read warm in {cache['warm']}, cold in {cache['cold']} and unknown in "
        f"{cache['unknown']} of {len(timed)} runs (psutil read_bytes against read_chars).",
        "- ext4 here has no journal, so creating files where many were deleted less than ~60 s "
        "earlier costs several times more: every run wrote into its own new output directory "
        f"and none was deleted until the last run had finished ({m.get('output_dirs', 0)} "
        "directories removed then). Creating a small file cost "
        f"{hazards.describe(probe.get('start'))} before the runs and "
        f"{hazards.describe(probe.get('end'))} after them (about 30 us on a quiet disk, "
        "150-800 us within a minute of mass deletions). Page cache idle for ~60 s is "
        "evicted, so each scenario's runs follow its warm-up without a pause.",
        "- Before every run that syncs (`fsync` each, batch or end) and every fsync probe the "
        "study ran `sync`, so each flush paid for its own writes only, not for dirty pages "
        "earlier runs left (`fsync=end` is a syncfs of the whole filesystem).",
        "- One representative run per scenario also ran under py-spy and memray: their flame "
        "graphs are in those run directories; Q1's sample split comes from the py-spy run.",
        "",
    ]


def _warnings(points: list[PointResult]) -> list[str]:
    lines = ["## Unsteady points", ""]
    flagged = [p for p in points if p.warning]
    if not flagged:
        return [*lines, f"None: every point's spread is under {RULE} of its mean.", ""]
    for p in flagged:
        lines.append(f"- {_link(p.label, p.median_run or '')}: {p.warning}")
    return [*lines, ""]


def _failures(points: list[PointResult]) -> list[str]:
    lines = ["## Failed points", ""]
    failed = [p for p in points if p.status != "ok"]
    if not failed:
        return [*lines, "None: every run of every point succeeded.", ""]
    for p in failed:
        runs = ", ".join(_link(r.status, r.dir) for r in p.runs if r.dir) or "no run directory"
        lines.append(f"- {p.label} ({p.status}): {p.error or 'no result'}; runs: {runs}")
    return [*lines, ""]


def _table(points: list[PointResult]) -> list[str]:
    rows = []
    for p in points:
        s = p.throughput
        median = fmt.number(s["median"], 0) if s else fmt.MISSING
        spread = fmt.spread(s["rel_std"], s["unstable"]) if s else fmt.MISSING
        run = (
            _link("run" if p.tool == "none" else p.tool, p.median_run) if p.median_run else p.status
        )
        bound = p.verdict.get("bound", "-")
        rows.append([f"{p.scenario}: {p.label}", median, spread, str(len(p.runs)), bound, run])
    headers = ("point", "items/s (median)", "spread", "runs", "verdict", "median run")
    return ["## All points", "", *table(headers, rows, headers[1:4]), ""]


@dataclass
class FindingsMarkdown(Renderer[Study], subject="study", format="markdown", extension="md"):
    """findings.md of a study."""

    def render(self, data: Study) -> str:
        study = data
        m = study.meta
        answers = study.answers or answer_all(study)
        head = [
            "# Study findings",
            "",
            f"{'Quick' if m.get('quick') else 'Full'} study of {m.get('started_at', '?')} on "
            f"{m.get('host', '?')}: {m.get('cores', '?')} cores, Python {m.get('python', '?')}, "
            f"{len(study.points)} points, {m.get('runs', '?')} runs in "
            f"{fmt.seconds(m.get('elapsed_s', 0), 0)}. Throughput is items/s measured inside the "
            "workload (median of the repeats); links open the run directory of the median run.",
            "",
        ]
        body: list[str] = []
        for key in ("Q1", "Q2", "Q3", "Q4"):
            body += _answer_block(key, answers[key])
        study = replace(study, answers=answers)
        body += fs_sections.q4_table(study) + fs_sections.storage(study)
        body += fs_sections.filesystems(study)
        tail = _method(study) + _warnings(study.points) + _failures(study.points)
        last = fs_sections.recommendation(study)
        return "\n".join(head + body + tail + _table(study.points) + last)
