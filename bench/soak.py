"""`make soak` (`python -m bench.soak`): does the harness stay bounded over a long run?

Runs bench/soak_pipeline.py (a looping pipeline with thread churn) for 10 minutes through
`harness run`, under py-spy and then under the monitor alone (`--tool none`), and samples the
harness process itself every few seconds: its RSS, and its CPU time, of which the share of one
core over the 30 s before 1, 5 and 10 minutes is reported. Flat means each later figure is
within 10% of the 1-minute one. After each run it reads the summary back: its size, its longest
list (a per-sample or per-thread list would grow with the run), the artifacts' sizes it states.

Writes bench/soak.json and bench/soak.md. Takes ~21 minutes; `--seconds 60` for a quick look
(the marks then fall at the same fractions of the run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from harness.summary import find_runs, load

HERE = Path(__file__).resolve().parent
PIPELINE = HERE / "soak_pipeline.py"
TOOLS = ("py-spy", "none")
FULL_S = 600.0
MARKS = (60.0, 300.0, 600.0)  # 1, 5 and 10 minutes of a full run
WINDOW = 30.0  # the CPU share at a mark is over this much time before it (start-up excluded)
EVERY_S = 5.0
FLAT = 0.10


def sample(harness: psutil.Process, t: float) -> dict[str, Any] | None:
    """The harness's own figures now (its children, py-spy included, apart)."""
    try:
        with harness.oneshot():
            cpu = harness.cpu_times()
            row = {
                "t_s": round(t, 1),
                "rss_mb": harness.memory_info().rss / 2**20,
                "cpu_s": cpu.user + cpu.system,
                "threads": harness.num_threads(),
            }
        tools = [c for c in harness.children() if c.name() == "py-spy"]
        row["pyspy_rss_mb"] = sum(c.memory_info().rss for c in tools) / 2**20 if tools else None
        return row
    except psutil.Error:
        return None


def at_mark(samples: list[dict[str, Any]], mark: float, window: float) -> dict[str, Any]:
    """The last sample at or before `mark`, with the CPU share over `window` before it."""
    before = [s for s in samples if s["t_s"] <= mark]
    end = before[-1]
    start = min(samples, key=lambda s: abs(s["t_s"] - (end["t_s"] - window)))
    span = end["t_s"] - start["t_s"]
    share = (end["cpu_s"] - start["cpu_s"]) / span if span > 0 else None
    return {
        "t_s": end["t_s"],
        "rss_mb": round(end["rss_mb"], 1),
        "cpu_share": round(share, 4) if share is not None else None,
        "threads": end["threads"],
        "pyspy_rss_mb": round(end["pyspy_rss_mb"], 1) if end["pyspy_rss_mb"] else None,
    }


def longest_list(value: Any, path: str = "") -> tuple[int, str]:
    """The longest list anywhere in a JSON value, and where it is."""
    best = (len(value), path) if isinstance(value, list) else (0, "")
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    else:
        return best
    for key, child in children:
        best = max(best, longest_list(child, f"{path}.{key}" if path else str(key)))
    return best


def flatness(marks: list[dict[str, Any]], key: str) -> float | None:
    """Largest relative change of a later mark from the first one."""
    first = marks[0][key]
    if not first:
        return None
    return round(max(abs(m[key] / first - 1) for m in marks[1:] if m[key] is not None), 4)


def soak(tool: str, seconds: float, root: Path, say) -> dict[str, Any]:
    scale = seconds / FULL_S
    marks = [m * scale for m in MARKS]
    marks[-1] = min(marks[-1], seconds - 5.0)  # the last sample must fall before the end
    argv = [sys.executable, "-m", "harness", "run", str(PIPELINE), "--tool", tool,
            "--out", str(root), "--", "--seconds", str(seconds)]  # fmt: skip
    say(f"harness run soak_pipeline.py --tool {tool}, {seconds:g} s")
    t0 = time.monotonic()
    errors = root / f"stderr-{tool}.txt"
    with open(errors, "wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
    harness = psutil.Process(proc.pid)
    samples: list[dict[str, Any]] = []
    next_t = 0.0
    while proc.poll() is None:
        now = time.monotonic() - t0
        if now >= next_t:
            row = sample(harness, now)
            if row:
                samples.append(row)
            next_t += EVERY_S * min(1.0, max(scale, 0.2))
        time.sleep(0.2)
    if proc.returncode != 0:
        tail = errors.read_text(errors="replace")[-800:]
        raise SystemExit(f"the soak run under {tool} exited {proc.returncode}: {tail}")
    (run_dir,) = [d for d in find_runs(root) if d.name.endswith(f"-{tool}")]
    summary = load(run_dir)
    text = (run_dir / "summary.json").read_text()
    size, where = longest_list(json.loads(text))
    at = [at_mark(samples, m, WINDOW * scale) for m in marks]
    result = {
        "tool": tool,
        "seconds": seconds,
        "status": summary.status,
        "marks": [{"minute": round(m / 60, 1), **a} for m, a in zip(marks, at, strict=True)],
        "rss_change": flatness(at, "rss_mb"),
        "cpu_change": flatness(at, "cpu_share"),
        "summary_bytes": len(text.encode()),
        "summary_longest_list": {"length": size, "at": where},
        "disk": getattr(summary, "disk", None),
        "run_dir_bytes": sum(p.stat().st_size for p in run_dir.rglob("*") if p.is_file()),
        "threads_seen": (summary.monitor or {}).get("threads_seen"),
        "workload": {k: getattr(summary.throughput, k) for k in ("items", "items_per_s")},
        "leftovers": summary.leftovers,
        "samples": samples,
    }
    say(
        f"  rss {[a['rss_mb'] for a in at]} MB, cpu {[a['cpu_share'] for a in at]} of a core, "
        f"summary {result['summary_bytes']:,} bytes"
    )
    return result


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# Soak: the harness's own memory and CPU over a long run",
        "",
        f"`make soak` on {meta['created_at']} ({meta['host']}, {meta['cpu_count']} cores, "
        f"load {meta['load_before']} before), {meta['seconds']:g} s per run of "
        "bench/soak_pipeline.py (a looping pipeline that starts a fresh pool of 4 threads "
        "every round). Figures are the harness process's own: its children (the target, "
        "py-spy) apart. CPU is the share of one core over the 30 s before the mark.",
        "",
        "| tool | minute | harness RSS MB | harness CPU (share of a core) | harness threads "
        "| py-spy RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for run in results["runs"]:
        for m in run["marks"]:
            lines.append(
                f"| {run['tool']} | {m['minute']:g} | {m['rss_mb']} | {m['cpu_share']} | "
                f"{m['threads']} | {m['pyspy_rss_mb'] or '-'} |"
            )
    lines += [
        "",
        "| tool | RSS change | CPU change | flat (within 10%) | summary | longest list in it "
        "| threads seen | run directory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in results["runs"]:
        flat = all(x is not None and x <= FLAT for x in (run["rss_change"], run["cpu_change"]))
        ll = run["summary_longest_list"]
        lines.append(
            f"| {run['tool']} | {run['rss_change']:.1%} | {run['cpu_change']:.1%} | "
            f"{'yes' if flat else 'no'} | {run['summary_bytes']:,} bytes | "
            f"{ll['length']} ({ll['at'] or '-'}) | {run['threads_seen']} | "
            f"{run['run_dir_bytes'] / 2**20:,.1f} MB |"
        )
    lines += [
        "",
        "Along each run (to judge the noise of a shared machine): the harness's RSS at each "
        "minute, and its CPU over each minute.",
        "",
    ]
    for run in results["runs"]:
        rss, cpu = series(run["samples"])
        lines.append(f"- {run['tool']}: RSS MB {rss}; CPU (share of a core) {cpu}")
    return "\n".join(lines) + "\n"


def series(samples: list[dict[str, Any]], step: float = 60.0) -> tuple[list, list]:
    """RSS at each `step` and CPU share over each `step` of a run, from its samples."""
    rss, cpu, t = [], [], step
    last = samples[0]
    while True:
        upto = [x for x in samples if x["t_s"] <= t]
        if not upto or upto[-1]["t_s"] <= last["t_s"] or t > samples[-1]["t_s"] + 1:
            break
        end = upto[-1]
        rss.append(round(end["rss_mb"], 1))
        cpu.append(round((end["cpu_s"] - last["cpu_s"]) / (end["t_s"] - last["t_s"]), 4))
        last, t = end, t + step
    return rss, cpu


def rewrite(path: Path) -> None:
    """soak.md again from a soak.json (after a change to the page, without running again)."""
    path.with_suffix(".md").write_text(markdown(json.loads(path.read_text())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=FULL_S, help="length of each run")
    parser.add_argument("--tool", action="append", choices=TOOLS, help="default: both")
    parser.add_argument("--out", type=Path, default=HERE, help="where soak.json and .md go")
    args = parser.parse_args(argv)
    if args.seconds < 30:
        parser.error("--seconds must be at least 30")
    t0 = time.monotonic()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - t0:6.0f} s] {message}", flush=True)

    meta = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "seconds": args.seconds,
    }
    root = Path(tempfile.mkdtemp(prefix="pipeprof-soak-"))
    try:
        runs = [soak(tool, args.seconds, root, say) for tool in args.tool or TOOLS]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    meta["load_after"] = [round(x, 2) for x in os.getloadavg()]
    results = {"schema": 1, "meta": meta, "runs": runs}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "soak.md").write_text(markdown(results))
    say(f"wrote {args.out / 'soak.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
