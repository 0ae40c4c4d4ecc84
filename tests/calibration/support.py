"""A calibration case's run through the harness, as the tests read it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import tools
from harness.calibrate import FREE_CORES_SLACK, CaseRun, run_case
from harness.summary import RunSummary, load
from workloads.calibration.cases import CASES


@dataclass
class CalibrationRun:
    """One case's run: the summary, the calibration's judgement, the case's own result line."""

    summary: RunSummary
    judged: CaseRun
    result: dict

    @property
    def cpu_share(self) -> float:
        return self.summary.verdict["shares"]["cpu"]

    def explain(self) -> str:
        """What to print when an assertion fails: the figures the verdict was made from."""
        v = self.summary.verdict
        return f"{v['bound']} ({v['confidence']}); split {self.summary.split}; " + " ".join(
            v["evidence"]
        )

    def skip_if_mostly_queued(self) -> None:
        """Skip when most of the run was spent queued for a CPU after wake-ups: then the
        neighbours' load, not the program, set what is left to judge (a 1.5 s fsync loop kept
        0.2 s of its own time with both cores loaded by other programs)."""
        if any(
            "queued for a CPU after waking" in line and int(line.split("%")[0]) >= 50
            for line in self.summary.verdict["evidence"]
        ):
            pytest.skip("over half the run was queued for a CPU behind other programs")

    def skip_unless_cores_free(self) -> None:
        others = self.judged.others_cores
        if others is None:
            pytest.skip("the load of other programs during the run is unknown")
        if others > FREE_CORES_SLACK:
            pytest.skip(
                f"other programs used {others:.2f} cores during the run (more than "
                f"{FREE_CORES_SLACK}): cores used says nothing about the harness then"
            )


RunCase = Callable[..., CalibrationRun]


def run_through_harness(name: str, root: Path, seconds: float | None = None) -> CalibrationRun:
    """`harness run <case script> --tool none`, judged as `harness calibrate` judges it."""
    judged = run_case(CASES[name], tools.get("none"), root, seconds)
    run_dir = Path(judged.run_dir)
    lines = (run_dir / "stdout.txt").read_text().strip().splitlines()
    return CalibrationRun(load(run_dir), judged, json.loads(lines[-1]))
