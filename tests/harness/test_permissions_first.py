"""Permissions first: a tool that cannot run is named before anything starts (one line, exit 2,
nothing written); with --tool all the others run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.summary import find_runs, load

# A py-spy that cannot run at all (as a broken install would).
BROKEN = "#!/bin/sh\necho 'error while loading shared libraries: libunwind.so.8' >&2\nexit 127\n"


def broken_pyspy_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "py-spy").write_text(BROKEN)
    (bin_dir / "py-spy").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def harness(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_a_tool_asked_for_that_cannot_run_stops_before_launching(tmp_path: Path) -> None:
    out = tmp_path / "p"
    done = harness("run", "output", "--set", "items=50", "--out", str(out),
                   env=broken_pyspy_env(tmp_path))  # fmt: skip

    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: py-spy: py-spy at ")
    assert "pip install --force-reinstall py-spy" in lines[0]
    assert not out.exists()


@pytest.mark.slow
def test_tool_all_runs_the_tools_that_can_run(tmp_path: Path) -> None:
    out = tmp_path / "p"
    done = harness("run", "output", "--set", "items=300", "--tool", "all", "--out", str(out),
                   env=broken_pyspy_env(tmp_path))  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert "note: py-spy skipped: py-spy at " in done.stderr
    tools = sorted(load(run).tool for run in find_runs(out))
    assert tools == ["memray", "scalene", "viztracer"]
