"""Build the report: collect every run under the root, draw the plots, render index.html."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.render.htmlrenderer import ReportHtml
from harness.render.palette import FAMILY_COLOURS
from harness.report import datasets, plots, storage_plots
from harness.report.collect import Collection, collect, href
from harness.study.questions import PLAN_INGEST_RATE
from harness.study.results import FINDINGS_NAME, STUDY_NAME, Study

INDEX_NAME = "index.html"
PLOTS_DIR = "report"


@dataclass
class Built:
    index: Path
    collection: Collection
    plots: list[plots.Plot]


def _findings(study_dir: Path, study: Study, root: Path) -> dict[str, Any]:
    base = study_dir.relative_to(root)
    answers = []
    for key in ("Q1", "Q2", "Q3", "Q4", "storage", "recommendation"):
        a = study.answers.get(key) or {}
        if not a.get("text"):
            continue
        cited = [(c["label"], href(study_dir / c["path"], root)) for c in a.get("citations", [])]
        answers.append(
            {
                "key": key,
                "question": a.get("question", ""),
                "text": a.get("text", ""),
                "cited": cited,
            }
        )
    failed = study.failed()
    return {
        "name": base.as_posix(),
        "findings_href": href(study_dir / FINDINGS_NAME, root),
        "study_href": href(study_dir / STUDY_NAME, root),
        "meta": study.meta,
        "answers": answers,
        "failed": [p.label for p in failed],
        "unsteady": sum(1 for p in study.points if p.warning),
        "points": len(study.points),
    }


def _storage_plots(study: Study | None, out_dir: Path) -> list[tuple[str, str, Any, str]]:
    """The filesystem plots of a study whose output points ran on several filesystems."""
    q4 = ((study.answers.get("Q4") or {}).get("data") or {}) if study else {}
    model = (study.answers.get("storage") or {}) if study else {}
    if not q4.get("table"):
        return []
    return [
        (
            "filesystems",
            "Output by layout, fsync and filesystem",
            storage_plots.fs_layout_plot(q4["table"], out_dir),
            "The newest study's output points on each filesystem it could make (fresh "
            "tmpfs/ext4/xfs/btrfs per group of runs, new directories on the disk).",
        ),
        (
            "storage-model",
            "Storage model: predicted vs measured",
            storage_plots.model_plot(model.get("rows") or [], 0.25, out_dir),
            f"Synced output points against the model {model.get('model', '')}: c from the "
            "unsynced point, f counted from the writers, L the probe's mean fsync latency. "
            "Colour: filesystem; marker: layout (circle individual, square nested, triangle "
            "collection, diamond batched).",
        ),
    ]


def _plots(coll: Collection, study: Study | None, out_dir: Path) -> list[plots.Plot]:
    cores = (study.meta.get("cores") if study else None) or os.cpu_count() or 1
    source = "the newest study's points" if study else "all runs, grouped by configuration"
    by_fs = _storage_plots(study, out_dir)
    made = [
        (
            "scaling",
            "Throughput vs workers",
            plots.scaling_plot(datasets.scaling_series(study, coll.rows), cores, out_dir),
            f"Median items/s with min..max bars and the fitted USL/Amdahl curve, from {source}.",
        ),
        (
            "modes",
            "Ingest modes",
            plots.mode_plot(datasets.mode_bars(study, coll.rows), PLAN_INGEST_RATE, out_dir),
            f"File ingestion throughput per mode at its best worker count, from {source}; "
            "the dashed line is the plan's sequential baseline.",
        ),
        (
            "stages",
            "Pipeline stage breakdown",
            plots.stage_plot(datasets.stage_bars(study, coll.rows), out_dir),
            "Share of each pipeline stage's wall time, timed inside the workload.",
        ),
        *(
            by_fs
            or [
                (
                    "layouts",
                    "Output layout x fsync",
                    plots.layout_plot(datasets.layout_bars(study, coll.rows), out_dir),
                    f"Output scenario throughput by layout and fsync policy, from {source}.",
                )
            ]
        ),
        (
            "split",
            "CPU / disk / network / lock / sleep",
            plots.split_plot(datasets.split_bars(coll.rows), out_dir),
            "The monitor's split of thread time, mean over the runs of each configuration.",
        ),
        (
            "causes",
            "By cause: the verdict's families",
            plots.split_plot(
                datasets.split_bars(coll.rows, field="causes"),
                out_dir,
                FAMILY_COLOURS,
                "causes",
                "Whose time it was: the verdict's families of causes (runs per bar)",
            ),
            "The same time by cause: the kernel's work inside fsync counts for disk, its work "
            "on file metadata and page-cache copies for filesystem, user-mode CPU for cpu; "
            "wake-up queueing is left out.",
        ),
    ]
    return [
        plots.Plot(name, title, f"{PLOTS_DIR}/{file}", caption)
        for name, title, file, caption in made
        if file
    ]


def build(root: Path) -> Built:
    """Write `<root>/index.html` (and its plots under `<root>/report/`) over every run there."""
    coll = collect(root)
    out_dir = root / PLOTS_DIR
    out_dir.mkdir(exist_ok=True)
    study_dir, study = coll.studies[0] if coll.studies else (None, None)
    made = _plots(coll, study, out_dir)
    states = Counter(r.state for r in coll.rows)
    context = {
        "title": "pipeprof report",
        "root": str(root.resolve()),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "rows": coll.rows,
        "states": dict(states),
        "warnings": coll.warnings,
        "plots": made,
        "study": _findings(study_dir, study, root) if study and study_dir else None,
        "other_studies": [
            (d.relative_to(root).as_posix(), href(d / FINDINGS_NAME, root))
            for d, _ in coll.studies[1:]
        ],
    }
    index = root / INDEX_NAME
    write_atomic(index, ReportHtml().render(context))
    return Built(index, coll, made)


def write_atomic(path: Path, text: str) -> None:
    """Write `text` so a reader sees the old page or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
