"""Which mount holds a path, with its type, options and backing device (/proc/self/mountinfo).

A run's figures depend on the filesystem it wrote to as much as on its code, so every run
records this next to its throughput: type (ext4, xfs, tmpfs...), the options it was mounted
with, the device, and for a loop device the file behind it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True)
class Mount:
    """One line of mountinfo."""

    mountpoint: str
    fstype: str
    source: str
    options: str  # per-mount options, then the filesystem's own (super) options


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_line(line: str) -> Mount | None:
    fields = line.split()
    try:
        sep = fields.index("-")
    except ValueError:
        return None
    if sep < 6 or len(fields) < sep + 3:
        return None
    mount_opts, fstype, source = fields[5], fields[sep + 1], _unescape(fields[sep + 2])
    super_opts = fields[sep + 3] if len(fields) > sep + 3 else ""
    seen: list[str] = []
    for opt in (mount_opts + "," + super_opts).split(","):
        if opt and opt not in seen:
            seen.append(opt)
    return Mount(_unescape(fields[4]), fstype, source, ",".join(seen))


def mounts() -> list[Mount]:
    """Every mount this process sees, in mount order."""
    try:
        text = MOUNTINFO.read_text()
    except OSError:
        return []
    return [m for m in map(parse_line, text.splitlines()) if m is not None]


def is_mountpoint(path: Path) -> bool:
    target = os.path.realpath(path)
    return any(m.mountpoint == target for m in mounts())


def mount_of(path: Path) -> Mount | None:
    """The mount holding `path` (the last mounted on its longest matching prefix)."""
    target = os.path.realpath(path)
    best: Mount | None = None
    for m in mounts():
        inside = target.startswith(m.mountpoint.rstrip("/") + "/") or target == m.mountpoint
        if inside and (best is None or len(m.mountpoint) >= len(best.mountpoint)):
            best = m
    return best


def backing_file(device: str) -> str | None:
    """The file behind a loop device (/dev/loopN), None for anything else."""
    name = Path(device).name
    if not name.startswith("loop"):
        return None
    try:
        return Path(f"/sys/block/{name}/loop/backing_file").read_text().strip() or None
    except OSError:
        return None


def describe(path: Path) -> dict[str, Any]:
    """What a run's summary records of the filesystem holding `path`."""
    m = mount_of(path)
    if m is None:
        return {"path": str(path), "type": "unknown"}
    info: dict[str, Any] = {
        "path": str(path),
        "type": m.fstype,
        "options": m.options,
        "source": m.source,
        "mountpoint": m.mountpoint,
    }
    backing = backing_file(m.source)
    if backing:
        info["backing_file"] = backing
    return info
