"""Where a point's time went, in words: by cause when its runs' summaries carry `causes`,
else by the monitor's split (older runs).

`causes` (summary.json) holds `shares` per cause (python, device, kernel:durability, ...) and
`families` (cpu, disk, filesystem, network, ...): the study averages both over a point's runs,
and an answer quotes the largest family with the largest causes behind it, e.g.
"disk 94% (device 80%, fsync in the kernel 14%)".
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
    found = [c for s in summaries if isinstance(c := getattr(s, "causes", None), dict)]
    if not found:
        return None
    return {
        "runs": len(found),
        "shares": _mean_shares([c.get("shares") or {} for c in found]),
        "families": _mean_shares([c.get("families") or {} for c in found]),
    }


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def describe(causes: dict[str, Any] | None, split: dict[str, float] | None) -> str | None:
    """'disk 94% (waiting on the device 80%, fsync in the kernel 14%)', or from the split."""
    if causes and causes.get("families"):
        families = causes["families"]
        top = max(families, key=families.get)
        shares = causes.get("shares") or {}
        behind = [
            f"{CAUSE_WORDS.get(k, k)} {_pct(v)}"
            for k, v in sorted(shares.items(), key=lambda kv: -kv[1])[:2]
            if v >= MIN_SHARE
        ]
        text = f"{top} {_pct(families[top])}"
        return text + (f" ({', '.join(behind)})" if behind else "") + " by cause"
    if split:
        families = {SPLIT_FAMILIES[k]: v for k, v in split.items() if k in SPLIT_FAMILIES}
        if not families or max(families.values()) <= 0:
            return None
        ranked = sorted(families.items(), key=lambda kv: -kv[1])
        parts = [f"{k} {_pct(v)}" for k, v in ranked[:2] if v >= MIN_SHARE]
        return ", ".join(parts) + " of thread time (monitor split)"
    return None
