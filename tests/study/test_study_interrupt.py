"""A study stopped with Ctrl-C or SIGTERM while its fresh filesystems are mounted leaves no
mount, no loop device and no backing file, and still writes what it measured."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.workloads.fs_support import fs_root, leftovers, need

__all__ = ["fs_root"]
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_study_unmakes_its_filesystems(tmp_path, fs_root, signum):
    need("ext4")
    out = tmp_path / "profiles"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "study", "--quick", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, as a terminal's foreground job would be
    )
    try:
        deadline = time.monotonic() + 240
        while not any(s.startswith("loop") for s in leftovers(fs_root)):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "no loop filesystem was made"
            time.sleep(0.2)
        os.killpg(proc.pid, signum)
        proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, proc.stderr.read()
    assert leftovers(fs_root) == []
    study_dir = next(out.glob("study-*"))
    assert json.loads((study_dir / "study.json").read_text())["meta"]["interrupted"] is True
    assert (study_dir / "findings.md").is_file()
