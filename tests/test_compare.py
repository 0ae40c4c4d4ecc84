"""`harness compare`: figures side by side over hand-built summaries, the differential flame
graph over hand-written folded stacks, the HTML page, and two real py-spy runs compared."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from harness import tools
from harness.commands.compare import compare_command, default_html_path, write_report
from harness.commands.show import show_command
from harness.compare import compare_runs, compare_summaries, diff_flamegraph, load_run
from harness.errors import HarnessError
from harness.summary import RunSummary, find_runs, save

SVG = "{http://www.w3.org/2000/svg}"
FOLDED_A = (
    'process 1:"python job.py";thread (1);main (job.py:1);write (job.py:5);fsync (job.py:9) 8\n'
)
FOLDED_A += 'process 1:"python job.py";thread (1);main (job.py:1);encode (job.py:7) 2\n'
FOLDED_B = 'process 2:"python job.py";thread (2);main (job.py:1);write (job.py:5) 2\n'
FOLDED_B += 'process 2:"python job.py";thread (2);main (job.py:1);encode (job.py:7) 8\n'


def make_summary(run_id: str = "A", **overrides: Any) -> RunSummary:
    """A finished run of the output scenario with round figures."""
    fields: dict[str, Any] = {
        "run_id": run_id,
        "target": "output",
        "kind": "scenario",
        "tool": "py-spy",
        "status": "ok",
        "params": {"items": 1000, "fsync": "each"},
        "wall_s": 2.0,
        "cpu": {"user_s": 0.5, "sys_s": 0.25, "cores_used": 0.4},
        "split": {"on_cpu": 0.5, "cpu_wait": 0.05, "disk_wait": 0.4, "other": 0.05},
        "gil": {"held_fraction": 0.5, "waiting_fraction": 0.0},
        "memory": {"peak_rss_mb": 20.0, "peak_heap_mb": None},
        "io": {"read_mb": 0.0, "write_mb": 8.0},
        "throughput": {"items": 1000, "items_per_s": 100.0, "elapsed_s": 1.0},
        "stages": {"output": {"wall_s": 1.0, "cpu_s": 0.5, "share": 1.0}},
        "verdict": {"bound": "disk", "confidence": "high", "evidence": ["fsync 40%"]},
    }
    fields.update(overrides)
    return RunSummary(**fields)


def make_run(root: Path, summary: RunSummary, folded: str | None = None) -> Path:
    run_dir = root / summary.run_id
    run_dir.mkdir(parents=True)
    if folded is not None:
        (run_dir / "pyspy.folded").write_text(folded)
        summary.artifacts["folded"] = "pyspy.folded"
    save(summary, run_dir)
    return run_dir


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("compare")(compare_command)
    app.command("show")(show_command)
    return app


def fill_of(svg: str, frame: str) -> tuple[int, ...]:
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        if title is not None and title.text.startswith(frame + " "):
            return tuple(map(int, re.findall(r"\d+", group.find(f"{SVG}rect").get("fill"))))
    raise AssertionError(f"no frame {frame}")


# -- figures -----------------------------------------------------------------------------------


def test_figures_carry_the_ratio_b_over_a_and_shares_the_difference_in_points() -> None:
    a = make_summary("A")
    b = make_summary(
        "B",
        wall_s=1.0,
        throughput={"items": 1000, "items_per_s": 250.0, "elapsed_s": 0.4},
        split={"on_cpu": 0.85, "cpu_wait": 0.05, "disk_wait": 0.1, "other": 0.0},
    )

    c = compare_summaries(a, b)

    assert c.row("time", "wall").ratio == pytest.approx(0.5)
    assert c.row("time", "wall").trend == "better"
    assert c.row("time", "items/s").ratio == pytest.approx(2.5)
    assert c.row("time", "items/s").ratio_text() == "2.50x"
    disk = c.row("split", "disk_wait")
    assert disk.diff_pp == pytest.approx(-30.0)
    assert disk.diff_text() == "-30.0 pp"
    assert disk.ratio == pytest.approx(0.25)
    assert c.row("split", "on_cpu").diff_pp == pytest.approx(35.0)
    assert c.row("time", "wall").diff_pp is None


def test_a_ratio_is_left_blank_where_a_is_zero_or_a_figure_is_missing() -> None:
    a = make_summary("A", io={"read_mb": 0.0, "write_mb": 8.0})
    b = make_summary("B", io={"read_mb": 3.0}, memory={})

    c = compare_summaries(a, b)

    assert c.row("io", "read").ratio is None
    assert c.row("io", "write").ratio is None
    assert c.row("io", "write").value("b") == "-"
    assert c.row("memory", "peak heap").ratio_text() == ""
    assert c.row("split", "network_wait").diff_pp is None


def test_small_changes_are_not_called_better_or_worse() -> None:
    c = compare_summaries(make_summary("A"), make_summary("B", wall_s=2.04))

    assert c.row("time", "wall").trend is None
    assert c.row("time", "items/s").trend is None


def test_differing_parameters_are_flagged_and_ones_missing_on_one_side_too() -> None:
    a = make_summary("A", params={"items": 1000, "fsync": "each"})
    b = make_summary("B", params={"items": 1000, "fsync": "none", "encoder": "orjson"})

    c = compare_summaries(a, b)

    assert [p.key for p in c.differing_params] == ["fsync", "encoder"]
    assert c.differing_params[1].value("a") == "(absent)"
    assert not next(p for p in c.params if p.key == "items").differs


def test_verdict_status_and_stages_of_both_runs_are_compared() -> None:
    a = make_summary("A")
    b = make_summary(
        "B",
        status="failed",
        verdict={"bound": "cpu", "confidence": "medium"},
        stages={"output": {"wall_s": 0.5, "cpu_s": 0.4, "share": 0.8}, "ingest": 0.1},
    )

    c = compare_summaries(a, b)

    verdict = c.row("outcome", "verdict")
    assert (verdict.a, verdict.b, verdict.diff_text()) == ("disk (high)", "cpu (medium)", "changed")
    assert c.row("outcome", "status").changed
    assert c.row("stages", "output wall").ratio == pytest.approx(0.5)
    assert c.row("stages", "output share").diff_pp == pytest.approx(-20.0)
    assert (c.row("stages", "ingest wall").a, c.row("stages", "ingest wall").b) == (None, 0.1)
    assert any("run B is failed" in w for w in c.warnings)


def test_runs_of_different_targets_compare_with_a_warning() -> None:
    same = compare_summaries(make_summary("A"), make_summary("B"))
    other = compare_summaries(make_summary("A"), make_summary("B", target="ingest"))

    assert same.warnings == []
    assert len(other.warnings) == 1
    assert "different targets (output vs ingest)" in other.warnings[0]


def test_a_run_that_waited_for_a_cpu_is_flagged_as_measured_on_a_busy_machine() -> None:
    busy = make_summary("B", split={"on_cpu": 0.26, "cpu_wait": 0.74})

    c = compare_summaries(make_summary("A"), busy)

    assert any("run B waited for a CPU 74%" in w for w in c.warnings)


# -- loading runs --------------------------------------------------------------------------------


def test_a_missing_run_directory_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(HarnessError) as caught:
        load_run(tmp_path / "nope", "A")

    assert caught.value.exit_code == 2
    assert "run A" in caught.value.message
    assert "does not exist" in caught.value.message
    assert "\n" not in caught.value.message


def test_an_unreadable_summary_is_an_error_with_exit_code_2(tmp_path: Path) -> None:
    run_dir = tmp_path / "broken"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text("{ not json")

    with pytest.raises(HarnessError) as caught:
        compare_runs(make_run(tmp_path, make_summary("A")), run_dir)

    assert caught.value.exit_code == 2
    assert "run B" in caught.value.message
    assert "unreadable" in caught.value.message


def test_a_profiles_root_given_as_a_run_names_a_run_inside_it(tmp_path: Path) -> None:
    make_run(tmp_path / "profiles", make_summary("20260101T000000Z-output-py-spy"))

    with pytest.raises(HarnessError) as caught:
        load_run(tmp_path / "profiles", "B")

    assert "holds 1 runs" in caught.value.message
    assert "20260101T000000Z-output-py-spy" in caught.value.message


# -- differential flame graph and HTML --------------------------------------------------------


def test_diff_flamegraph_colours_grown_frames_red_and_shrunk_frames_blue(tmp_path: Path) -> None:
    a_dir = make_run(tmp_path, make_summary("A"), FOLDED_A)
    b_dir = make_run(tmp_path, make_summary("B"), FOLDED_B)

    svg, note = diff_flamegraph(compare_runs(a_dir, b_dir))

    assert note is None
    assert svg is not None
    red, _, blue = fill_of(svg, "encode")
    assert red == 255 and blue < 255
    red, _, blue = fill_of(svg, "write")
    assert blue == 255 and red < 255
    assert "process" not in svg and "thread (" not in svg


def test_no_folded_stacks_skips_the_graph_with_one_line(tmp_path: Path) -> None:
    a_dir = make_run(tmp_path, make_summary("A", tool="none"))
    b_dir = make_run(tmp_path, make_summary("B"), FOLDED_B)

    svg, note = diff_flamegraph(compare_runs(a_dir, b_dir))

    assert svg is None
    assert note is not None and "run A (none)" in note and "py-spy" in note
    assert "\n" not in note


def test_the_html_page_is_self_contained_and_links_the_svg_beside_it(tmp_path: Path) -> None:
    a_dir = make_run(tmp_path, make_summary("A"), FOLDED_A)
    b_dir = make_run(tmp_path, make_summary("B", params={"items": 1000, "fsync": "none"}), FOLDED_B)
    c = compare_runs(a_dir, b_dir)

    written = write_report(c, default_html_path(c))

    assert written.html == b_dir / "compare-A.html"
    assert written.svg == b_dir / "compare-A-flamegraph.svg"
    ET.parse(written.svg)
    page = written.html.read_text()
    assert 'href="compare-A-flamegraph.svg"' in page
    assert "<style>" in page
    assert not re.search(r"(src|href)=\"(https?:|//)", page)
    assert '<tr class="differs"><td>fsync' in page


def test_compare_command_prints_the_table_and_writes_html_where_asked(tmp_path: Path) -> None:
    a_dir = make_run(tmp_path, make_summary("A", tool="none"))
    b_dir = make_run(tmp_path, make_summary("B", tool="none", wall_s=1.0))
    html = tmp_path / "out" / "cmp.html"

    result = CliRunner().invoke(cli(), ["compare", str(a_dir), str(b_dir), "--html", str(html)])

    assert result.exit_code == 0, result.output
    assert "0.50x" in result.output
    assert "no differential flame graph" in result.output
    assert html.is_file()
    assert not (tmp_path / "out" / "cmp-flamegraph.svg").exists()


# -- two real runs -----------------------------------------------------------------------------


def harness_run(root: Path, *sets: str) -> Path:
    argv = [sys.executable, "-m", "harness", "run", "output", "--tool", "py-spy"]
    argv += [arg for s in sets for arg in ("--set", s)]
    proc = subprocess.run([*argv, "--out", str(root)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = find_runs(root)
    return run_dir


@pytest.mark.slow
def test_fsync_each_against_none_shows_disk_wait_and_a_diff_flamegraph(tmp_path: Path) -> None:
    """One collection file rather than a file per item: creating files where many were just
    deleted costs up to ~800 us each on this ext4, enough to hide what fsync costs."""
    problem = tools.TOOLS["py-spy"].problem()
    if problem is not None:
        pytest.skip(f"py-spy cannot run here: {problem}")
    started = time.monotonic()
    sets = ("items=1500", "layout=collection")
    each = harness_run(tmp_path / "each", *sets, "fsync=each")
    none = harness_run(tmp_path / "none", *sets, "fsync=none")

    result = CliRunner().invoke(cli(), ["compare", str(each), str(none)])
    c = compare_runs(each, none)

    assert result.exit_code == 0, result.output
    assert c.row("split", "disk_wait").a > c.row("split", "disk_wait").b
    assert c.row("time", "items/s").a < c.row("time", "items/s").b
    assert [p.key for p in c.differing_params] == ["fsync"]
    svg = none / f"compare-{each.name}-flamegraph.svg"
    assert svg.is_file()
    ET.parse(svg)
    assert (none / f"compare-{each.name}.html").is_file()
    assert time.monotonic() - started < 60
