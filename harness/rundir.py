"""Run directories: created fresh for every run, never reused; and the manifest of each."""

from __future__ import annotations

import os
import platform
import re
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from harness.errors import HarnessError
from harness.files import write_json_atomic
from harness.summary import MANIFEST_NAME

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
PACKAGES = ("pipeprof", "py-spy", "scalene", "memray", "viztracer", "psutil", "orjson", "aiohttp")


def check_writable(root: Path) -> Path:
    """The profiles root, created if needed; HarnessError (exit 2) if it cannot be written."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HarnessError(
            f"--out {root}: cannot create it ({exc.strerror}); choose a directory you can write to"
        ) from None
    if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
        raise HarnessError(
            f"--out {root}: not a writable directory; choose a directory you can write to"
        )
    return root


def create(root: Path, target: str, tool: str, now: datetime | None = None) -> Path:
    """A new, empty run directory `<root>/<UTC time>-<target>-<tool>[-N]/`."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = f"{stamp}-{_UNSAFE.sub('_', target)}-{_UNSAFE.sub('_', tool)}"
    for n in range(1, 10_000):
        path = root / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir()  # atomic: two harnesses racing get different directories
            return path
        except FileExistsError:
            continue
    raise HarnessError(f"--out {root}: too many runs named {base}; choose another --out")


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def write_manifest(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Record how the run was made, so its numbers can be judged later (as pyperf does)."""
    memory = psutil.virtual_memory()
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **fields,
        "harness_argv": sys.argv,
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "packages": versions(),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "memory_total_mb": round(memory.total / 2**20),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    write_json_atomic(run_dir / MANIFEST_NAME, manifest)
    return manifest
