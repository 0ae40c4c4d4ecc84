"""The result of a gate for one compared target: its judgements and what was compared."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.gate.judge import Judgement


@dataclass
class Outcome:
    """The judgements of one compared group, with what was compared."""

    label: str
    base_runs: int
    head_runs: int
    judgements: list[Judgement]
    notes: list[str] = field(default_factory=list)
    failed_runs: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Judgement]:
        return [j for j in self.judgements if j.failed]

    @property
    def passed(self) -> bool:
        return not self.failed and not self.failed_runs
