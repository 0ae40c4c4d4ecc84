"""Profiler samples are attributed to pipeline stages by the frames they pass through."""

from __future__ import annotations

from harness.study.attribution import attribute, attribute_run

ROOT = 'process 1:"python -m workloads.pipeline";thread (1): MainThread'
LOOP = "main (workloads/scenarios/base.py:61);run_stages (workloads/pipeline/engine.py:99)"


def test_samples_go_to_the_innermost_stage_module():
    stacks = {
        (
            ROOT,
            LOOP,
            "write (workloads/pipeline/output.py:120)",
            "dumps (json/__init__.py:231)",
        ): 60,
        (
            ROOT,
            LOOP,
            "chunks (workloads/pipeline/ingest_files.py:88)",
            "read_parse_files (workloads/pipeline/ingest_files.py:31)",
        ): 30,
        (ROOT, LOOP, "transform_chunk (workloads/pipeline/transform.py:90)"): 10,
    }

    found = attribute(stacks)

    assert found["samples"] == {"ingest": 30, "transform": 10, "output": 60, "checkpoint": 0}
    assert found["shares"] == {"ingest": 0.3, "transform": 0.1, "output": 0.6}
    assert found["staged"] == 100 and found["outside"] == 0


def test_imports_waits_and_set_up_are_kept_out_of_the_stages():
    stacks = {
        (
            ROOT,
            "<module> (workloads/scenarios/api_source.py:8)",
            "_find_and_load (<frozen importlib._bootstrap>:1176)",
            "<module> (aiohttp/connector.py:1)",
        ): 40,
        (ROOT, "body (workloads/scenarios/pipeline.py:31)", "dataset (workloads/data.py:156)"): 7,
        (ROOT, "main (harness/exitstatus.py:31)", "_try_wait (subprocess.py:2004)"): 90,
        (ROOT, LOOP, "write (workloads/pipeline/output.py:120)"): 5,
    }

    found = attribute(stacks)

    assert found["staged"] == 5 and found["shares"] == {"output": 1.0}
    assert found["outside"] == 47 and found["waiting"] == 90


def test_a_run_without_samples_has_no_attribution(tmp_path):
    assert attribute_run(tmp_path) is None
    (tmp_path / "pyspy.folded").write_text("")
    assert attribute_run(tmp_path) is None
    (tmp_path / "pyspy.folded").write_text(f"{ROOT};{LOOP};f (workloads/pipeline/output.py:1) 3\n")
    assert attribute_run(tmp_path)["samples"]["output"] == 3
