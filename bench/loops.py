"""Minimal hand-written loops doing the same work as the scenarios, for the efficiency figures.

Each is what someone would write without the pipeline's machinery (stages, chunks, stage clocks,
quarantine, checkpoints): the same data set, the same parser or encoder, the same files written,
and the clock started at the same point (after the data is found or loaded).

    python -m bench.loops ingest_files|output|pipeline|ingest_api --items N [...]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import time
import urllib.parse
from pathlib import Path

import orjson

from workloads import data
from workloads.api_service import TOKEN_ENV
from workloads.pipeline.transform import transform_item

FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


def ingest_files(args: argparse.Namespace) -> int:
    paths = data.dataset(args.items, args.seed, "files", cache_dir=args.data_dir).files()
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as f:
            json.loads(f.read())
    return _done(len(paths), started)


def output(args: argparse.Namespace) -> int:
    ds = data.dataset(args.items, args.seed, "jsonl", cache_dir=args.data_dir)
    with open(ds.path, "rb") as f:
        items = [orjson.loads(line) for line in f]
    items_dir = args.out_dir / "items"
    items_dir.mkdir(parents=True)
    started = time.perf_counter()
    for item in items:
        fd = os.open(f"{items_dir}/{item['id']}.json", FLAGS, 0o644)
        os.write(fd, json.dumps(item).encode())
        os.close(fd)
    return _done(len(items), started)


def pipeline(args: argparse.Namespace) -> int:
    paths = data.dataset(args.items, args.seed, "files", cache_dir=args.data_dir).files()
    items_dir = args.out_dir / "items"
    items_dir.mkdir(parents=True)
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as f:
            item = transform_item(json.loads(f.read()))
        fd = os.open(f"{items_dir}/{item['id']}.json", FLAGS, 0o644)
        os.write(fd, json.dumps(item).encode())
        os.close(fd)
    return _done(len(paths), started)


def ingest_api(args: argparse.Namespace) -> int:
    url = urllib.parse.urlsplit(args.api_url)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    headers = {"Authorization": f"Bearer {os.environ[TOKEN_ENV]}"}
    started = time.perf_counter()
    count, path = 0, "/items?page=0"
    while path:
        conn.request("GET", path, headers=headers)
        page = orjson.loads(conn.getresponse().read())
        count += len(page["items"])
        path = page["next"]
    conn.close()
    return _done(count, started)


def _done(items: int, started: float) -> int:
    elapsed = time.perf_counter() - started
    line = {"items_in": items, "elapsed_s": round(elapsed, 6), "items_per_s": items / elapsed}
    print(json.dumps(line), flush=True)
    return 0


LOOPS = {"ingest_files": ingest_files, "output": output, "pipeline": pipeline,
         "ingest_api": ingest_api}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="a minimal loop doing a scenario's work")
    parser.add_argument("kind", choices=sorted(LOOPS))
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--out-dir", type=Path, default=None)
    parser.add_argument("--api-url", default="")
    args = parser.parse_args(argv)
    return LOOPS[args.kind](args)


if __name__ == "__main__":
    raise SystemExit(main())
