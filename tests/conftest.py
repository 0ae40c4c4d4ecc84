"""Shared fixtures: one data cache per test session, so generated items are reused."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PYTHON = sys.executable


@pytest.fixture(scope="session", autouse=True)
def data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated data sets for the whole session live here (never under the source tree)."""
    path = tmp_path_factory.mktemp("data-cache")
    previous = os.environ.get("PIPEPROF_DATA_DIR")
    os.environ["PIPEPROF_DATA_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("PIPEPROF_DATA_DIR", None)
    else:
        os.environ["PIPEPROF_DATA_DIR"] = previous
