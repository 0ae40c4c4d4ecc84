"""Standard formats of a run's stacks, for tools outside pipeprof: folded stacks (inferno,
flamegraph.pl, Pyroscope's /ingest), speedscope, and a Chrome trace (Perfetto)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.exporters import chrome_trace, folded
from harness.exporters.sources import RunStacks, load
from harness.flamegraph import to_speedscope

FORMATS: dict[str, Callable[[RunStacks], bytes]] = {
    "folded": lambda run: folded.render(run.stacks).encode(),
    "speedscope": lambda run: folded.json_bytes(to_speedscope(run.stacks, run.name)),
    "chrome-trace": chrome_trace.render,
}


def export(run_dir: Path, fmt: str) -> bytes:
    """The stacks of `run_dir` in format `fmt` (a key of FORMATS)."""
    return FORMATS[fmt](load(run_dir))
