"""The terminal (rich): one run's summary, a set of runs as one table, two runs compared, and
the calibration table."""

from __future__ import annotations

import io
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table

from harness import tools
from harness.render import cells, fmt
from harness.render.base import Renderer
from harness.sections import Split
from harness.summary import RunSummary

if TYPE_CHECKING:
    from harness.calibrate import Calibration
    from harness.compare import Comparison
    from harness.runset import RunSet

T = TypeVar("T")

#: The runs table shows the split of thread time only on a terminal this wide.
WIDE = 130
TREND_STYLE = {"better": "green", "worse": "red"}


@dataclass
class ConsoleRenderer(Renderer[T], format="console", extension="txt"):
    """Rich renderables printed in order; `render` draws them without colour at `width`."""

    width: int = 120

    @abstractmethod
    def renderables(self, data: T, width: int) -> list[RenderableType]:
        """What to print, in order, for a terminal `width` columns wide."""

    def print(self, console: Console, data: T) -> None:
        for item in self.renderables(data, console.width):
            console.print(item)

    def render(self, data: T) -> str:
        out = io.StringIO()
        self.print(Console(file=out, width=self.width, highlight=False, color_system=None), data)
        return out.getvalue()


# -- runs -----------------------------------------------------------------------------------------


def split_line(split: Split) -> str:
    """The thread-time split as 'on-cpu 62%, disk 30%', shares under 0.5% left out."""
    parts = [
        f"{k.replace('_wait', '').replace('_', '-')} {fmt.percent(share)}"
        for k, share in split.shares().items()
        if share >= 0.005
    ]
    return ", ".join(parts) or fmt.MISSING


def causes_line(causes: dict, limit: int = 6) -> str:
    """The largest causes as 'device 54%, kernel:durability 39%, python 5%'."""
    shares = (causes or {}).get("shares") or {}
    top = sorted(shares.items(), key=lambda kv: -kv[1])[:limit]
    return ", ".join(f"{k} {fmt.percent(v)}" for k, v in top if v >= 0.005) or fmt.MISSING


def callsite_lines(sites: list[dict], limit: int = 5) -> list[str]:
    """The top call sites with their split: '62%  output.py:120 write  disk 99%'."""
    out = []
    for site in sites[:limit]:
        families = ", ".join(
            f"{k} {fmt.percent(v)}" for k, v in (site.get("families") or {}).items() if v >= 0.01
        )
        queued = site.get("queued_s", 0.0) / site["wall_s"] if site.get("wall_s") else 0.0
        note = f" (+{fmt.percent(queued)} queued)" if queued >= 0.05 else ""
        out.append(f"{fmt.percent(site.get('share')):>4}  {site['where']}  {families}{note}")
    return out


def summary_rows(s: RunSummary) -> list[tuple[str, str]]:
    """One run's figures as (label, text) rows."""
    t, m, g, cpu = s.throughput, s.memory, s.gil, s.cpu
    items = fmt.number(t.items_per_s, 1)
    if t.items:
        items += f"  ({fmt.number(t.items)} items in {fmt.seconds(t.elapsed_s)})"
    memory = f"RSS {fmt.mb(m.peak_rss_mb)}"
    if m.peak_heap_mb is not None:
        memory += f", heap {fmt.mb(m.peak_heap_mb)}"
    exit_note = f" (exit {s.exit_code})" if s.exit_code not in (0, None) else ""
    rows = [
        ("status", s.status + exit_note),
        ("target / tool", f"{s.target} / {s.tool}"),
        ("wall", fmt.seconds(s.wall_s)),
        ("items/s", items),
        ("split", split_line(s.split)),
        *([("causes", causes_line(s.causes))] if s.causes else []),
        ("cores used", f"{fmt.number(cpu.cores_used)} of {cpu.cpu_count or '?'}"),
        (
            "GIL",
            f"held {fmt.percent(g.held_fraction)}, "
            f"lock-wait share {fmt.percent(g.waiting_fraction)}",
        ),
        ("peak memory", memory),
    ]
    shown = {k: v for k, v in s.stages.items() if v.get("share", 0) >= 0.005}
    if shown:
        rows.append(
            ("stages", ", ".join(f"{k} {fmt.percent(v['share'])}" for k, v in shown.items()))
        )
    if o := s.tool_overhead:
        rows.append(
            (
                "tool overhead",
                f"elapsed {fmt.ratio(o.get('elapsed_ratio'))}, items/s "
                f"{fmt.ratio(o.get('items_per_s_ratio'))} vs bare run {o.get('baseline_run')} "
                "(one pair, so machine noise included: make bench takes medians)",
            )
        )
    v = s.verdict or {}
    rows.append(("verdict", f"{v.get('bound', '-')} ({v.get('confidence', '-')} confidence)"))
    return rows


def summary_renderables(s: RunSummary, run_dir: Path) -> list[RenderableType]:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan")
    table.add_column()
    for key, value in summary_rows(s):
        table.add_row(key, escape(value))
    out: list[RenderableType] = [table]
    verdict = s.verdict or {}
    out += [f"  - {escape(line)}" for line in verdict.get("evidence", [])]
    if verdict.get("advice"):
        out.append(f"  [bold]fix:[/] {escape(verdict['advice'])}")
    if s.callsites:
        out.append("  [bold]call sites[/] (share of sampled wall time; its own time by cause):")
        out += [f"    {escape(line)}" for line in callsite_lines(s.callsites)]
    out += [f"  [yellow]note:[/] {escape(problem)}" for problem in s.problems]
    if s.error:
        out.append(f"  [red]error:[/] {escape(str(s.error.get('message')))}")
    out.append(f"run directory: {escape(str(run_dir))}")
    for name, _ in tools.openable(s.tool):  # the tool's own first, in its order
        if name in s.artifacts:
            out.append(f"  open {name}: {escape(str((run_dir / s.artifacts[name]).resolve()))}")
    return out


def print_summary(console: Console, s: RunSummary, run_dir: Path) -> None:
    """The summary after a run: its figures, the verdict's evidence and advice, the artifacts."""
    for item in summary_renderables(s, run_dir):
        console.print(item)


def runs_table(summaries: list[RunSummary], width: int) -> Table:
    """One line per run, with the parameters that vary across the set (and a status other than
    ok before the verdict); the split of thread time only where the terminal is wide enough."""
    from harness.runset import flatten, varying_params  # a table of runs: not after one run

    varying = varying_params(summaries)
    with_split = width >= WIDE
    table = Table(box=None, padding=(0, 1, 0, 0), header_style="bold")
    table.add_column("run", no_wrap=True)
    table.add_column("params")
    for name in ("wall s", "items/s", "cores"):
        table.add_column(name, justify="right", no_wrap=True)
    if with_split:
        table.add_column("split")
    table.add_column("verdict")
    for s in summaries:
        row = flatten(s)
        cells_ = [
            escape(s.run_id),
            escape(" ".join(f"{k}={s.params.get(k, '-')}" for k in varying)),
            fmt.number(row["wall_s"], 3),
            fmt.number(row["items_per_s"], 1),
            fmt.number(row["cores_used"]),
        ]
        if with_split:
            cells_.append(split_line(s.split))
        verdict = escape(f"{row['bound'] or '-'}, {row['confidence'] or '-'}")
        cells_.append(verdict if s.status == "ok" else f"[yellow]{s.status}[/]: {verdict}")
        table.add_row(*cells_)
    return table


@dataclass
class RunsConsole(ConsoleRenderer["RunSet"], subject="runs"):
    """One run's summary when one was asked for, else every run as one table."""

    def renderables(self, data: RunSet, width: int) -> list[RenderableType]:
        if data.single and data.runs:
            path, summary = data.runs[0]
            return summary_renderables(summary, path if path.is_dir() else path.parent)
        return [runs_table(data.summaries, width)]


# -- a comparison ---------------------------------------------------------------------------------


@dataclass
class ComparisonConsole(ConsoleRenderer["Comparison"], subject="comparison"):
    """Two runs side by side: the parameters that differ, then every figure with B/A and B-A,
    coloured where B is better or worse."""

    def renderables(self, data: Comparison, width: int) -> list[RenderableType]:
        from harness.compare import SECTION_TITLES

        c = data
        table = Table(box=None, pad_edge=False, header_style="bold")
        for name in ("figure", "A", "B", "B/A", "B-A"):
            table.add_column(name, justify="left" if name == "figure" else "right")
        if c.differing_params:
            table.add_row("[bold]Parameters that differ[/]")
        for p in c.differing_params:
            a, b = escape(p.value("a")), escape(p.value("b"))
            table.add_row(f"[yellow]{escape(p.key)}[/]", a, b, "", "[yellow]differs[/]")
        section = None
        for row in c.rows:
            if row.section != section:
                section = row.section
                table.add_row(f"[bold]{SECTION_TITLES.get(section, section)}[/]")
            style = TREND_STYLE.get(row.trend or "", "")
            changed_text = row.kind == "text" and row.changed
            table.add_row(
                f"  {escape(row.label)}",
                escape(row.value("a")),
                escape(row.value("b")),
                _styled(row.ratio_text(), style),
                _styled(row.diff_text(), "yellow" if changed_text else style),
            )
        out: list[RenderableType] = [
            f"[bold]A[/] (before) {escape(c.a.run_id)}  [dim]{escape(str(c.a_dir))}[/]",
            f"[bold]B[/] (after)  {escape(c.b.run_id)}  [dim]{escape(str(c.b_dir))}[/]",
            table,
        ]
        same = [f"{p.key}={p.value('a')}" for p in c.params if not p.differs]
        if same:
            out.append(f"[dim]same parameters: {escape(', '.join(same))}[/]")
        return out


def _styled(text: str, style: str) -> str:
    return f"[{style}]{text}[/]" if style and text else text


# -- calibration ----------------------------------------------------------------------------------


@dataclass
class CalibrationConsole(ConsoleRenderer["Calibration"], subject="calibration"):
    """Truth against findings, one row per case and tool, then what was wrong."""

    def renderables(self, data: Calibration, width: int) -> list[RenderableType]:
        table = Table(box=None, padding=(0, 1, 0, 0), header_style="bold")
        for name in cells.CALIBRATION_HEADERS:
            right = name in cells.CALIBRATION_RIGHT
            table.add_column(name, justify="right" if right else "left")
        for run in data.runs:
            row = [escape(c) for c in cells.calibration_row(run)]
            if run.failed:
                row[-1] = f"[red]{row[-1]}[/]"
            table.add_row(*row)
        out: list[RenderableType] = [table]
        for run in data.runs:
            out += [
                f"[red]wrong[/] {escape(run.case)} under {escape(run.tool)}: {escape(check.detail)}"
                for check in run.checks
                if check.ok is False
            ]
        return out
