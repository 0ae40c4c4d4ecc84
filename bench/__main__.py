"""`python -m bench`: run every section and write bench/results.json and bench/results.md."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import efficiency, overheads, report, study, threads

HERE = Path(__file__).resolve().parent
SECTIONS = ("monitor", "threads", "tools", "efficiency", "study")
MONITOR_PAIRS = 9


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--pairs", type=int, default=5, help="interleaved rounds per figure")
    parser.add_argument(
        "--monitor-pairs",
        type=int,
        default=MONITOR_PAIRS,
        help="rounds for the monitor's overhead, the figure with the tightest target",
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.* go")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",")}
    started, t0 = datetime.now(UTC), time.monotonic()
    load_before = os.getloadavg()

    def say(message: str) -> None:
        print(f"[{time.monotonic() - t0:6.0f} s] {message}", flush=True)

    scratch = Path(tempfile.mkdtemp(prefix="pipeprof-bench-"))
    try:
        overhead = []
        if "monitor" in only:
            overhead += overheads.monitor(args.monitor_pairs, scratch, 2.0, say)
        by_threads = threads.monitor_by_threads(5, 3.0, say) if "threads" in only else []
        if "tools" in only:
            overhead += overheads.profilers(args.pairs, scratch, 1.0, say)
        eff = efficiency.efficiency(args.pairs, scratch, say) if "efficiency" in only else []
        if "study" in only:
            say("harness study --quick")
            found = study.study(scratch)
        else:
            found = {"status": "not run", "reason": "not asked for (--only)"}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    results = {
        "schema": 1,
        "meta": {
            "created_at": started.isoformat(timespec="seconds"),
            "host": platform.node(),
            "cpu_count": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "pairs": args.pairs,
            "duration_s": round(time.monotonic() - t0, 1),
        },
        "overhead": overhead,
        "monitor_threads": by_threads,
        "efficiency": eff,
        "study": found,
    }
    json_path, md_path = report.write(results, args.out)
    print(md_path.read_text())
    print(f"written: {json_path}, {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
