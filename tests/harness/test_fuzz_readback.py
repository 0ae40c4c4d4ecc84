"""The JSON the harness reads back, damaged: truncated, garbage, a field of the wrong type, a
key gone, another schema version. `show`, `compare`, `report` and `prune` never print a
traceback; a run whose summary is damaged becomes a warning naming its file, and the rest of
the root still works. Everything here is real: runs made by the runner, real commands."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import rundir, tools
from harness.calibrate import to_json
from harness.commands.compare import default_html_path
from harness.compare import compare_runs, write_record
from harness.runner import RunRequest, execute
from harness.study.results import PointResult, RunRecord, Study, save
from harness.summary import write_json_atomic
from harness.targets import resolve
from tests.harness import fuzzing

FUZZ = settings(
    max_examples=int(os.environ.get("PIPEPROF_FUZZ_EXAMPLES", "150")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict[str, Any]:
    """A root with two runs, a study of one run, a calibration and a compare, all real."""
    base = tmp_path_factory.mktemp("readback")
    script = base / "job.py"
    script.write_text("total = sum(range(100_000))\nprint(total)\n")
    root = rundir.check_writable(base / "profiles")

    def run(where: Path) -> Path:
        target = resolve(str(script), [], [])
        return execute(RunRequest(target, tools.get("none"), rundir.check_writable(where))).run_dir

    a, b = run(root), run(root)
    study_dir = root / "study-20261129T000000Z"
    in_study = run(study_dir / "runs")
    point = PointResult("k", "output", "layout", "k", {"items": 1}, "none")
    point.runs = [RunRecord(f"runs/{in_study.name}", "ok", 10.0, 1.0)]
    save(Study(meta={"started_at": "2026-11-29T00:00:00+00:00"}, points=[point]), study_dir)
    calibration = root / "calibration-20261129T000000Z"
    calibration.mkdir()
    write_json_atomic(calibration / "calibration.json", to_json([], {"tools": ["none"]}))
    comparison = compare_runs(a, b)
    record = write_record(comparison, default_html_path(comparison))
    files = {
        "summary": a / "summary.json",
        "manifest": a / "manifest.json",
        "study": study_dir / "study.json",
        "calibration": calibration / "calibration.json",
        "compare": record,
    }
    return {"base": base, "root": root, "a": a, "b": b, "files": files}


def paths_in(doc: Any, prefix: tuple = (), depth: int = 3) -> list[tuple]:
    found = [prefix] if prefix else []
    if depth == 0:
        return found
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths_in(value, (*prefix, key), depth - 1)
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:3]):
            found += paths_in(value, (*prefix, i), depth - 1)
    return found


@st.composite
def damage(draw, original: bytes) -> bytes:
    """`original` (a JSON document) damaged one way."""
    how = draw(st.sampled_from(["truncate", "garbage", "replace", "delete", "schema", "whole"]))
    if how == "truncate":
        return original[: draw(st.integers(0, max(0, len(original) - 1)))]
    if how == "garbage":
        return draw(st.binary(max_size=64))
    doc = json.loads(original)
    if how == "whole":
        doc = draw(JSON)
    elif how == "schema":
        doc["schema"] = draw(JSON | st.sampled_from([0, 2, 99, -1, "1", 1.0]))
    else:
        # Top-level fields and the ones just under them are what the readers use.
        depth = draw(st.sampled_from([1, 2]))
        path = draw(st.sampled_from([p for p in paths_in(doc) if len(p) == depth] or [("x",)]))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if how == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    return json.dumps(doc).encode()


def ok_or_one_line(done: fuzzing.Call, what: str) -> None:
    shown = f"{what}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr, shown
    assert done.code in (0, 2), shown
    if done.code == 2:
        assert len(done.error_lines) == 1 and done.error_lines[0].startswith("error:"), shown


@FUZZ
@given(data=st.data())
def test_damaged_json_is_a_warning_and_the_rest_works(pristine, tmp_path_factory, data):
    # The summary is what most readers read: it is damaged half the time.
    which = data.draw(st.sampled_from(["summary"] * 4 + sorted(pristine["files"])))
    original = pristine["files"][which]
    damaged = data.draw(damage(original.read_bytes()))
    work = tmp_path_factory.mktemp("case")
    root = work / "profiles"
    shutil.copytree(pristine["root"], root)
    victim = root / original.relative_to(pristine["root"])
    victim.write_bytes(damaged)
    a, b = (root / pristine[k].relative_to(pristine["root"]) for k in ("a", "b"))

    for fmt in ("table", "csv", "json", "markdown"):
        done = fuzzing.call(["show", str(root), "--format", fmt])
        ok_or_one_line(done, f"show --format {fmt} after damaging {which}")
        assert done.code == 0 and b.name in done.stdout, done.stderr  # the rest still works
    unreadable = fuzzing.call(["show", str(a)]).code != 0
    if which == "summary" and unreadable:
        shown = fuzzing.call(["show", str(root)])
        assert str(victim) in shown.stderr, "the warning does not name the damaged file"
    ok_or_one_line(fuzzing.call(["show", str(a)]), "show A")
    ok_or_one_line(
        fuzzing.call(["compare", str(a), str(b), "--html", str(work / "c.html")]), "compare"
    )
    done = fuzzing.call(["prune", "--out", str(root), "--keep", "0", "--dry-run"])
    ok_or_one_line(done, "prune --dry-run")
    assert done.code == 0


@settings(FUZZ, max_examples=max(10, FUZZ.max_examples // 10))
@given(data=st.data())
def test_report_over_damaged_json(pristine, tmp_path_factory, data):
    """The report draws plots (slower): fewer examples."""
    which = data.draw(st.sampled_from(sorted(pristine["files"])))
    original = pristine["files"][which]
    work = tmp_path_factory.mktemp("report")
    root = work / "profiles"
    shutil.copytree(pristine["root"], root)
    (root / original.relative_to(pristine["root"])).write_bytes(
        data.draw(damage(original.read_bytes()))
    )
    done = fuzzing.call(["report", "--out", str(root)])
    ok_or_one_line(done, f"report after damaging {which}")
    assert done.code == 0
