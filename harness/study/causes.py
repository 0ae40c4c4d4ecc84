"""Where a point's time went, in words: by cause when its runs' summaries carry `causes`,
else by the monitor's split (older runs).

`causes` (summary.json) holds `shares` per cause (python, device, kernel:durability, ...) and
`families` (cpu, disk, filesystem, network, ...): the study averages both over a point's runs,
and an answer quotes the largest family and what it is made of, e.g.
"disk 85%, of it waiting on the device (fsync) 99%, fsync in the kernel 1%".
"""

from __future__ import annotations

import statistics
from typing import Any

CAUSE_WORDS = {
    "python": "Python code",
    "native": "native code",
    "kernel:file_data": "file reads and writes in the kernel",
    "kernel:durability": "fsync in the kernel",
    "kernel:metadata": "file creation and metadata in the kernel",
    "kernel:network": "sockets in the kernel",
    "kernel:memory": "memory management in the kernel",
    "kernel:processes": "process management in the kernel",
    "kernel:other": "other kernel work",
    "device": "waiting on the device",
    "network": "waiting on the network",
    "gil": "waiting for the GIL",
    "lock": "waiting on locks",
    "sleep": "sleeping",
    "child": "waiting for child processes",
    "queued": "queued for a CPU",
}
FAMILY_CAUSES = {
    "disk": ("device", "kernel:durability"),
    "filesystem": ("kernel:metadata", "kernel:file_data"),
    "cpu": ("python", "native", "kernel:memory", "kernel:processes", "kernel:other"),
    "network": ("network", "kernel:network"),
    "gil": ("gil",),
    "lock": ("lock",),
    "sleep": ("sleep",),
    "other": ("child", "other", "unattributed"),
}
DEVICE_FOR = {"durability": "fsync", "file_data": "reads and writes", "metadata": "metadata"}
SPLIT_FAMILIES = {
    "on_cpu": "cpu",
    "disk_wait": "disk",
    "network_wait": "network",
    "lock_wait": "lock",
    "sleep": "sleep",
    "other": "other",
}
MIN_SHARE = 0.02


def _mean_shares(dicts: list[dict[str, float]]) -> dict[str, float]:
    keys = {k for d in dicts for k in d}
    means = {k: statistics.fmean(float(d.get(k, 0.0)) for d in dicts) for k in keys}
    return {k: round(v, 4) for k, v in sorted(means.items(), key=lambda kv: -kv[1]) if v > 0}


def mean_causes(summaries: list[Any]) -> dict[str, Any] | None:
    """Mean cause and family shares over the summaries that have `causes`; None if none do."""
    found = [c for s in summaries if isinstance(c := getattr(s, "causes", None), dict) and c]
    if not found:
        return None
    return {
        "runs": len(found),
        "shares": _mean_shares([c.get("shares") or {} for c in found]),
        "families": _mean_shares([c.get("families") or {} for c in found]),
        "device_for": sorted({k for c in found for k in c.get("device_by_family") or {}}),
    }


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _word(cause: str, causes: dict[str, Any]) -> str:
    word = CAUSE_WORDS.get(cause, cause)
    if cause == "device" and causes.get("device_for"):
        word += " (" + ", ".join(DEVICE_FOR.get(f, f) for f in causes["device_for"]) + ")"
    return word


def describe(causes: dict[str, Any] | None, split: dict[str, float] | None) -> str | None:
    """'disk 85%, of it waiting on the device (fsync) 99%', or from the monitor's split."""
    if causes and causes.get("families"):
        families = causes["families"]
        top = max(families, key=families.get)
        shares = causes.get("shares") or {}
        members = {k: shares[k] for k in FAMILY_CAUSES.get(top, ()) if shares.get(k)}
        total = sum(members.values())
        behind = [
            f"{_word(k, causes)} {_pct(v / total)}"
            for k, v in sorted(members.items(), key=lambda kv: -kv[1])[:2]
            if total and v / total >= MIN_SHARE
        ]
        text = f"{top} {_pct(families[top])} by cause"
        return text + (", of it " + ", ".join(behind) if behind else "")
    if split:
        families = {SPLIT_FAMILIES[k]: v for k, v in split.items() if k in SPLIT_FAMILIES}
        if not families or max(families.values()) <= 0:
            return None
        ranked = sorted(families.items(), key=lambda kv: -kv[1])
        parts = [f"{k} {_pct(v)}" for k, v in ranked[:2] if v >= MIN_SHARE]
        return ", ".join(parts) + " of thread time (monitor split)"
    return None
