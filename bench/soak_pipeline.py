"""The soak's workload: a small pipeline that loops for --seconds with thread churn.

Each round starts a fresh pool of worker threads (so threads keep being born and dying, as in a
service that makes a pool per batch), and each worker builds records, encodes and parses them
as JSON, transforms them and appends them to one of a few files it then reads back. A short
sleep between rounds keeps it near half a core, so the harness is measured on a machine that
still has room. Prints a result line like the scenarios do.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RECORDS = 200
FILES = 8
WORKERS = 4


def batch(seed: int, out_dir: Path) -> int:
    records = [
        {"id": seed * RECORDS + i, "name": f"item-{i}", "values": [i, i * 2, i * 3]}
        for i in range(RECORDS)
    ]
    parsed = json.loads(json.dumps(records))
    for r in parsed:
        r["total"] = sum(r["values"])
    path = out_dir / f"part-{seed % FILES}.jsonl"
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in parsed)
    with open(path) as f:
        return sum(1 for _ in f)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--pause", type=float, default=0.05, help="sleep between rounds")
    args = parser.parse_args(argv)
    items = rounds = 0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pipeprof-soak-") as tmp:
        out_dir = Path(tmp)
        while time.monotonic() - t0 < args.seconds:
            with ThreadPoolExecutor(WORKERS, thread_name_prefix=f"round{rounds}") as pool:
                seeds = range(rounds * WORKERS, (rounds + 1) * WORKERS)
                items += sum(pool.map(lambda s: batch(s, out_dir), seeds))
            rounds += 1
            time.sleep(args.pause)
    elapsed = time.monotonic() - t0
    result = {
        "status": "ok",
        "items_in": items,
        "items_out": items,
        "elapsed_s": round(elapsed, 3),
        "items_per_s": round(items / elapsed, 1),
        "rounds": rounds,
        "threads_started": rounds * WORKERS,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
