"""Every registered renderer, given a small instance of its subject, renders text that its
format's reader accepts and that holds the data it was given."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness import render
from harness.calibrate import Calibration, CaseRun, Check
from harness.compare import compare_summaries
from harness.gate.figures import RunFigures
from harness.gate.judge import Limits, judge
from harness.gate.outcome import Outcome
from harness.render.base import Renderer
from harness.runset import RunSet
from tests.study.builders import ingest_study
from tests.test_compare import make_summary

CPU = ("<module> (job.py:30)", "run (job.py:20)", "transform (job.py:12)")
WAIT = ("<module> (job.py:30)", "Thread.join (threading.py:1119)")


def calibration() -> Calibration:
    run = CaseRun(
        case="cpu_loop", tool="none", run_dir="d", status="ok", expected_bound="cpu",
        bound="disk", confidence="high", expected_cpu=1.0, cpu_share=0.4, on_cpu=0.4,
        cpu_wait=0.0, cores_used=1.0, others_cores=0.0, peak_rss_mb=13.0, wall_s=3.0,
        checks=[Check("verdict", False, "harness says disk, truth is cpu")],
    )  # fmt: skip
    meta = {"created_at": "now", "host": "h", "cpu_count": 2, "load_average_before": [1.0]}
    meta |= {"load_average_after": [1.0], "tools": ["none"], "passed": False, "failed_runs": 1}
    return Calibration([run], meta)


SAMPLES: dict[str, Callable[[], Any]] = {
    "runs": lambda: RunSet([(Path("r1"), make_summary("r1")), (Path("r2"), make_summary("r2"))]),
    "stacks": lambda: {CPU: 75, WAIT: 25},
    "stack-diff": lambda: ({CPU: 75, WAIT: 25}, {CPU: 25, WAIT: 75}),
    "cause-stacks": lambda: {CPU: Counter(cpu=0.75), WAIT: Counter(lock=0.2, other=0.05)},
    "comparison": lambda: compare_summaries(make_summary("r1"), make_summary("r2", wall_s=1.0)),
    "calibration": calibration,
    "report": lambda: {"title": "pipeprof report", "root": "/p", "generated": "now", "rows": [],
                       "states": {}, "warnings": [], "plots": [], "study": None,
                       "other_studies": []},
    "study": lambda: ingest_study(30_000, {1: 31_000}, {1: 18_000}),
    "gate": lambda: [Outcome("job under none", 3, 3, judge(
        [RunFigures(Path(f"b{i}"), "ok", ("j",), "j", True, {"cpu": v}) for i, v in
         enumerate([1e-4, 1.1e-4, 1.05e-4])],
        [RunFigures(Path(f"h{i}"), "ok", ("j",), "j", True, {"cpu": v}) for i, v in
         enumerate([1.5e-4, 1.6e-4, 1.55e-4])], Limits()))],
}  # fmt: skip
#: What each subject's output must mention, whatever the format.
MENTIONS = {
    "runs": "r2",
    "stacks": "transform",
    "stack-diff": "transform",
    "cause-stacks": "transform",
    "comparison": "r2",
    "calibration": "cpu_loop",
    "report": "pipeprof",
    "study": "ingest_files",
    "gate": "CPU per item",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)


def read_html(text: str) -> None:
    parser = _Tags()
    parser.feed(text)
    assert {"html", "head", "body", "table"} <= set(parser.tags)


def read_csv(text: str) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) >= 2 and len({len(r) for r in rows}) == 1


def read_markdown(text: str) -> None:
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert len(table) >= 3 and set(table[1]) <= {"|", "-", ":"}


READERS: dict[str, Callable[[str], Any]] = {
    "console": lambda text: None,
    "json": json.loads,
    "csv": read_csv,
    "markdown": read_markdown,
    "html": read_html,
    "svg": ET.fromstring,
    "speedscope": json.loads,
    "folded": lambda text: [int(line.rpartition(" ")[2]) for line in text.splitlines()],
    "chrome-trace": lambda text: json.loads(text)["traceEvents"],
}


@pytest.mark.parametrize("key", sorted(render.RENDERERS), ids="/".join)
def test_every_renderer_renders_its_subject(key: tuple[str, str]) -> None:
    subject, format_ = key
    cls = render.get(subject, format_)
    assert issubclass(cls, Renderer)
    assert (cls.subject, cls.format) == key
    assert cls.extension

    text = cls().render(SAMPLES[subject]())

    READERS[format_](text)
    assert MENTIONS[subject] in text


def test_an_unknown_format_names_the_ones_there_are() -> None:
    with pytest.raises(KeyError, match="there are chrome-trace, folded, speedscope, svg"):
        render.get("stacks", "pdf")


def test_the_cause_flame_graph_is_as_wide_as_wall_time_and_coloured_by_cause() -> None:
    from harness.render.causeflame import CauseFlameGraph
    from harness.render.palette import FAMILY_COLOURS

    fsync = ("<module> (job.py:30)", "write (job.py:20)")
    encode = ("<module> (job.py:30)", "encode (job.py:12)")

    svg = CauseFlameGraph("t").render(
        {fsync: Counter(disk=0.9, cpu=0.05), encode: Counter(cpu=0.05)}
    )

    frames = {el.get("data-name"): el for el in ET.fromstring(svg).iter() if el.get("data-name")}
    rects = {name: next(iter(el.iter("{http://www.w3.org/2000/svg}rect")), None)
             for name, el in frames.items()}  # fmt: skip
    assert rects["write (job.py:20)"].get("fill") == FAMILY_COLOURS["disk"][1]
    assert rects["encode (job.py:12)"].get("fill") == FAMILY_COLOURS["cpu"][1]
    width = {n: float(r.get("width")) for n, r in rects.items()}
    assert width["write (job.py:20)"] == pytest.approx(19 * width["encode (job.py:12)"], rel=0.02)
    assert "disk 95%" in svg  # the write frame's tooltip: its whole split
