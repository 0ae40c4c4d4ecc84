"""What every calibration case shares: its `--seconds` option, the busy loop, the result line.

A case prints one JSON line last, with `items_per_s` and `elapsed_s`, which the harness reads as
the workload's own throughput (see `harness.assemble.workload_result`), so a run under a tool
can be compared with a bare run by the case's own clock.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

BLOCK = 1000  # additions per unit of work in spin(); an "item" of a CPU case
PERIOD_S = 0.02  # one compute + sleep cycle of the mix_* cases


def parse(
    doc: str | None, seconds: float, argv: list[str] | None = None, items: bool = False
) -> argparse.Namespace:
    """Parse `--seconds` (and `--items`, for a case that can do a fixed amount of work: the
    bench times those, since a run of fixed length shows a slowdown only in its throughput)."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--seconds", type=float, default=seconds, help="how long to run")
    if items:
        parser.add_argument(
            "--items", type=int, default=0, help="do this much work instead of running --seconds"
        )
    return parser.parse_args(argv)


def disk_dir() -> str:
    """A directory on a disk, not in memory, for the cases whose truth is the disk's or the
    filesystem's: /tmp is a tmpfs on many machines. PIPEPROF_DISK_DIR chooses another."""
    chosen = os.environ.get("PIPEPROF_DISK_DIR")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    path = Path(chosen) if chosen else Path(base) / "pipeprof" / "cases"
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def spin_block() -> int:
    """One unit of pure-Python work: the interpreter holds the GIL all along."""
    x = 0
    for i in range(BLOCK):
        x += i
    return x


def spin(deadline: float) -> int:
    """Pure-Python work until time.perf_counter() reaches `deadline`; returns blocks done."""
    done = 0
    while time.perf_counter() < deadline:
        spin_block()
        done += 1
    return done


def duty_cycle(duty: float, seconds: float, period_s: float = PERIOD_S) -> int:
    """Compute for `duty` of each period, sleep the rest; returns the periods run.

    Both phases end at absolute deadlines on the wall clock, so the share of time the thread is
    runnable (on a CPU or waiting for one) is `duty` however busy the machine is: a late wake-up
    or a preemption eats into the compute phase instead of lengthening it.
    """
    start = time.perf_counter()
    periods = max(1, round(seconds / period_s))
    for n in range(periods):
        spin(start + (n + duty) * period_s)
        pause = start + (n + 1) * period_s - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    return periods


def run_mix(case: str, duty: float, doc: str | None, argv: list[str] | None = None) -> None:
    """The whole of a mix_* case: parse, run the duty cycle, report."""
    args = parse(doc, 3.0, argv)
    started = time.perf_counter()
    periods = duty_cycle(duty, args.seconds)
    report(case, periods, started, duty=duty, period_s=PERIOD_S)


def report(case: str, items: int, started: float, **extra: Any) -> None:
    """Print the result line the harness reads: items done, elapsed seconds, items per second."""
    elapsed = time.perf_counter() - started
    line = {
        "case": case,
        "items_in": items,
        "elapsed_s": round(elapsed, 6),
        "items_per_s": round(items / elapsed, 2) if elapsed > 0 else 0.0,
        **extra,
    }
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
