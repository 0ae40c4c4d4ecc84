"""Where a profiler's samples fall, by pipeline stage: the cross-check of the stage clocks.

A sample belongs to the stage of the innermost frame in one of the stage's modules, so a
json.dumps called from the output writer counts as output and a read in a worker process counts
as ingest. Samples whose innermost frame is a known blocking wait (idle pool workers, say) are
left out; samples in no stage module, or importing one (start-up, imports, generating data
before the clock starts), are counted apart as `outside`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import stacks as st

STAGE_FILES: dict[str, tuple[str, ...]] = {
    "ingest": (
        "workloads/pipeline/ingest_files.py",
        "workloads/pipeline/ingest_api.py",
        "workloads/api_source.py",
        "workloads/pipeline/records.py",
    ),
    "transform": ("workloads/pipeline/transform.py",),
    "output": ("workloads/pipeline/output.py",),
    "checkpoint": ("workloads/pipeline/checkpoint.py",),
}
_IMPORTING = "<frozen importlib._bootstrap"


def stage_of(frame: str) -> str | None:
    name, file, _ = st.split_frame(frame)
    if not file or name == "<module>":
        return None
    path = file.replace("\\", "/")
    for stage, files in STAGE_FILES.items():
        if any(path.endswith(f) for f in files):
            return stage
    return None


def attribute(stacks: st.Stacks) -> dict[str, Any]:
    """Samples per stage, plus waiting and outside counts and stage shares of staged samples."""
    counts: dict[str, int] = dict.fromkeys(STAGE_FILES, 0)
    waiting = outside = 0
    for stack, count in st.strip_roots(stacks).items():
        if st.is_waiting_stack(stack):
            waiting += count
            continue
        stage = None
        if not any(_IMPORTING in f for f in stack):
            stage = next((s for f in reversed(stack) if (s := stage_of(f)) is not None), None)
        if stage is None:
            outside += count
        else:
            counts[stage] += count
    staged = sum(counts.values())
    return {
        "samples": counts,
        "staged": staged,
        "waiting": waiting,
        "outside": outside,
        "shares": {k: round(v / staged, 4) for k, v in counts.items() if v} if staged else {},
    }


def attribute_run(run_dir: Path, folded_name: str = "pyspy.folded") -> dict[str, Any] | None:
    """Stage attribution of a py-spy run directory; None when it has no readable samples."""
    try:
        text = (run_dir / folded_name).read_text(errors="replace")
    except OSError:
        return None
    stacks = st.parse_folded(text)
    if not stacks:
        return None
    return attribute(stacks)
