"""Run each calibration case through the harness (tool none) once per session, for several tests.

The machine is shared: each run also records how many cores other programs used meanwhile, so a
test of cores used can tell "the harness is wrong" from "the neighbours took the cores".
"""

from __future__ import annotations

import pytest

from tests.calibration.support import CalibrationRun, RunCase, run_through_harness


@pytest.fixture(scope="session")
def run_case_once(tmp_path_factory: pytest.TempPathFactory) -> RunCase:
    """`run(name, seconds=None)`: the case's run through `harness run --tool none`, cached."""
    done: dict[tuple[str, float | None], CalibrationRun] = {}
    root = tmp_path_factory.mktemp("calibration-runs")

    def run(name: str, seconds: float | None = None) -> CalibrationRun:
        if (name, seconds) not in done:
            done[(name, seconds)] = run_through_harness(name, root, seconds)
        return done[(name, seconds)]

    return run
