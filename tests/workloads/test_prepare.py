"""The hook the harness prepares a scenario's run with: real scratch directories, a real API
server over loopback, and the options a module's own command line already gives."""

from __future__ import annotations

import http.client
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from workloads import registry
from workloads.api_service import TOKEN_ENV
from workloads.scenarios import outputs


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PIPEPROF_SCRATCH", str(tmp_path))
    return tmp_path / "pipeprof-outputs"


def stats_status(url: str, token: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", "/stats", headers={"Authorization": f"Bearer {token}"})
        return conn.getresponse().status
    finally:
        conn.close()


def test_scratch_dirs_outlive_their_run_and_are_swept_later():
    mine = outputs.output_dir("run-a")
    assert mine.is_dir() and mine.name.startswith(f"{os.getpid()}-run-a-")
    root = outputs.scratch_root()
    dead_old = root / "999999999-old-run"
    dead_new = root / "999999999-new-run"
    for path in (dead_old, dead_new):
        path.mkdir()
        (path / "item.json").write_text("{}")
    old = time.time() - outputs.KEEP_S - 10
    os.utime(dead_old, (old, old))
    os.utime(mine, (old, old))

    removed = outputs.sweep(root)

    assert removed == [dead_old]  # a dead owner's old directory only
    assert mine.exists() and dead_new.exists()


def test_a_scenario_run_gets_its_result_file_and_a_scratch_output_dir(tmp_path, scratch):
    output = registry.get("output")
    params = {**output.defaults(), "fs": "disk"}
    with output.prepare(params, "run-1", tmp_path / "result.json") as prep:
        at = prep.args.index("--out-dir")
        out_dir = Path(prep.args[at + 1])
        assert prep.args[:2] == ["--result", str(tmp_path / "result.json")]
        assert out_dir.is_dir() and out_dir.parent == scratch and not any(out_dir.iterdir())
        assert prep.filesystem["kind"] == "disk" and prep.filesystem["fresh"] is False
        assert prep.env == {} and prep.notes == []
    assert out_dir.is_dir()  # removed by a later run's sweep, not at once


def test_an_api_scenario_gets_a_server_outside_its_process_for_the_block(tmp_path):
    scenario = registry.get("ingest_api")
    params = {**scenario.defaults(), "items": 20, "latency_ms": 0.0}
    with scenario.prepare(params, "run-2", tmp_path / "r.json") as prep:
        url = prep.args[prep.args.index("--api-url") + 1]
        token = prep.env[TOKEN_ENV]
        assert stats_status(url, token) == 200
        assert stats_status(url, "wrong") == 401
    with pytest.raises(OSError):  # the server stopped with the block
        stats_status(url, token)


def test_a_module_run_keeps_what_its_command_line_gives(tmp_path):
    output = registry.get("output")
    given = ["--items", "10", "--out-dir", str(tmp_path / "mine")]
    params = output.params_of(given)
    assert params["items"] == 10 and params["out_dir"] == str(tmp_path / "mine")
    with output.prepare(params, "run-3", tmp_path / "r.json", given) as prep:
        assert "--out-dir" not in prep.args and prep.notes == []
    with output.prepare(output.params_of([]), "run-4", tmp_path / "r.json", []) as prep:
        assert "--out-dir" in prep.args
        assert prep.notes and "scratch directory" in prep.notes[0]
    with output.prepare(output.params_of([]), "run-5", tmp_path / "r.json", ["--result", "x"]) as p:
        assert "--result" not in p.args


def test_a_command_line_the_scenario_refuses_gets_the_defaults():
    output = registry.get("output")
    assert output.params_of(["--items", "many"]) == output.defaults()
    assert output.params_of(["--fs", "ext4", "--unknown"])["fs"] == "ext4"


def test_a_filesystem_that_cannot_be_made_is_said_before_anything_is_made():
    output = registry.get("output")
    assert output.prepare_problem({"fs": "disk"}) is None
    assert output.prepare_problem({"fs": "ext4", "out_dir": "/somewhere"}) is None
    found = output.prepare_problem({"fs": "zfs"})
    assert found is not None and found.startswith("--set fs=zfs: unknown filesystem")


def test_the_input_data_set_is_made_before_the_launch(tmp_path: Path) -> None:
    from workloads import data

    ingest = registry.get("ingest_files")
    params = {**ingest.defaults(), "items": 50, "data_dir": str(tmp_path / "data")}
    with ingest.prepare(params, "run-1", tmp_path / "result.json") as prep:
        assert data.is_cached(50, 42, "files", 0.0, tmp_path / "data")
        assert prep.notes == ["made the input data set first (50 items, files)"]
    with ingest.prepare(params, "run-2", tmp_path / "result.json") as prep:
        assert prep.notes == []  # already there

    pipeline = registry.get("pipeline")
    from_api = {**pipeline.defaults(), "items": 60, "source": "api"}
    from_api["data_dir"] = str(tmp_path / "data")
    with pipeline.prepare(from_api, "run-3", tmp_path / "result.json"):
        assert not data.is_cached(60, 42, "files", 0.0, tmp_path / "data")
