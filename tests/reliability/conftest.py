"""The reliability suite's ledger: every test records what it tried and what it found, and the
session ends with a table (items lost, duplicates and orphan processes must all be 0)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

LEDGER: list[dict] = []


@dataclass
class Entry:
    scenario: str
    faults: str = "-"
    lost: int | None = None
    duplicates: int | None = None
    orphans: int | None = None

    def record(self) -> None:
        LEDGER.append(vars(self).copy())


@pytest.fixture
def ledger():
    return Entry


def pytest_terminal_summary(terminalreporter) -> None:
    if not LEDGER:
        return
    tr = terminalreporter
    tr.section("reliability: faults injected and what was lost")
    header = f"{'scenario':<52} {'faults':<34} {'lost':>5} {'dup':>5} {'orphans':>8}"
    tr.write_line(header)
    tr.write_line("-" * len(header))

    def cell(value):
        return "-" if value is None else str(value)

    for row in LEDGER:
        tr.write_line(
            f"{row['scenario']:<52} {row['faults']:<34} {cell(row['lost']):>5} "
            f"{cell(row['duplicates']):>5} {cell(row['orphans']):>8}"
        )
    bad = [r for r in LEDGER if any(r[k] for k in ("lost", "duplicates", "orphans"))]
    tr.write_line(f"{len(LEDGER)} scenarios, {len(bad)} with losses, duplicates or orphans")
