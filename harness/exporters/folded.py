"""Folded stacks as inferno, flamegraph.pl and Pyroscope's /ingest?format=folded take them: one
line per stack, frames root first joined by ';', a space, the count. The process and thread
frames lead each stack, written so no ';' or line break of a command line splits them."""

from __future__ import annotations

import json
import re
from typing import Any

from harness import flamegraph as fg

_PROCESS = re.compile(r'^process (\d+):"(.*)"$', re.DOTALL)
_THREAD = re.compile(r"^thread \((\d+)\)(?::\s*(.*))?$")
_UNSAFE = re.compile(r"[;\r\n]+")


def label(frame: str) -> str:
    """`process 4242 python job.py` and `thread 4243 MainThread`: root frames as labels."""
    if (process := _PROCESS.match(frame)) is not None:
        text = f"process {process[1]} {process[2]}".rstrip()
    elif (thread := _THREAD.match(frame)) is not None:
        text = f"thread {thread[1]} {thread[2] or ''}".rstrip()
    else:
        text = frame
    return _UNSAFE.sub(", ", text).replace("  ", " ")


def render(stacks: fg.Stacks) -> str:
    lines = []
    for stack, count in sorted(stacks.items()):
        if count > 0:
            frames = [label(f) if fg.is_root_frame(f) else _UNSAFE.sub(",", f) for f in stack]
            lines.append(f"{';'.join(frames)} {count}\n")
    return "".join(lines)


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()
