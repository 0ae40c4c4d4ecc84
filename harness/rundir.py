"""Run directories: created fresh for every run, never reused; and the manifest of each.

manifest.json's format history (bump MANIFEST_SCHEMA with a line here):
  1: how the run was made (target, kind, tool, params, argv, options, timeout_s, target_spec for
     `harness check --repeat`), the harness's own argv, and the machine (harness/machine.py:
     host, platform, Python, cores, memory, package versions) with the load average. Manifests
     written before `schema` have the same fields.
"""

from __future__ import annotations

import fcntl
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import machine, tools
from harness.errors import HarnessError
from harness.files import write_json_atomic
from harness.summary import MANIFEST_NAME, SUMMARY_NAME

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
#: Held (flock) by the harness while the run goes on; the kernel drops the lock when the
#: harness ends, however it ends, so a crash never leaves a run "in progress".
LOCK_NAME = ".in-progress.lock"
MANIFEST_SCHEMA = 1
#: Distributions whose versions a manifest records, besides the run's tool's own.
PACKAGES = ("pipeprof", "psutil", "orjson", "aiohttp")


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


@contextmanager
def in_progress(run_dir: Path) -> Iterator[None]:
    """Mark `run_dir` as in progress for the block (an exclusive flock on its lock file)."""
    fd = os.open(run_dir / LOCK_NAME, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with suppress(OSError):
            (run_dir / LOCK_NAME).unlink()
        os.close(fd)  # releases the lock


def is_in_progress(run_dir: Path) -> bool:
    """Whether a harness still holds `run_dir`'s lock (a run going on now)."""
    try:
        fd = os.open(run_dir / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False  # no lock file: finished, or made before runs had one
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _tool_package(name: str | None) -> list[str]:
    """The distribution of the tool the run used (its version is the one that matters)."""
    package = tools.get(name).package if name in tools.REGISTRY else None
    return [package] if package else []


def write_manifest(run_dir: Path, **fields: Any) -> dict[str, Any]:
    """Record how the run was made, so its numbers can be judged later (as pyperf does)."""
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **fields,
        "harness_argv": sys.argv,
        **machine.describe(packages=[*PACKAGES, *_tool_package(fields.get("tool"))]),
        "load_average": machine.load_average(),
    }
    write_json_atomic(run_dir / MANIFEST_NAME, manifest)
    return manifest


def sizes(run_dir: Path, artifacts: dict[str, str]) -> dict[str, Any]:
    """What the run left on disk, for the summary: each artifact's size and the total."""
    found: dict[str, int] = {}
    for name, rel in artifacts.items():
        with suppress(OSError, TypeError):
            found[name] = (run_dir / rel).stat().st_size
    total = 0
    for path in run_dir.rglob("*"):
        with suppress(OSError):
            if path.is_file() and path.name != SUMMARY_NAME:
                total += path.stat().st_size
    return {"run_dir_bytes": total, "artifacts": found}
