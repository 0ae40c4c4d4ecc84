"""`harness show` and its renderers: flattened rows as CSV and Markdown, whole summaries as
JSON, and the runs a set of paths names."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness import runset
from harness.errors import HarnessError
from harness.render.csvrenderer import RunsCsv
from harness.render.jsonrenderer import RunsJson
from harness.render.markdown import RunsMarkdown
from harness.summary import SPLIT_KEYS, RunSummary
from tests.test_compare import cli, make_run, make_summary


def two_runs() -> list[RunSummary]:
    return [
        make_summary("20260101T000000Z-output-py-spy"),
        make_summary(
            "20260101T000100Z-output-none",
            tool="none",
            params={"items": 1000, "fsync": "none", "nested": True, "note": "a|b"},
            gil={},
        ),
    ]


def as_set(summaries: list[RunSummary], single: bool = False) -> runset.RunSet:
    return runset.RunSet([(Path(s.run_id), s) for s in summaries], single=single)


def test_flatten_gives_every_column_with_none_where_a_figure_is_missing() -> None:
    row = runset.flatten(two_runs()[1])

    assert tuple(row) == runset.COLUMNS
    assert set(SPLIT_KEYS) <= set(row)
    assert row["params"] == "items=1000;fsync=none;nested=true;note=a|b"
    assert row["gil_held"] is None
    assert row["network_wait"] is None
    assert (row["bound"], row["confidence"]) == ("disk", "high")


def test_csv_parses_back_to_the_flattened_rows() -> None:
    runs = two_runs()

    text = RunsCsv().render(as_set(runs))
    rows = list(csv.DictReader(io.StringIO(text)))

    assert list(rows[0]) == list(runset.COLUMNS)
    assert len(rows) == 2
    for parsed, summary in zip(rows, runs, strict=True):
        expected = {k: "" if v is None else str(v) for k, v in runset.flatten(summary).items()}
        assert parsed == expected
    assert float(rows[0]["items_per_s"]) == 100.0


def test_markdown_is_a_header_a_separator_and_one_row_per_run() -> None:
    text = RunsMarkdown().render(as_set(two_runs()))
    lines = text.splitlines()

    assert len(lines) == 4
    cells = [line.replace("\\|", "").split("|")[1:-1] for line in lines]
    assert all(len(row) == len(runset.COLUMNS) for row in cells)
    assert cells[0][0].strip() == "run_id"
    assert set(cells[1][0]) == {":", "-"}
    assert cells[1][5] == "---:"
    assert "note=a\\|b" in lines[3]
    assert "| - |" in lines[3]


def test_json_of_one_run_is_the_summary_and_loads_back_equal() -> None:
    run = two_runs()[0]

    text = RunsJson().render(as_set([run], single=True))

    assert RunSummary.from_dict(json.loads(text)) == run


def test_json_of_a_set_is_a_list_of_summaries_that_load_back_equal() -> None:
    runs = two_runs()

    loaded = [RunSummary.from_dict(d) for d in json.loads(RunsJson().render(as_set(runs)))]

    assert loaded == runs


def test_varying_params_names_only_those_that_differ() -> None:
    assert runset.varying_params(two_runs()) == ["fsync", "nested", "note"]
    assert runset.varying_params(two_runs()[:1]) == []


def test_gather_reads_every_run_under_a_root_and_warns_about_broken_ones(tmp_path: Path) -> None:
    for summary in two_runs():
        make_run(tmp_path / "profiles", summary)
    broken = tmp_path / "profiles" / "20260101T000200Z-output-py-spy"
    broken.mkdir()
    (broken / "summary.json").write_text("{")

    found = runset.gather([tmp_path / "profiles", tmp_path / "missing"])

    assert [s.run_id for s in found.summaries] == [s.run_id for s in two_runs()]
    assert len(found.warnings) == 2
    assert "unreadable" in found.warnings[0]
    assert "does not exist" in found.warnings[1]


def test_gather_lists_a_run_named_twice_once(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, two_runs()[0])

    found = runset.gather([run_dir, run_dir / "summary.json", tmp_path])

    assert len(found.runs) == 1


# -- the show command --------------------------------------------------------------------------


def show(*args: Any) -> Any:
    return CliRunner().invoke(cli(), ["show", *map(str, args)])


def test_show_json_flag_prints_one_runs_whole_summary(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, two_runs()[0])

    result = show(run_dir, "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["run_id"] == "20260101T000000Z-output-py-spy"


def test_show_csv_of_a_root_exports_every_run_and_warns_on_stderr(tmp_path: Path) -> None:
    for summary in two_runs():
        make_run(tmp_path, summary)
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "manifest.json").write_text("{}")

    result = show(tmp_path, "--format", "csv")

    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 2


def test_show_table_of_a_set_has_one_line_per_run(tmp_path: Path) -> None:
    for summary in two_runs():
        make_run(tmp_path, summary)

    result = show(tmp_path)

    assert result.exit_code == 0, result.output
    assert "20260101T000000Z-output-py-spy" in result.output
    assert "fsync=none" in result.output


def test_show_with_no_readable_summary_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "summary.json").write_text("[]")

    result = show(tmp_path, "--format", "markdown")

    assert isinstance(result.exception, HarnessError)
    assert result.exception.exit_code == 2


def test_show_refuses_json_flag_with_another_format(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, two_runs()[0])

    result = show(run_dir, "--json", "--format", "csv")

    assert isinstance(result.exception, HarnessError)
    assert "disagree" in result.exception.message


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_show_every_format_of_one_run(tmp_path: Path, fmt: str) -> None:
    run_dir = make_run(tmp_path, two_runs()[0])

    result = show(run_dir, "--format", fmt)

    assert result.exit_code == 0, result.output
    assert "py-spy" in result.output
