"""The machine a result was made on, collected in one place for every file that records it (a
run's manifest, a study, a calibration, the bench's results), as pyperf collects its metadata:
figures taken on different machines, Pythons or package versions are then told apart."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterable
from importlib import metadata
from typing import Any

import psutil


def describe(packages: Iterable[str] = ()) -> dict[str, Any]:
    """Host, platform, Python, cores and memory; with the versions of `packages` (distribution
    names, None for one not installed) when any are named."""
    found: dict[str, Any] = {
        "host": platform.node(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "cpu_count": os.cpu_count(),
        "memory_total_mb": round(psutil.virtual_memory().total / 2**20),
    }
    names = list(packages)
    if names:
        found["packages"] = versions(names)
    return found


def versions(packages: Iterable[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages now, rounded as every file records them."""
    return [round(x, 2) for x in os.getloadavg()]
