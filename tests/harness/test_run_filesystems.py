"""`harness run output --set fs=...`: the harness makes the filesystem outside the monitored
tree, records it in the summary, and removes it; one it cannot make is one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from harness.summary import load
from tests.workloads.fs_support import fs_root, leftovers, need

__all__ = ["fs_root"]


def harness(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )


def test_a_fresh_filesystem_is_made_outside_the_run_recorded_and_removed(tmp_path, fs_root):
    need("btrfs")
    out = tmp_path / "profiles"
    proc = harness(
        "run", "output", "--tool", "none", "--set", "fs=btrfs", "--set", "items=300",
        "--set", "fsync=each", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    run_dir = next(out.iterdir())
    summary = load(run_dir)
    fs = summary.filesystem
    assert fs["kind"] == "btrfs" and fs["type"] == "btrfs" and fs["fresh"] is True
    assert fs["source"].startswith("/dev/loop") and fs["backing_file"].startswith(str(fs_root))
    assert fs["options"] and "mkfs.btrfs" in fs["made_with"]
    # The scenario saw the same mount, and mkfs never ran inside the monitored tree.
    result = json.loads((run_dir / "result.json").read_text())
    assert result["filesystem"]["mountpoint"] == fs["mountpoint"]
    assert result["items_out"] == 300
    seen = [p["name"] for p in summary.monitor["per_process"]]
    assert not any(name.startswith("mkfs") for name in seen), seen
    assert leftovers(fs_root) == []


def test_the_default_disk_is_recorded_too(tmp_path):
    out = tmp_path / "profiles"
    proc = harness("run", "output", "--tool", "none", "--set", "items=100", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    fs = load(next(out.iterdir())).filesystem
    assert fs["kind"] == "disk" and fs["fresh"] is False and fs["type"] and fs["source"]


def test_a_filesystem_that_cannot_be_made_is_one_line_exit_2_and_no_run(tmp_path):
    out = tmp_path / "profiles"
    env = dict(os.environ, PATH=str(tmp_path))  # no mkfs.* on the PATH
    proc = harness("run", "output", "--set", "fs=xfs", "--out", str(out), env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --set fs=xfs: "), proc.stderr
    assert not out.exists() or not any(out.iterdir())
