"""One quick study for the whole session: the end-to-end study tests and the browser test over
the report built from its runs share it, so the suite pays for it once."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.commands.study import study_command
from workloads import filesystems


@dataclass
class QuickStudy:
    root: Path  # the profiles root given to --out
    study_dir: Path
    elapsed_s: float
    exit_code: int
    output: str
    fs_root: Path  # where its fresh filesystems were made (all gone afterwards)


@pytest.fixture(scope="session")
def quick_study(tmp_path_factory: pytest.TempPathFactory, data_cache: Path) -> QuickStudy:
    """`harness study --quick --out ROOT`, run once, timed; its filesystems under FS_ROOT."""
    root = tmp_path_factory.mktemp("profiles")
    fs_root = tmp_path_factory.mktemp("filesystems")
    app = typer.Typer()
    app.command()(study_command)
    previous = os.environ.get(filesystems.ROOT_ENV)
    os.environ[filesystems.ROOT_ENV] = str(fs_root)
    started = time.monotonic()
    try:
        result = CliRunner().invoke(app, ["--quick", "--out", str(root)])
    finally:
        elapsed = time.monotonic() - started
        if previous is None:
            os.environ.pop(filesystems.ROOT_ENV, None)
        else:
            os.environ[filesystems.ROOT_ENV] = previous
    studies = sorted(root.glob("study-*"))
    assert studies, f"no study written ({result.exception!r}); output:\n{result.output}"
    return QuickStudy(root, studies[-1], elapsed, result.exit_code, result.output, fs_root)
