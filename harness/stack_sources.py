"""Where a run's stacks are, for `harness export` and compare: asked of each tool in turn
(Tool.stacks), the first that recorded some in the run directory answering."""

from __future__ import annotations

from pathlib import Path

from harness import tools
from harness.errors import HarnessError
from harness.stacks import RunStacks


def load(run_dir: Path) -> RunStacks:
    """The stacks of a run; HarnessError (exit 2) when it has none."""
    if not run_dir.is_dir():
        raise HarnessError(f"{run_dir} is not a run directory: give profiles/<run>")
    recorders = tools.with_stacks()
    for tool in recorders:
        found = tool.stacks(run_dir)
        if found is not None:
            return found
    names = " or ".join(f"--tool {t.name}" for t in recorders)
    raise HarnessError(f"{run_dir.name} has no stacks: profile it with {names}")
