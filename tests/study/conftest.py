"""One quick study for the whole session: the end-to-end study tests and the browser test over
the report built from its runs share it, so the suite pays for it once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.commands.study import study_command


@dataclass
class QuickStudy:
    root: Path  # the profiles root given to --out
    study_dir: Path
    elapsed_s: float
    exit_code: int
    output: str


@pytest.fixture(scope="session")
def quick_study(tmp_path_factory: pytest.TempPathFactory, data_cache: Path) -> QuickStudy:
    """`harness study --quick --out ROOT`, run once, timed."""
    root = tmp_path_factory.mktemp("profiles")
    app = typer.Typer()
    app.command()(study_command)
    started = time.monotonic()
    result = CliRunner().invoke(app, ["--quick", "--out", str(root)])
    elapsed = time.monotonic() - started
    studies = sorted(root.glob("study-*"))
    assert studies, f"no study written ({result.exception!r}); output:\n{result.output}"
    return QuickStudy(root, studies[-1], elapsed, result.exit_code, result.output)
