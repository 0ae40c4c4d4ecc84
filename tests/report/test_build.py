"""index.html over hand-built runs: table, plots, findings section, atomic write."""

from __future__ import annotations

import os
import re

import pytest

from harness.report import build as build_module
from harness.report.build import build
from harness.study.results import Study, save

from .runs import make_run


def make_root(tmp_path):
    make_run(
        tmp_path,
        "20261128T100000Z-output-py-spy",
        tool="py-spy",
        artifacts={"flamegraph": "flamegraph.svg"},
    )
    for n, (layout, fsync, rate) in enumerate(
        [
            ("individual", "none", 20_000),
            ("individual", "each", 2_000),
            ("collection", "none", 90_000),
            ("batched", "batch", 40_000),
        ]
    ):
        make_run(
            tmp_path,
            f"20261128T10010{n}Z-output-none",
            layout=layout,
            fsync=fsync,
            items_per_s=rate,
        )
    for n, (mode, workers, rate) in enumerate(
        [
            ("threads", 1, 30_000),
            ("threads", 2, 25_000),
            ("processes", 1, 18_000),
            ("processes", 2, 26_000),
            ("processes", 4, 20_000),
        ]
    ):
        make_run(
            tmp_path,
            f"20261128T10020{n}Z-ingest_files-none",
            target="ingest_files",
            mode=mode,
            workers=workers,
            items_per_s=rate,
        )
    make_run(tmp_path, "20261128T100300Z-pipeline-none", target="pipeline")
    broken = make_run(tmp_path, "20261128T100400Z-pipeline-none", target="pipeline")
    (broken / "summary.json").write_text("{")
    return tmp_path


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One report over the hand-built runs, for the tests that only read it."""
    return build(make_root(tmp_path_factory.mktemp("root")))


def test_report_lists_every_run_and_draws_its_plots(built):
    root = built.index.parent
    html = built.index.read_text()
    assert html.count('<tr class="run-row">') == 12
    assert {p.name for p in built.plots} == {"scaling", "modes", "stages", "split", "layouts"}
    for plot in built.plots:
        svg = (root / plot.file).read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert f'src="{plot.file}"' in html
    assert 'href="20261128T100000Z-output-py-spy/flamegraph.svg"' in html
    assert "unreadable" in html and "1 problem reading the profiles root" in html
    assert len(built.collection.warnings) == 1


def test_report_needs_nothing_from_the_network(built):
    html = built.index.read_text()

    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html


def study(started: str, verdict: str) -> Study:
    answers = {
        key: {
            "question": f"question {key}",
            "text": f"{verdict} for {key}, at 1,234 items/s.",
            "citations": [{"label": "the run", "path": "runs/20261128T110000Z-output-none"}],
        }
        for key in ("Q1", "Q2", "Q3", "Q4")
    }
    return Study(meta={"started_at": started, "quick": True, "cores": 2}, answers=answers)


def test_findings_of_the_newest_study_lead_the_page(root):
    old, new = root / "study-20261127T000000Z", root / "study-20261128T110000Z"
    for path, s in ((old, study("2026-11-27T00:00:00", "Old")), (new, study("2026-11-28", "New"))):
        make_run(path / "runs", "20261128T110000Z-output-none")
        save(s, path)

    html = build(root).index.read_text()

    findings = html.index('id="findings"')
    assert findings < html.index('id="plots"') < html.index('id="runs"')
    for key in ("Q1", "Q2", "Q3", "Q4"):
        assert f"New for {key}, at 1,234 items/s." in html
    assert "Old for Q1" not in html
    assert 'href="study-20261128T110000Z/runs/20261128T110000Z-output-none"' in html
    assert 'href="study-20261127T000000Z/findings.md"' in html  # listed as an older study
    assert html.count('<tr class="run-row">') == 14


def test_plots_fall_back_to_the_runs_when_the_study_lacks_their_data(root):
    (root / "study-20261128T110000Z").mkdir()
    save(study("2026-11-28", "New"), root / "study-20261128T110000Z")

    built = build(root)

    assert {p.name for p in built.plots} == {"scaling", "modes", "stages", "split", "layouts"}


def test_index_is_replaced_atomically(tmp_path, monkeypatch):
    index = tmp_path / "index.html"
    build_module.write_atomic(index, "old page")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(build_module.os, "replace", fail)
    with pytest.raises(OSError):
        build_module.write_atomic(index, "new page")

    assert index.read_text() == "old page"
    assert os.listdir(tmp_path) == ["index.html"]


def test_building_leaves_no_temporary_files(built):
    leftovers = [p for p in built.index.parent.rglob(".*") if p.is_file()]
    assert leftovers == []


def test_a_study_over_filesystems_gets_the_filesystem_and_model_plots(root):
    from tests.render.test_findings_filesystems import _study

    path = root / "study-20261128T120000Z"
    path.mkdir()
    s = _study()
    s.meta["started_at"] = "2026-11-28T12:00:00"
    save(s, path)

    built = build(root)

    names = {p.name for p in built.plots}
    assert {"filesystems", "storage-model"} <= names and "layouts" not in names
    svg = (root / next(p.file for p in built.plots if p.name == "storage-model")).read_text()
    assert "<svg" in svg
    html = built.index.read_text()
    assert 'src="report/filesystems.svg"' in html and 'src="report/storage-model.svg"' in html
    # the recommendation and the HDD answer lead the page with Q1-Q4
    assert "Predicted 13,811 items/s from the measured stage costs" in html
    assert "measured 13,000 items/s, 0.94 of the prediction (within 20%)" in html
    assert "2.17x the sequential pipeline (6,000 items/s; faster)" in html
    assert "Answer (prediction): with fsync per item a spinning disk" in html
