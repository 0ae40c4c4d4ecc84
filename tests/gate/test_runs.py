"""Which runs the gate compares: every run under a directory (a study's), grouped into repeats of
one target and matched with the baseline's repeats of the same one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.gate.runs import gather, match


def write_run(root: Path, name: str, target: str, params: dict, status: str = "ok") -> Path:
    run = root / name
    run.mkdir(parents=True)
    summary = {
        "schema": 3, "run_id": name, "target": target, "kind": "scenario", "tool": "none",
        "status": status, "params": params, "cpu": {"user_s": 1.0, "sys_s": 0.1},
        "throughput": {"items": 100}, "memory": {"peak_rss_mb": 40.0},
        "verdict": {"shares": {"cpu": 0.9, "disk": 0.1}},
    }  # fmt: skip
    (run / "summary.json").write_text(json.dumps(summary))
    return run


def test_a_study_directory_is_grouped_by_target_and_parameters(tmp_path: Path) -> None:
    for i in range(3):
        write_run(tmp_path / "study" / "runs", f"a{i}", "output", {"fsync": "none"})
        write_run(tmp_path / "study" / "runs", f"b{i}", "output", {"fsync": "each"})
    write_run(tmp_path / "study" / "runs", "b3", "output", {"fsync": "each"}, status="failed")

    groups = {g.key[3]: g for g in gather(tmp_path / "study", "RUN")}

    assert sorted(len(g.runs) for g in groups.values()) == [3, 3]
    assert len(groups['{"fsync": "each"}'].failed) == 1
    assert all(g.root == tmp_path / "study" for g in groups.values())


def test_each_group_meets_the_baseline_group_of_the_same_target(tmp_path: Path) -> None:
    for side in ("base", "head"):
        write_run(tmp_path / side, "a", "output", {"fsync": "none"})
        write_run(tmp_path / side, "b", "output", {"fsync": "each"})
    base = gather(tmp_path / "base", "--baseline")
    for group in gather(tmp_path / "head", "RUN"):
        found, note = match(group, base)
        assert found.key == group.key and note is None


def test_a_target_the_baseline_lacks_is_named(tmp_path: Path) -> None:
    write_run(tmp_path / "base", "a", "output", {"fsync": "none"})
    write_run(tmp_path / "base", "b", "ingest_files", {})
    (head,) = gather(write_run(tmp_path / "head", "c", "pipeline", {}), "RUN")
    with pytest.raises(HarnessError, match="no baseline run of pipeline under none"):
        match(head, gather(tmp_path / "base", "--baseline"))


def test_one_baseline_target_is_used_with_a_note(tmp_path: Path) -> None:
    (base,) = gather(write_run(tmp_path / "base", "a", "job", {"argv": ["1.0"]}), "--baseline")
    (head,) = gather(write_run(tmp_path / "head", "b", "job", {"argv": ["1.2"]}), "RUN")
    found, note = match(head, [base])
    assert found is base and note.endswith("(different parameters)")
