"""Hand-built run directories: summaries as the runner writes them, or broken on purpose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.summary import RunSummary, save
from workloads import registry


def make_run(
    root: Path,
    name: str,
    target: str = "output",
    tool: str = "none",
    status: str = "ok",
    items_per_s: float = 1_000.0,
    artifacts: dict[str, str] | None = None,
    **params: Any,
) -> Path:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    defaults = registry.SCENARIOS[target].defaults() if target in registry.SCENARIOS else {}
    summary = RunSummary(
        run_id=name,
        target=target,
        kind="scenario",
        tool=tool,
        status=status,
        params={**defaults, "out_dir": "/tmp/x", **params},
        started_at=f"2026-11-28T{name[9:11]}:{name[11:13]}:{name[13:15]}+00:00",
        wall_s=1.5,
        split={
            "on_cpu": 0.6,
            "cpu_wait": 0.05,
            "disk_wait": 0.3,
            "network_wait": 0.0,
            "lock_wait": 0.05,
            "sleep": 0.0,
            "other": 0.0,
        },
        gil={"held_fraction": 0.9 if tool == "py-spy" else None, "waiting_fraction": 0.05},
        memory={"peak_rss_mb": 42.5},
        throughput={"items_per_s": items_per_s, "items": 1000},
        stages={"ingest": {"wall_s": 0.2, "share": 0.2}, "output": {"wall_s": 0.8, "share": 0.8}},
        verdict={"bound": "disk", "confidence": "medium"},
    )
    for key, rel in (artifacts or {}).items():
        (run_dir / rel).write_text("<svg/>")
        summary.artifacts[key] = rel
    save(summary, run_dir)
    (run_dir / "manifest.json").write_text(
        json.dumps(
            {
                "target": target,
                "tool": tool,
                "created_at": summary.started_at,
                "params": summary.params,
            }
        )
    )
    return run_dir
