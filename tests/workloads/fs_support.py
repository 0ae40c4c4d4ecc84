"""What tests of fresh filesystems share: an isolated state root and a check that nothing of it
is left (no mount, no loop device, no file)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from workloads import filesystems, mountinfo


def leftovers(root: Path) -> list[str]:
    """Mounts, loop devices and files under `root` that are still there."""
    found = [
        f"mount {m.mountpoint}" for m in mountinfo.mounts() if m.mountpoint.startswith(str(root))
    ]
    loops = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    found += [f"loop {line}" for line in loops.splitlines() if str(root) in line]
    if root.exists():
        found += [f"file {p}" for p in root.iterdir()]
    return found


def need(kind: str) -> None:
    problem = filesystems.unavailable(kind)
    if problem:
        pytest.skip(f"{kind} cannot be made here: {problem}")


@pytest.fixture
def fs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state root of this test's own, also for the processes it starts."""
    root = tmp_path / "fs-root"
    monkeypatch.setenv(filesystems.ROOT_ENV, str(root))
    yield root
    # Whatever a failing test left must not outlive it.
    filesystems.sweep_stale(root)
