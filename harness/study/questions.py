"""The answers to the plan's Q1-Q4, computed from a study's points, never assumed.

Each answer is one or two sentences with the figures, the run directories they come from, and
the data behind them (the report plots that). Comparisons call two points different only when
their ranges do not overlap (stats.compare), so noise is never reported as a finding.
"""

from __future__ import annotations

from typing import Any

from harness import scaling
from harness.stats import compare
from harness.study import causes, more_cores, output_answers, recommend
from harness.study.results import PointResult, Study

QUESTIONS = {
    "Q1": "Is the bottleneck in ingestion, transformation, or output?",
    "Q2": "Can multiprocessing achieve real speedup for file mode?",
    "Q3": "What's the optimal worker count for different modes?",
    "Q4": "Does output performance change with different output formats?",
}
PLAN_INGEST_RATE = 2_797.0
PLAN_HOPED_SPEEDUP = "3-5x"
STAGES = ("ingest", "transform", "output", "checkpoint")
MODES = (
    ("ingest_files", "threads", "file ingest, threads"),
    ("ingest_files", "processes", "file ingest, processes"),
    ("ingest_files", "asyncio", "file ingest, asyncio"),
    ("ingest_api", "asyncio", "API ingest, asyncio"),
)


def rate(p: PointResult) -> str:
    return f"{_median(p):,.0f} items/s"


def _median(p: PointResult) -> float:
    return p.throughput["median"] if p.throughput else 0.0


def _ratio(a: PointResult, b: PointResult) -> float:
    return _median(a) / _median(b) if _median(b) else 0.0


def _count(p: PointResult, one: str, many: str) -> str:
    n = p.params.get("workers", 1)
    return f"{n} {one if n == 1 else many}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _cite(*points: PointResult | None) -> list[dict[str, str]]:
    seen, out = set(), []
    for p in points:
        path = p and (p.median_run or next(iter(p.run_dirs()), None))
        if p and path and path not in seen:
            seen.add(path)
            out.append({"label": p.label, "path": path})
    return out


def _answer(key: str, text: str, cited: list[dict[str, str]], **data: Any) -> dict[str, Any]:
    return {"question": QUESTIONS[key], "text": text, "citations": cited, "data": data}


def _missing(key: str, what: str, *points: PointResult | None) -> dict[str, Any]:
    return _answer(key, f"Not answered: {what} (see Failed points).", _cite(*points))


def _ok(p: PointResult | None) -> PointResult | None:
    return p if p is not None and p.ok else None


def q1(study: Study) -> dict[str, Any]:
    seq = study.point("pipeline/sequential")
    if not _ok(seq) or not seq.stages:
        return _missing("Q1", "the sequential pipeline point has no stage times", seq)
    shares = {k: v["share"] for k, v in seq.stages.items() if k in STAGES}
    ranked = sorted(shares, key=shares.get, reverse=True)
    listed = ", ".join(f"{k} {_pct(shares[k])}" for k in ranked)
    top = ranked[0]
    lead = (
        "is the bottleneck" if shares[top] >= 0.5 else "is the largest stage, short of a majority"
    )
    text = (
        f"{top.capitalize()} {lead}: the sequential pipeline ({rate(seq)} end to end) spends "
        f"{listed} of its stage time (clocks inside the workload)"
    )
    profiled = study.point("pipeline/sequential/py-spy")
    samples = profiled.samples if profiled else None
    if samples and samples.get("staged"):
        s = samples["shares"]
        most = max(s, key=s.get)
        agreement = "agreeing" if most == top else f"disagreeing: most samples are in {most}"
        parts = ", ".join(f"{k} {_pct(s.get(k, 0))}" for k in ranked)
        text += (
            f", and py-spy's {samples['staged']} samples in stage code give {parts}, {agreement}."
        )
    else:
        text += "; py-spy gave no samples to cross-check."
    text += _stage_causes(study, seq)
    variants, concurrent_verdict = [], None
    for key, what in (
        ("pipeline/concurrent", "concurrent ingest"),
        ("pipeline/batched", "batched output"),
        ("pipeline/concurrent-batched", "both together"),
        ("pipeline/checkpoint", "checkpoints every 500 items"),
    ):
        p = _ok(study.point(key))
        if p:
            verdict = compare(p.spread, seq.spread)
            words = {"faster": "faster", "slower": "slower", "same": "within noise"}[verdict]
            variants.append((p, f"{what} {_ratio(p, seq):.2f}x ({words})"))
            if key == "pipeline/concurrent":
                concurrent_verdict = verdict
    if variants:
        text += " Relative to it: " + "; ".join(v for _, v in variants)
        if concurrent_verdict is not None:
            does = "speeds up" if concurrent_verdict == "faster" else "does not speed up"
            text += f", so concurrent ingestion alone {does} the pipeline"
        text += "."
    return _answer(
        "Q1",
        text,
        _cite(seq, profiled, *(p for p, _ in variants)),
        shares=shares,
        samples=samples,
    )


def _stage_causes(study: Study, seq: PointResult) -> str:
    """Where each stage's time goes, from the stage's own scenario run like the pipeline's."""
    fs = seq.params.get("fs", "disk")
    found = []
    for stage, key in (
        ("output", f"output/{fs}/individual/fsync-none"),
        ("ingest", "ingest_files/sequential"),
    ):
        p = _ok(study.point(key))
        where = causes.describe(p.causes, p.split) if p else None
        if where:
            found.append(f"{stage} ({p.label}): {where}")
    return (" By stage, in its own scenario: " + "; ".join(found) + ".") if found else ""


def _mode_points(study: Study, scenario: str, mode: str) -> list[PointResult]:
    group = "api" if scenario == "ingest_api" else "ingest"
    pts = [p for p in study.group(group) if p.params.get("mode") == mode]
    return sorted(pts, key=lambda p: p.params.get("workers", 1))


def _best(points: list[PointResult]) -> PointResult:
    return max(points, key=_median)


def q2(study: Study) -> dict[str, Any]:
    seq = _ok(study.point("ingest_files/sequential"))
    procs = _mode_points(study, "ingest_files", "processes")
    threads = _mode_points(study, "ingest_files", "threads")
    if not seq or not procs or not threads:
        return _missing("Q2", "the sequential, thread or process ingest points failed", seq)
    bp, bt = _best(procs), _best(threads)
    vs_seq, vs_thr = compare(bp.spread, seq.spread), compare(bp.spread, bt.spread)
    lead = {
        ("faster", "faster"): "Yes",
        ("faster", "same"): "Only against sequential",
        ("faster", "slower"): "Only against sequential",
    }.get((vs_seq, vs_thr), "No")
    words = {"faster": "faster", "slower": "slower", "same": "no different within noise"}
    cores = study.meta.get("cores", "?")
    text = (
        f"{lead}: on {cores} cores the best process pool "
        f"({_count(bp, 'process', 'processes')}, {rate(bp)}) runs at {_ratio(bp, seq):.2f}x "
        f"sequential ({rate(seq)}; {words[vs_seq]}) and {_ratio(bp, bt):.2f}x the best thread "
        f"pool ({_count(bt, 'thread', 'threads')}, {rate(bt)}; {words[vs_thr]}), against the "
        f"plan's hoped-for {PLAN_HOPED_SPEEDUP}."
    )
    multi = [p for p in threads if p.params.get("workers", 1) > 1]
    gil = [p for p in multi if p.verdict.get("bound") == "gil"]
    asyncs = _mode_points(study, "ingest_files", "asyncio")
    extra = []
    if multi:
        extra.append(f"{len(gil)} of {len(multi)} multi-thread points were judged GIL-bound")
    if asyncs:
        ba = _best(asyncs)
        extra.append(
            f"asyncio peaks at {_ratio(ba, seq):.2f}x sequential "
            f"({_count(ba, 'worker', 'workers')})"
        )
    orjson = _ok(study.point("ingest_files/sequential/orjson"))
    if orjson:
        extra.append(f"orjson alone gives {_ratio(orjson, seq):.2f}x")
    if extra:
        joined = "; ".join(extra)
        text += f" {joined[0].upper()}{joined[1:]}."
    cited = _cite(bp, seq, bt, _best(asyncs) if asyncs else None, orjson)
    return _answer("Q2", text, cited, speedup_vs_sequential=_ratio(bp, seq))


def sweeps(study: Study) -> dict[str, dict[str, Any]]:
    """Per mode: the sweep's (workers, median, min, max) and its scaling fit."""
    out: dict[str, dict[str, Any]] = {}
    for scenario, mode, label in MODES:
        pts = _mode_points(study, scenario, mode)
        if not any(p.params.get("workers") == 1 for p in pts):
            seq = _ok(study.point(f"{scenario}/sequential"))
            pts = ([seq] if seq else []) + pts
        if len(pts) < 2:
            continue
        rows = [
            [
                p.params.get("workers", 1),
                _median(p),
                p.throughput["minimum"],
                p.throughput["maximum"],
            ]
            for p in pts
        ]
        fitted = scaling.fit([r[0] for r in rows], [r[1] for r in rows])
        out[label] = {
            "points": rows,
            "keys": [p.key for p in pts],
            "fit": fitted.to_dict() if fitted else None,
            "best": max(pts, key=_median).key,
            "cited": _cite(max(pts, key=_median), *pts),
        }
    return out


def q3(study: Study) -> dict[str, Any]:
    found = sweeps(study)
    if not found:
        return _missing("Q3", "no worker sweep has two or more successful points")
    cores = study.meta.get("cores", "?")
    parts, rising = [], []
    for label, sweep in found.items():
        n_best, x_best = max(((r[0], r[1]) for r in sweep["points"]), key=lambda r: r[1])
        fit = sweep["fit"]
        part = f"{label} best at N={n_best} ({x_best:,.0f} items/s"
        rows = zip(sweep["points"], sweep["keys"], strict=True)
        points = {row[0]: study.point(key) for row, key in rows}
        base, best = points.get(1), points[n_best]
        if n_best != 1 and base is not None and compare(best.spread, base.spread) == "same":
            part += ", within noise of N=1"
        part += ")"
        if fit:
            star = fit["optimum"]
            where = f"N*={star:.1f}" if star is not None else "no peak (Amdahl, κ=0)"
            model = "USL" if fit["model"] == "usl" else "Amdahl"
            part += f", {model} σ={fit['sigma']:.2f} κ={fit['kappa']:.3f}: {where}"
        parts.append(part)
        if n_best == max(r[0] for r in sweep["points"]):
            rising.append(label)
    text = f"With {cores} cores: " + "; ".join(parts) + "."
    if rising:
        text += f" Still rising at the largest N tried: {', '.join(rising)}."
    else:
        text += " Every sweep peaked inside the range tried."
    text += more_cores.oversubscription_text(study)
    predicted = more_cores.predict(study)
    if predicted:
        text += " " + predicted["text"]
    cited = [c for sweep in found.values() for c in sweep["cited"][:1]]
    return _answer("Q3", text, cited, sweeps=found, cores=cores, more_cores=predicted)


def q4(study: Study) -> dict[str, Any]:
    return output_answers.q4(study, QUESTIONS["Q4"], PLAN_INGEST_RATE)


def answer_all(study: Study) -> dict[str, dict[str, Any]]:
    """Q1-Q4, then the storage model ("storage") and the recommendation ("recommendation")."""
    fs = study.meta.get("reference_fs") or "disk"
    return {
        "Q1": q1(study),
        "Q2": q2(study),
        "Q3": q3(study),
        "Q4": q4(study),
        "storage": output_answers.storage_answer(study),
        "recommendation": recommend.evaluate(study, fs) or {},
    }
