"""The run summary: one JSON file per run, the contract `show`, `compare` and `report` read.

Format history (bump SCHEMA and keep loading older versions):
  1: first version.
  2: `causes` (seconds and shares of working-thread time by cause: python, native,
     kernel:<family>, device, network, gil, lock, sleep, child, queued, other, unattributed;
     `families`, the verdict's shares by bound, of which `filesystem` is new) and `callsites`
     (the profiler's call sites with their wall time split by cause). A schema-1 summary has
     neither; readers fall back to `split` and `verdict.shares`.
  3: `command` (what ran, or the command line of an attached process) and `python_processes`
     (the Python processes seen: pid, cmdline, which recording covered each); kinds `module`,
     `command` and `attach`, status `attached`. `filesystem` (where a scenario's output went:
     kind, type, options, source, backing file) is additive: None in summaries without it.
     Added since, without a bump (older readers ignore them): `leftovers` (processes of the
     run that outlived it) and `disk` (the sizes of the artifacts and the run directory).
The figures' sections (cpu, split, gil, memory, io, throughput) are typed in
harness/sections.py; their JSON is the same in every version.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from harness import readback
from harness.files import read_json_object, write_json_atomic
from harness.sections import SPLIT_KEYS as SPLIT_KEYS  # re-exported: defined there
from harness.sections import Cpu, Gil, Io, Memory, Section, Split, Throughput

SCHEMA = 3
SUMMARY_NAME = "summary.json"
MANIFEST_NAME = "manifest.json"
STATUSES = ("ok", "failed", "timeout", "interrupted", "running", "attached")


@dataclass
class RunSummary:
    """Everything a run measured, with where each figure came from."""

    run_id: str
    target: str
    kind: str  # "scenario", "script", "module", "command" or "attach"
    tool: str
    status: str = "running"
    schema: int = SCHEMA
    exit_code: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""
    #: What ran (or was attached to), as the user gave it.
    command: list[str] = field(default_factory=list)
    #: The Python processes seen in the tree (pid, cmdline; the first few), for tool notes.
    python_processes: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    cpu: Cpu = field(default_factory=Cpu)
    split: Split = field(default_factory=Split)
    gil: Gil = field(default_factory=Gil)
    memory: Memory = field(default_factory=Memory)
    io: Io = field(default_factory=Io)
    throughput: Throughput = field(default_factory=Throughput)
    stages: dict[str, Any] = field(default_factory=dict)
    verdict: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    tool_view: dict[str, Any] = field(default_factory=dict)
    monitor: dict[str, Any] = field(default_factory=dict)
    causes: dict[str, Any] = field(default_factory=dict)
    callsites: list[dict[str, Any]] = field(default_factory=list)
    tool_overhead: dict[str, Any] | None = None
    filesystem: dict[str, Any] | None = None  # where output went: type, options, device
    problems: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    #: Processes of the run still running when it ended by itself: pid, cmdline, running_s,
    #: ended_by (SIGINT, SIGKILL, kept, exited). Absent from summaries written before it.
    leftovers: list[dict[str, Any]] = field(default_factory=list)
    #: Sizes on disk when the run ended: {"run_dir_bytes": n, "artifacts": {name: bytes}}
    #: (run_dir_bytes: every file of the run directory but this summary).
    disk: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """A section given as its JSON object (or None) is read into its type."""
        for name, typed in SECTIONS.items():
            setattr(self, name, typed.of(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: value.to_dict() if isinstance(value, Section) else copy.deepcopy(value)
            for f in fields(self)
            for value in [getattr(self, f.name)]
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        schema = data.get("schema")
        if not isinstance(schema, int) or schema > SCHEMA:
            raise ValueError(
                f"summary schema {schema!r} is not one this version reads "
                f"(1..{SCHEMA}); upgrade pipeprof"
            )
        missing = {"run_id", "target", "kind", "tool"} - data.keys()
        if missing:
            raise ValueError(f"summary lacks {', '.join(sorted(missing))}")
        readback.check_summary(data)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


#: The sections read into their types (harness/sections.py).
SECTIONS: dict[str, type[Section]] = {
    "cpu": Cpu,
    "split": Split,
    "gil": Gil,
    "memory": Memory,
    "io": Io,
    "throughput": Throughput,
}


def save(summary: RunSummary, run_dir: Path) -> Path:
    path = run_dir / SUMMARY_NAME
    write_json_atomic(path, summary.to_dict())
    return path


def load(run_dir: Path) -> RunSummary:
    """The summary of `run_dir` (or of a summary.json path); ValueError if unreadable."""
    path = run_dir if run_dir.is_file() else run_dir / SUMMARY_NAME
    try:
        found = path.is_file()
    except OSError:  # a name too long, say: no such summary either way
        found = False
    if not found:
        raise ValueError(f"{path} does not exist: is {run_dir} a run directory?")
    data = read_json_object(path)
    try:
        return RunSummary.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def find_runs(root: Path) -> list[Path]:
    """Run directories under `root` (those holding a summary or a manifest), oldest first."""
    if not root.is_dir():
        return []
    runs = {p.parent for p in root.glob(f"**/{SUMMARY_NAME}")}
    runs |= {p.parent for p in root.glob(f"**/{MANIFEST_NAME}")}
    return sorted(runs, key=lambda p: (p.name, str(p)))
