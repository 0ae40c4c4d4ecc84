"""Report rows from hand-built run directories, broken ones included (given / when / then)."""

from __future__ import annotations

import json

from harness.report.collect import collect, row_for, shown_params

from .runs import make_run


def test_a_good_run_becomes_a_full_row(tmp_path):
    run = make_run(
        tmp_path,
        "20261128T101010Z-output-py-spy",
        tool="py-spy",
        fsync="each",
        artifacts={
            "flamegraph": "flamegraph.svg",
            "speedscope": "missing-on-disk.json",
            "flamegraph_causes": "flamegraph-causes.svg",
            "memray_flamegraph_1234": "memray-flamegraph.1234.html",  # not py-spy's: no link
        },
    )
    (run / "missing-on-disk.json").unlink()

    row = row_for(run, tmp_path)

    assert (row.state, row.target, row.tool) == ("ok", "output", "py-spy")
    assert row.params == "fsync=each"
    assert row.items_per_s == 1000.0 and row.wall_s == 1.5 and row.peak_rss_mb == 42.5
    assert row.split["disk_wait"] == 0.3 and row.gil_held == 0.9 and row.lock_wait == 0.05
    assert (row.bound, row.confidence) == ("disk", "medium")
    assert row.artifacts == [
        ("flame graph", "20261128T101010Z-output-py-spy/flamegraph.svg"),
        ("flame graph by cause", "20261128T101010Z-output-py-spy/flamegraph-causes.svg"),
    ]
    assert row.href == "20261128T101010Z-output-py-spy" and row.where == ""


def test_each_tool_says_which_of_its_artifacts_get_a_link(tmp_path):
    run = make_run(
        tmp_path,
        "20261128T101011Z-output-memray",
        tool="memray",
        artifacts={
            "memray_bin": "memray.bin",
            "memray_flamegraph": "memray-flamegraph.html",
            "memray_flamegraph_1234": "memray-flamegraph.1234.html",
        },
    )

    row = row_for(run, tmp_path)

    assert row.artifacts == [
        ("memray", "20261128T101011Z-output-memray/memray-flamegraph.html"),
        ("memray 1234", "20261128T101011Z-output-memray/memray-flamegraph.1234.html"),
    ]


def test_corrupt_summary_is_listed_as_unreadable_with_a_warning(tmp_path):
    run = make_run(tmp_path, "20261128T101010Z-output-none")
    (run / "summary.json").write_text('{"run_id": "x", "tar')

    result = collect(tmp_path)

    (row,) = result.rows
    assert row.state == "unreadable" and not row.readable
    assert "summary.json is unreadable" in row.problem
    assert (row.target, row.tool) == ("output", "none")  # from the manifest
    assert result.warnings == [f"{row.href}: unreadable: {row.problem}"]


def test_killed_harness_runs_are_incomplete(tmp_path):
    running = make_run(
        tmp_path, "20261128T101010Z-pipeline-none", target="pipeline", status="running"
    )
    no_summary = make_run(tmp_path, "20261128T101011Z-output-none")
    (no_summary / "summary.json").unlink()
    newer = make_run(tmp_path, "20261128T101012Z-output-none")
    (newer / "summary.json").write_text(json.dumps({"schema": 99, "run_id": "x"}))

    rows = {r.name: r for r in collect(tmp_path).rows}

    assert rows[running.name].state == "incomplete"
    assert "still says running" in rows[running.name].problem
    assert rows[no_summary.name].state == "incomplete"
    assert "no summary.json" in rows[no_summary.name].problem
    assert rows[newer.name].state == "unreadable" and "schema 99" in rows[newer.name].problem


def test_rows_come_newest_first_from_every_depth_with_their_study(tmp_path):
    make_run(tmp_path, "20261128T090000Z-output-none")
    make_run(tmp_path / "study-20261128T100000Z" / "runs", "20261128T100001Z-output-none")
    make_run(tmp_path / "study-20261128T100000Z" / "warmup", "20261128T100000Z-output-none")

    rows = collect(tmp_path).rows

    assert [r.name for r in rows] == [
        "20261128T100001Z-output-none",
        "20261128T100000Z-output-none",
        "20261128T090000Z-output-none",
    ]
    assert rows[0].where == "study-20261128T100000Z"
    assert rows[1].where == "study-20261128T100000Z, warm-up"
    assert rows[0].href == "study-20261128T100000Z/runs/20261128T100001Z-output-none"


def test_shown_params_are_those_off_their_defaults_minus_paths():
    params = {"items": 5000, "layout": "batched", "nested": True, "out_dir": "/x", "seed": 42}

    assert shown_params("output", params) == "layout=batched nested=true"
    assert shown_params("my_script", {"argv": ["--n", "3"]}) == "--n 3"
