"""Which runs a gate compares: a run, or every run under a directory (a study's, say), grouped
into repeats of one target, each group matched with the baseline's repeats of the same one."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.gate.figures import RunFigures, read
from harness.summary import SUMMARY_NAME, find_runs


@dataclass
class Group:
    """Repeats of one target under one tool with the same parameters."""

    key: tuple[str, ...]
    label: str
    root: Path  # where more repeats go
    runs: list[RunFigures] = field(default_factory=list)  # finished ok
    failed: list[RunFigures] = field(default_factory=list)  # failed, timed out, interrupted

    @property
    def newest(self) -> RunFigures:
        return max([*self.runs, *self.failed], key=lambda r: r.run_dir.name)


def gather(path: Path, what: str) -> list[Group]:
    """The groups of runs at `path`: one run directory, or a directory holding runs."""
    if (path / SUMMARY_NAME).is_file():
        run_dirs, root = [path], path.parent
    elif path.is_dir():
        run_dirs, root = [d for d in find_runs(path) if (d / SUMMARY_NAME).is_file()], path
    else:
        raise HarnessError(f"{what} {path} does not exist: give a run directory or one of runs")
    if not run_dirs:
        raise HarnessError(f"{what} {path} holds no runs: give a run directory or one of runs")
    groups: dict[tuple[str, ...], Group] = {}
    for run_dir in run_dirs:
        try:
            run = read(run_dir)
        except ValueError as exc:
            raise HarnessError(f"{what}: {exc}") from None
        group = groups.setdefault(run.key, Group(run.key, run.label, root))
        (group.runs if run.status in ("ok", "attached") else group.failed).append(run)
    return list(groups.values())


def match(head: Group, baselines: list[Group]) -> tuple[Group, str | None]:
    """The baseline group of `head`: same target, tool and parameters; else, when the
    baseline holds one group only, that one (with a note saying what differs)."""
    for group in baselines:
        if group.key == head.key:
            return group, None
    if len(baselines) == 1:
        only = baselines[0]
        return (
            only,
            f"compared with {only.label}, the baseline's only target ({_differs(head, only)})",
        )
    by_label = defaultdict(list)
    for group in baselines:
        by_label[group.label].append(group)
    raise HarnessError(
        f"no baseline run of {head.label} with the same parameters: the baseline holds "
        f"{', '.join(sorted(by_label))}"
    )


def _differs(head: Group, base: Group) -> str:
    names = ("target", "kind", "tool", "parameters")
    different = [n for n, a, b in zip(names, head.key, base.key, strict=True) if a != b]
    return "different " + ", ".join(different)
