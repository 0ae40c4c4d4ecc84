"""The stage loop shared by the output and pipeline scenarios: ingest -> transform -> output.

Chunks pass through the stages one at a time, each stage timed around the whole chunk. Every
`checkpoint_every` items the writers commit and the position is persisted, so a run killed at
any moment resumes from the last checkpoint with every item written exactly once.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workloads.errors import WorkloadError
from workloads.pipeline.checkpoint import Checkpoint, QuarantineLog
from workloads.pipeline.output import Writer, make_writer
from workloads.pipeline.records import Record, Rejected
from workloads.pipeline.transform import transform_chunk
from workloads.result import StageClock

DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


@dataclass
class OutputPlan:
    """Where and how output is written."""

    out_dir: Path
    layout: str = "individual"
    fsync: str = "none"
    encoder: str = "json"
    batch_size: int = 100
    fmt: str = "jsonl"
    nested: bool = False
    checkpoint_every: int = 0
    resume: bool = False


@dataclass
class Progress:
    """Counts of one run; `committed` is the last position a checkpoint made durable."""

    start: int = 0
    position: int = 0
    committed: int = 0
    items_in: int = 0
    items_out: int = 0
    items_quarantined: int = 0
    checkpoints: int = 0
    complete: bool = False
    totals: dict[str, int] = field(default_factory=dict)


def prepare(plan: OutputPlan) -> tuple[Progress, dict[str, Any] | None]:
    """Check the output directory and find where to start; WorkloadError if it cannot be used."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    saved = Checkpoint(plan.out_dir).load() if plan.resume else None
    if not plan.resume and any(plan.out_dir.iterdir()):
        raise WorkloadError(
            f"output directory {plan.out_dir} is not empty: choose an empty "
            "one, or pass --resume to continue a checkpointed run there"
        )
    if plan.resume and saved is None:
        raise WorkloadError(
            f"--resume: no checkpoint in {plan.out_dir}; run without --resume "
            "(and with --checkpoint-every K) first"
        )
    position = saved["position"] if saved else 0
    return Progress(start=position, position=position, committed=position), saved


def run_stages(
    chunks: Iterator[list[Record]],
    plan: OutputPlan,
    clock: StageClock,
    progress: Progress,
    saved: dict[str, Any] | None,
    transform: bool = True,
) -> Progress:
    """Drive chunks through transform and output, checkpointing as planned."""
    if saved and saved.get("complete"):
        progress.complete = True
        return progress
    checkpoint = Checkpoint(plan.out_dir) if plan.checkpoint_every else None
    writer = make_writer(
        plan.layout,
        plan.out_dir,
        nested=plan.nested,
        fsync=plan.fsync,
        encoder=plan.encoder,
        batch_size=plan.batch_size,
        fmt=plan.fmt,
        start=progress.position,
        state=saved["writer"] if saved else None,
    )
    quarantine = QuarantineLog(
        plan.out_dir, saved["quarantine"] if saved else None, durable=plan.fsync != "none"
    )
    totals = dict(saved.get("totals", {})) if saved else {}
    try:
        for chunk in clock.timed("ingest", chunks):
            with clock.stage("transform"):
                if transform:
                    good, bad = transform_chunk(chunk)
                else:
                    good = [r for r in chunk if not isinstance(r, Rejected)]
                    bad = [r for r in chunk if isinstance(r, Rejected)]
            with clock.stage("output"):
                writer.write(good)
                quarantine.write(bad)
            progress.items_in += len(chunk)
            progress.items_out += len(good)
            progress.items_quarantined += len(bad)
            progress.position += len(chunk)
            if checkpoint and progress.position - progress.committed >= plan.checkpoint_every:
                with clock.stage("checkpoint"):
                    _commit(checkpoint, writer, quarantine, progress, totals)
        with clock.stage("output"):
            writer.close()
            quarantine.close()
        if checkpoint:
            with clock.stage("checkpoint"):
                checkpoint.save(
                    progress.position, {"complete": True, "totals": _totals(totals, progress)}
                )
                progress.committed = progress.position
        progress.complete = True
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise WorkloadError(
                f"output: {exc.strerror} while writing to {plan.out_dir}; "
                f"{progress.committed} items are committed (last checkpoint). Free space, then "
                "run again with --resume" + ("" if checkpoint else " (needs --checkpoint-every)")
            ) from None
        raise
    progress.totals = _totals(totals, progress)
    return progress


def _totals(before: dict[str, int], progress: Progress) -> dict[str, int]:
    return {
        "items_out": before.get("items_out", 0) + progress.items_out,
        "items_quarantined": before.get("items_quarantined", 0) + progress.items_quarantined,
    }


def _commit(
    checkpoint: Checkpoint,
    writer: Writer,
    quarantine: QuarantineLog,
    progress: Progress,
    totals: dict[str, int],
) -> None:
    state = {
        "writer": writer.commit(),
        "quarantine": quarantine.commit(),
        "totals": _totals(totals, progress),
    }
    checkpoint.save(progress.position, state)
    progress.committed = progress.position
    progress.checkpoints += 1
