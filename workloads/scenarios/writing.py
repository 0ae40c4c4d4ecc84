"""What the two scenarios that write output (`output`, `pipeline`) share: the output plan taken
from their parameters, and the result fields their progress fills."""

from __future__ import annotations

from workloads.pipeline.engine import OutputPlan, Progress
from workloads.scenarios.base import Run

#: Parameters handed to the output plan under the same name.
_PLAN_PARAMS = ("fsync", "encoder", "batch_size", "nested", "checkpoint_every", "resume")


def plan_from(run: Run, layout_key: str) -> OutputPlan:
    """The output plan of `run`; `layout_key` names its layout parameter (`layout` for the
    output scenario, `output_layout` for the pipeline)."""
    p = run.params
    return OutputPlan(
        out_dir=run.out_dir,
        layout=p[layout_key],
        fmt=p["format"],
        **{name: p[name] for name in _PLAN_PARAMS},
    )


def fill(run: Run, progress: Progress) -> None:
    """The result's counts and the run's progress (checkpoints, resume point, totals)."""
    r = run.result
    r.items_in, r.items_out = progress.items_in, progress.items_out
    r.items_quarantined = progress.items_quarantined
    r.extra.update(
        resumed_from=progress.start,
        committed=progress.committed,
        checkpoints=progress.checkpoints,
        complete=progress.complete,
        totals=progress.totals,
    )
