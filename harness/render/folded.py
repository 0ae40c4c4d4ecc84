"""Stacks as folded text, the format inferno, flamegraph.pl and Pyroscope's
/ingest?format=folded take: one line per stack, frames root first joined by ';', a space, the
count. The process and thread frames lead each stack as plain labels (`process 4242 python
job.py`, `thread 4243 MainThread`), written so no ';' or line break of a command line splits
them. (harness/stacks.py's to_folded writes the recorder's own frames back, for re-reading.)"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness import stacks as st
from harness.render.base import Renderer

_PROCESS = re.compile(r'^process (\d+):"(.*)"$', re.DOTALL)
_THREAD = re.compile(r"^thread \((\d+)\)(?::\s*(.*))?$")
_UNSAFE = re.compile(r"[;\r\n]+")


def label(frame: str) -> str:
    """A process or thread root frame as a label: `process 4242 python job.py`."""
    if (process := _PROCESS.match(frame)) is not None:
        text = f"process {process[1]} {process[2]}".rstrip()
    elif (thread := _THREAD.match(frame)) is not None:
        text = f"thread {thread[1]} {thread[2] or ''}".rstrip()
    else:
        text = frame
    return _UNSAFE.sub(", ", text).replace("  ", " ")


@dataclass
class Folded(Renderer[st.Stacks], subject="stacks", format="folded", extension="folded"):
    """Folded stacks with process and thread labels, sorted, so output is stable."""

    def render(self, data: st.Stacks) -> str:
        lines = []
        for stack, count in sorted(data.items()):
            if count > 0:
                frames = [label(f) if st.is_root_frame(f) else _UNSAFE.sub(",", f) for f in stack]
                lines.append(f"{';'.join(frames)} {count}\n")
        return "".join(lines)
