"""Bad input: one line naming the problem and the fix, exit 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def harness(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    "args, expected",
    [
        (["run", "no_such_scenario"], "unknown target 'no_such_scenario'"),
        (["run", "output", "--tool", "perf"], "unknown tool 'perf'"),
        (["run", "output", "--set", "colour=blue"], "has no such parameter"),
        (["run", "output", "--set", "items=many"], "items takes an int"),
        (["run", "output", "--set", "items=0"], "items must be >= 1"),
        (["run", "output", "--set", "items=-5"], "items must be >= 1"),
        (["run", "output", "--set", "fsync=sometimes"], "fsync must be one of"),
        (["run", "output", "--set", "items"], "write it as key=value"),
        (["run", "missing/script.py"], "does not exist"),
        (["run", "output", "--timeout", "-1"], "timeout"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, expected):
    out = tmp_path / "profiles"
    proc = harness(*args, "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert not out.exists() or not any(out.iterdir())


def test_unwritable_out_dir(tmp_path):
    # /proc refuses new directories even to root; a 0500 directory stops everyone else.
    target = "/proc/pipeprof-profiles" if os.geteuid() == 0 else str(tmp_path / "ro" / "p")
    if os.geteuid() != 0:
        (tmp_path / "ro").mkdir(mode=0o500)
    proc = harness("run", "output", "--set", "items=10", "--out", target)
    assert proc.returncode == 2 and "cannot create" in proc.stderr
    assert "choose a directory" in proc.stderr


def test_out_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = harness("run", "output", "--set", "items=10", "--out", str(blocker / "p"))
    assert proc.returncode == 2
    assert "--out" in proc.stderr and "choose a directory" in proc.stderr
    assert blocker.read_text() == "not a directory"


def test_show_of_a_missing_run_is_one_line(tmp_path):
    proc = harness("show", str(tmp_path / "nothing"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_list_shows_each_parameters_choices() -> None:
    done = harness("list")
    assert done.returncode == 0, done.stderr
    assert "mode (str, default 'sequential') [sequential|asyncio|threads|processes]:" in done.stdout
    assert "fsync (str, default 'none') [none|each|batch|end]:" in done.stdout
