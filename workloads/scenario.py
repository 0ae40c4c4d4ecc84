"""What every scenario script shares: options, the output directory, errors and the result line.

A scenario body gets its typed parameters, a Result to fill and an output directory; it times
only the work being studied (data generation and server start-up happen before `started()`).
"""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workloads import registry
from workloads.cli import parse_args
from workloads.pipeline.engine import WorkloadError
from workloads.result import Result

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class Run:
    """One scenario run: parameters, result, output directory and the timed window."""

    def __init__(self, scenario: str, params: dict[str, Any], out_dir: Path) -> None:
        self.params = params
        self.out_dir = out_dir
        public = {k: v for k, v in params.items() if k != "result"}
        self.result = Result(scenario, public)
        self._t0: float | None = None

    def started(self) -> None:
        """Marks the start of the timed work."""
        self._t0 = time.perf_counter()

    def finished(self) -> None:
        if self._t0 is not None:
            self.result.elapsed_s = time.perf_counter() - self._t0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(scenario: str, body: Callable[[Run], None], argv: list[str] | None = None) -> int:
    """Parse options, run `body`, report the result; returns the exit code."""
    params = parse_args(registry.get(scenario), argv)
    # A file-size limit must surface as an error we can report, not kill us (SIGXFSZ).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _interrupt)
    temp_out = not params.get("out_dir")
    out_dir = Path(params["out_dir"] or tempfile.mkdtemp(prefix=f"pipeprof-{scenario}-"))
    run = Run(scenario, params, out_dir)
    code = 0
    try:
        body(run)
        run.finished()
    except WorkloadError as exc:
        run.finished()
        run.result.status, run.result.error = "failed", str(exc)
        print(f"error: {exc}", file=sys.stderr)
        code = EXIT_FAILED
    except KeyboardInterrupt:
        run.finished()
        run.result.status, run.result.error = "interrupted", "stopped by a signal"
        print("interrupted: partial result follows", file=sys.stderr)
        code = EXIT_INTERRUPTED
    finally:
        if temp_out:
            shutil.rmtree(out_dir, ignore_errors=True)
    if not temp_out:
        run.result.extra.setdefault("out_dir", str(out_dir))
    run.result.emit(params.get("result") or None)
    return code


def cache_dir(params: dict[str, Any]) -> Path | None:
    return Path(params["data_dir"]) if params.get("data_dir") else None
