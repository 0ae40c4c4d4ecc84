"""`harness report` as a command: writes the page, warns about broken runs, still succeeds."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from harness.commands.report import report_command
from harness.errors import HarnessError

from .runs import make_run


def invoke(*args: str):
    app = typer.Typer()
    app.command()(report_command)
    return CliRunner().invoke(app, list(args))


def test_report_warns_about_a_corrupt_run_and_still_writes_the_page(tmp_path):
    make_run(tmp_path, "20261128T100000Z-output-none")
    broken = make_run(tmp_path, "20261128T100100Z-output-none")
    (broken / "summary.json").write_text("")

    result = invoke("--out", str(tmp_path))

    assert result.exit_code == 0, result.output
    assert "warning: 20261128T100100Z-output-none: unreadable:" in result.output
    assert "report: 2 runs (1 readable)" in result.output
    assert (tmp_path / "index.html").is_file()


def test_report_on_an_empty_root_writes_a_page_without_plots(tmp_path):
    result = invoke("--out", str(tmp_path))

    assert result.exit_code == 0
    html = (tmp_path / "index.html").read_text()
    assert "No run has the figures these plots need yet." in html


def test_report_on_a_missing_root_is_a_usage_error(tmp_path):
    result = invoke("--out", str(tmp_path / "nowhere"))

    assert isinstance(result.exception, HarnessError)  # cli.main turns it into one line
    assert result.exception.exit_code == 2
    assert "no such directory" in result.exception.message
