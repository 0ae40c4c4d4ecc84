"""findings.md's sections about filesystems: Q4's table per filesystem, the filesystems and their
flush latencies, the storage model with its check and predictions, and the recommendation.

Only formatting: every figure comes from study.answers (questions.answer_all) or study.meta.
"""

from __future__ import annotations

from typing import Any

from harness.study.output_answers import FS_ORDER, LAYOUTS
from harness.study.results import Study

FSYNCS = ("none", "each", "batch", "end")


def _k(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x / 1000:.1f}k" if x >= 10_000 else f"{x:,.0f}"


def _link(label: str, path: str | None) -> str:
    return f"[{label}]({path})" if path else label


def q4_table(study: Study) -> list[str]:
    """Items/s by layout x fsync (rows) and filesystem (columns), with spread and sys time."""
    table = ((study.answers.get("Q4") or {}).get("data") or {}).get("table") or {}
    if not table:
        return []
    fss = [fs for fs in FS_ORDER if fs in table] + [fs for fs in table if fs not in FS_ORDER]
    rows = [f"{layout}|{f}" for layout in LAYOUTS for f in FSYNCS]
    rows = [r for r in rows if any(r in table[fs] for fs in fss)]
    lines = [
        "Items/s per filesystem (median ± std as % of the mean over the repeats; system CPU "
        "per item of the timed work, which rises when file creation gets dearer):",
        "",
        "| layout, fsync | " + " | ".join(fss) + " |",
        "|---|" + "---:|" * len(fss),
    ]
    for row in rows:
        cells = []
        for fs in fss:
            c = table[fs].get(row)
            if c is None:
                cells.append("-")
                continue
            sys_us = c.get("sys_per_item_us")
            text = f"{_k(c['median'])} ±{100 * c['rel_std']:.0f}%"
            text += f", sys {sys_us:.0f} µs" if sys_us is not None else ""
            cells.append(_link(text, c.get("run")))
        lines.append(f"| {row.replace('|', ', fsync ')} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def filesystems(study: Study) -> list[str]:
    """Which filesystems were made, how, and what one fsync cost on each."""
    made = study.meta.get("filesystems") or {}
    missing = study.meta.get("unavailable_filesystems") or {}
    if not made and not missing:
        return []
    lines = [
        "## Filesystems",
        "",
        "Each output group (one filesystem's points in one round of repeats) wrote to a fresh "
        "filesystem made by the study before the group's first run and removed after its last "
        "(tmpfs, and ext4/xfs/btrfs on a loop device backed by a sparse file on the disk), or on "
        "the default disk into new directories nothing was deleted from until the end. Each "
        "group began and ended with the same flush probe (after a `sync`): a new 1 KB file "
        "synced (`create`), 1 KB appended to one file and synced (`append`), a 100 KB batch "
        "file synced, renamed and its directory synced (`batch`); latencies pooled over the "
        "rounds. `groups` counts every scenario's groups on that filesystem.",
        "",
        "| filesystem | type, options | device | groups | create: p50 / p99 / mean "
        "| append: p50 / p99 / mean | batch: p50 / p99 / mean |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for fs in sorted(made, key=lambda k: FS_ORDER.index(k) if k in FS_ORDER else 99):
        entry = made[fs]
        info = entry.get("info") or {}
        device = info.get("source", "-")
        if info.get("backing_file"):
            device += " (loop, sparse file on the disk)"
        lat = entry.get("fsync") or {}
        cols = []
        for pattern in ("create", "append", "batch"):
            s = lat.get(pattern)
            cols.append(
                f"{s['p50_ms']:.3f} / {s['p99_ms']:.3f} / {s['mean_ms']:.3f} ms (n={s['n']})"
                if s
                else "-"
            )
        what = f"{info.get('type', '?')}, {info.get('options', '?')}"
        if entry.get("problem"):
            what = f"not made: {entry['problem']}"
        lines.append(
            f"| {fs} | {what} | {device} | {entry.get('groups', 0)} | " + " | ".join(cols) + " |"
        )
    for fs, why in missing.items():
        lines.append(f"| {fs} | cannot be made here: {why} | - | 0 | - | - | - |")
    return [*lines, ""]


def storage(study: Study) -> list[str]:
    """The model's check on every probed filesystem, and its storage-class predictions."""
    a = study.answers.get("storage") or {}
    rows = a.get("rows") or []
    lines = [f"## {a.get('question', 'What would an HDD do?')}", ""]
    if not rows:
        return [*lines, "Not answered: no synced output point with a probed filesystem.", ""]
    worst = a["worst_error"]
    verdict = "within" if a["within"] else "NOT within"
    lines += [
        f"Model: `{a['model']}`, with c the same layout's per-item cost without fsync on that "
        "filesystem (1 / its measured items/s), f the flushes per item the writer makes "
        "(counted from workloads/pipeline/output.py) and L the mean latency the probe measured "
        "there for that kind of flush (`create`: a new 1 KB file synced; `append`: 1 KB "
        "appended and synced; `batch`: a 100-item file synced, renamed, its directory synced). "
        f"Checked against every synced point: {verdict} 25% on every filesystem (worst error "
        f"{100 * worst:.0f}%). `fsync end` is one syncfs writing back the whole run, not a "
        "per-item flush, so the model leaves it out.",
        "",
        "| filesystem | layout, fsync | c (µs) | f, flush kind | L (ms) | predicted "
        "| measured (min..max) | error |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r["spread"]
        lines.append(
            f"| {r['fs']} | {r['layout']}, {r['fsync']} | {r['c_us']:.1f} | "
            f"{r['flushes_per_item']:.3f} {r['pattern']} | {r['latency_ms']:.3f} | "
            f"{r['predicted']:,.0f} | "
            f"{r['measured']:,.0f} ({s['minimum']:,.0f}..{s['maximum']:,.0f}) | "
            f"{100 * r['error']:+.0f}% |"
        )
    classes = a.get("classes") or []
    if classes:
        names = [c[0] for c in a["storage_classes"]]
        lines += [
            "",
            f"**Predictions, not measurements** (same formula, c measured on {a['classes_fs']}, "
            "f counting device flushes (a batch makes two: file and directory), L set to each "
            "storage class's typical latency per flush: "
            + ", ".join(f"{n} {ms:g} ms" for n, ms in a["storage_classes"])
            + "):",
            "",
            "| layout, fsync | device flushes per item | no fsync | " + " | ".join(names) + " |",
            "|---|---:|---:|" + "---:|" * len(names),
        ]
        for c in classes:
            preds = " | ".join(f"{c['predicted'][n]:,.0f}" for n in names)
            lines.append(
                f"| {c['layout']}, {c['fsync']} | {c['flushes_per_item']:.3f} | "
                f"{c['unsynced']:,.0f} | {preds} |"
            )
        lines += ["", a.get("text", ""), ""]
    return [*lines, ""]


def _command(params: dict[str, Any], fs: str) -> str:
    sets = " ".join(f"--set {k}={str(v).lower()}" for k, v in params.items())
    return f"harness run pipeline {sets} --set fs={fs}"


def _api_line(study: Study, key: str | None) -> str:
    p = study.point(key) if key else None
    if p is None or not p.ok:
        return "- API source: not measured (its points failed)."
    n = int(p.params.get("workers", 1)) if p.params.get("mode") == "asyncio" else 1
    latency_s = float(p.params.get("latency_ms", 140.0)) / 1000
    page = int(p.params.get("page_size", 10))
    examples = ", ".join(
        f"{r} requests/s: {max(1, int(r * latency_s))} in flight, about "
        f"{min(r, max(1, int(r * latency_s)) / latency_s) * page:,.0f} items/s"
        for r in (10, 50)
    )
    return (
        f"- API source: {n} request(s) in flight ({p.label}: {p.throughput['median']:,.0f} "
        "items/s, the fewest within noise of the best; the test server has no rate limit). "
        f"Under a rate limit of R requests/s keep N <= R x latency ({latency_s:g} s here, "
        f"Little's law), e.g. {examples}."
    )


def _crash(params: dict[str, Any], study: Study, fs: str, measured: float | None) -> list[str]:
    k, b, layout = params["checkpoint_every"], params["batch_size"], params["output_layout"]
    resume = (
        f"`--resume` restarts from the last checkpoint and redoes at most {k} items, each "
        "written once (files are named by item or position, so a redone write replaces its "
        "file instead of doubling it)"
    )
    kept = {
        "each": "every item is synced as it is written: a power cut loses at most that item",
        "batch": f"each batch of {b} is synced (file and directory) as it is written: a power "
        "cut loses at most the batch being assembled",
        "end": f"durability is traded away between checkpoints: nothing is synced until a "
        f"checkpoint, which first makes all output so far durable (`commit` in "
        f"workloads/pipeline/output.py) and only then records its position; a power cut "
        f"loses at most the {k} items since the last checkpoint",
    }[params["fsync"]]
    lines = ["What a crash costs:", "", f"- {kept}; {resume}."]
    if params["fsync"] == "end":
        lines.append(
            "- Without checkpoints the same policy would risk the whole run: until its one "
            "sync at the end a power cut can take back everything written since the start. "
            "A killed process, as opposed to a power cut, loses nothing it wrote under any "
            "policy: the page cache keeps it."
        )
    unsynced = next(
        (
            p
            for p in study.group("layout")
            if p.params.get("fs", "disk") == fs
            and p.params.get("layout") == layout
            and p.params.get("fsync") == "none"
            and not p.params.get("nested")
        ),
        None,
    )
    if unsynced is not None:
        gain = unsynced.throughput["median"] / measured - 1 if measured else None
        more = f" ({gain:+.0%} over the chosen output point)" if gain is not None else ""
        lines.append(
            f"- Not syncing at all ({unsynced.label}: {unsynced.throughput['median']:,.0f} "
            f"items/s{more}) bounds nothing: the kernel writes dirty pages back within about "
            "30 s, so a power cut can take back the last half-minute of output, including "
            "items a checkpoint already counted; under `fsync none` a checkpoint protects "
            "against a killed process only."
        )
    return [*lines, ""]


def recommendation(study: Study) -> list[str]:
    """The recommended configuration, its prediction, its measured run, and what a crash costs."""
    r = study.answers.get("recommendation") or {}
    lines = ["## Recommendation", ""]
    if not r:
        return [*lines, "None: the points it is chosen from did not all succeed.", ""]
    choice, fs = r["choice"], r["fs"]
    output = study.point(choice["output_key"])
    lines += [
        f"Chosen from the points measured before it, then run as the pipeline scenario on "
        f"{fs} beside the sequential pipeline: `{_command(choice['params'], fs)}`",
        "",
        *(f"- {why}." for why in choice["why"]),
        f"- checkpoints every {choice['params']['checkpoint_every']} items.",
        _api_line(study, choice.get("api_key")),
        "",
    ]
    if r.get("problem"):
        return [*lines, f"No prediction: {r['problem']}.", ""]
    pred = r["predicted"]
    terms = " + ".join(f"{k} {v:.1f}" for k, v in pred["terms_us"].items())
    lines += [
        f"**Predicted: {pred['items_per_s']:,.0f} items/s** (model: serial stages, "
        f"`{pred['model']}`; µs per item: {terms}).",
    ]
    seq_pred = r.get("sequential_predicted")
    if seq_pred and r.get("sequential"):
        lines.append(
            f"The same model puts the sequential pipeline at {seq_pred['items_per_s']:,.0f} "
            f"items/s; it measured {r['sequential']['median']:,.0f}."
        )
    if r.get("measured"):
        m = r["measured"]
        within = "within" if r["within"] else "NOT within"
        lines += [
            "",
            f"**Measured: {m['median']:,.0f} items/s** (median of {m['n']}, "
            f"{m['minimum']:,.0f}..{m['maximum']:,.0f}): measured / predicted = "
            f"{r['ratio']:.2f}, {within} 20%.",
        ]
    else:
        lines += ["", "Measured: no successful run of the recommended configuration."]
    if r.get("speedup") is not None:
        words = {"faster": "faster", "slower": "slower", "same": "no different within noise"}
        lines.append(
            f"Against the sequential pipeline ({r['sequential']['median']:,.0f} items/s): "
            f"{r['speedup']:.2f}x, {words[r['vs_sequential']]}."
        )
    lines.append("")
    median = output.throughput["median"] if output and output.throughput else None
    return lines + _crash(choice["params"], study, fs, median)
