"""The configuration the study recommends, its predicted throughput, and the check of both.

Chosen from the measured points before the pipeline runs: the fastest file ingestion (the
simplest one when others are within noise of it); the fastest output on the reference
filesystem among those whose crash cost the checkpoint bounds (fsync per item, per batch, or
once at the end, which with checkpoints means at every checkpoint: `commit` syncs the output
before the checkpoint records its position; `none` never syncs, so it is not a candidate);
checkpoints every ten batches; and for the API the fewest requests in flight within noise of
the best. The prediction adds the measured per-item cost of each stage, because the pipeline
engine runs them one after another on each chunk (no stage overlaps another):

    1 / items/s = 1/X_ingest + t_transform + 1/X_output + 2 x L / K

X_ingest and X_output are the chosen ingest and output points, t_transform the transform time
per item of the sequential pipeline, L the reference filesystem's fsync latency and K the
checkpoint interval (a checkpoint syncs its file and directory). The pipeline then runs that
exact configuration beside the sequential one, and the study sets measured against predicted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.stats import compare
from harness.study import storage
from harness.study.matrix import RECOMMENDED_KEY
from harness.study.results import PointResult, Study

KEY = RECOMMENDED_KEY
CHECKPOINT_BATCHES = 10
TOLERANCE = 0.20
DURABLE = ("each", "batch", "end")  # with checkpoints, a crash costs at most K items of work
SERIAL_MODEL = "1 / items/s = 1/X_ingest + t_transform + 1/X_output + 2 x L / K"


@dataclass
class Choice:
    """The recommended pipeline parameters and the points they were chosen from."""

    params: dict[str, Any]
    label: str
    ingest_key: str
    output_key: str
    api_key: str | None = None
    why: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _median(p: PointResult | None) -> float:
    return p.throughput["median"] if p is not None and p.throughput else 0.0


def _simplest_within_noise(points: list[PointResult]) -> PointResult:
    best = max(points, key=_median)
    same = [p for p in points if p is best or compare(p.spread, best.spread) == "same"]
    return min(
        same,
        key=lambda p: (
            p.params.get("mode", "sequential") != "sequential",
            _workers(p),
            -_median(p),
        ),
    )


def _workers(p: PointResult) -> int:
    return int(p.params.get("workers", 1)) if p.params.get("mode") != "sequential" else 1


def choose(study: Study, fs: str) -> Choice | None:
    """What to recommend from the output, ingest and API points measured so far."""
    ingest = study.group("ingest") + study.group("parser")
    outputs = [
        p
        for p in study.group("layout")
        if p.params.get("fs", "disk") == fs and p.params.get("fsync") in DURABLE
    ]
    if not ingest or not outputs:
        return None
    chosen_in = _simplest_within_noise(ingest)
    chosen_out = max(outputs, key=_median)
    mode = chosen_in.params.get("mode", "sequential")
    batch = int(chosen_out.params.get("batch_size", 100))
    params: dict[str, Any] = {"ingest_mode": mode, "parser": chosen_in.params.get("parser", "json")}
    if mode != "sequential":
        params["workers"] = _workers(chosen_in)
    params.update(
        output_layout=chosen_out.params.get("layout", "individual"),
        fsync=chosen_out.params["fsync"],
        batch_size=batch,
        checkpoint_every=CHECKPOINT_BATCHES * batch,
    )
    if chosen_out.params.get("nested"):
        params["nested"] = True
    label = (
        f"recommended: {chosen_in.label} ingest, {chosen_out.label.rsplit(', ', 1)[0]} output, "
        f"checkpoint every {params['checkpoint_every']}"
    )
    api = study.group("api")
    chosen_api = _simplest_within_noise(api) if api else None
    why = [
        f"ingest: {chosen_in.label} is the fastest ingestion or within noise of it "
        f"({_median(chosen_in):,.0f} items/s)",
        f"output: {chosen_out.label} is the fastest output on {fs} that syncs what it wrote "
        f"at least at every checkpoint ({_median(chosen_out):,.0f} items/s)",
    ]
    return Choice(
        params,
        label,
        chosen_in.key,
        chosen_out.key,
        chosen_api.key if chosen_api else None,
        why,
    )


def transform_s(seq: PointResult | None) -> float | None:
    """Transform seconds per item in the sequential pipeline (median of its stage clock)."""
    if seq is None or not seq.ok or "transform" not in seq.stages:
        return None
    return seq.stages["transform"]["wall_s"] / int(seq.params.get("items", 1))


def predict(
    ingest: PointResult,
    output: PointResult,
    transform: float,
    latency: float | None,
    checkpoint_every: int,
) -> dict[str, Any]:
    """Items/s of the serial stages model, with each term in microseconds per item."""
    terms = {
        "ingest": 1.0 / _median(ingest),
        "transform": transform,
        "output": 1.0 / _median(output),
        "checkpoint": 2.0 * latency / checkpoint_every if latency and checkpoint_every else 0.0,
    }
    return {
        "items_per_s": round(1.0 / sum(terms.values()), 1),
        "terms_us": {k: round(1e6 * v, 2) for k, v in terms.items()},
        "model": SERIAL_MODEL,
    }


def evaluate(study: Study, fs: str) -> dict[str, Any] | None:
    """The recommendation with its prediction, its measured run, and the sequential check."""
    point, chosen = study.point(KEY), study.meta.get("recommendation")
    if point is None or not chosen:
        return None
    choice = Choice(**chosen)
    ingest, output = study.point(choice.ingest_key), study.point(choice.output_key)
    seq = study.point("pipeline/sequential")
    transform = transform_s(seq)
    out: dict[str, Any] = {
        "question": "What configuration does the study recommend, and does it deliver?",
        "choice": choice.to_dict(),
        "fs": fs,
        "citations": [{"label": point.label, "path": point.median_run}] if point.median_run else [],
    }
    if ingest is None or output is None or transform is None:
        out["problem"] = "a stage cost is missing (see Failed points)"
        return out
    latency = storage.latency_s(study.meta.get("filesystems") or {}, fs, "create")
    out["predicted"] = predict(
        ingest, output, transform, latency, choice.params["checkpoint_every"]
    )
    seq_in = study.point("ingest_files/sequential")
    seq_out = study.point(f"output/{fs}/individual/fsync-none")
    if seq_in and seq_in.ok and seq_out and seq_out.ok:
        out["sequential_predicted"] = predict(seq_in, seq_out, transform, None, 0)
    if point.ok:
        measured = _median(point)
        out["measured"] = point.throughput
        out["ratio"] = round(measured / out["predicted"]["items_per_s"], 4)
        out["within"] = abs(out["ratio"] - 1.0) <= TOLERANCE
    if point.ok and seq is not None and seq.ok:
        out["sequential"] = seq.throughput
        out["vs_sequential"] = compare(point.spread, seq.spread)
        out["speedup"] = round(_median(point) / _median(seq), 3)
    out["text"] = _text(out, choice, fs)
    return out


def _text(out: dict[str, Any], choice: Choice, fs: str) -> str:
    """The recommendation in one paragraph: what, predicted, measured, against sequential."""
    text = f"{choice.label[0].upper()}{choice.label[1:]}, on {fs}. "
    if "predicted" not in out:
        return text + f"No prediction: {out.get('problem', 'a stage cost is missing')}."
    text += (
        f"Predicted {out['predicted']['items_per_s']:,.0f} items/s from the measured stage "
        f"costs (serial stages: {SERIAL_MODEL})"
    )
    if "measured" not in out:
        return text + "; its own run failed."
    within = "within" if out["within"] else "NOT within"
    text += (
        f"; measured {out['measured']['median']:,.0f} items/s, {out['ratio']:.2f} of the "
        f"prediction ({within} 20%)"
    )
    if "speedup" in out:
        words = {"faster": "faster", "slower": "slower", "same": "no different within noise"}
        text += (
            f", {out['speedup']:.2f}x the sequential pipeline "
            f"({out['sequential']['median']:,.0f} items/s; {words[out['vs_sequential']]})"
        )
    return text + "."
