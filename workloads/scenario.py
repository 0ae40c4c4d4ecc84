"""What every scenario script shares: options, the output directory, errors and the result line.

A scenario body gets its typed parameters, a Result to fill and an output directory; it times
only the work being studied (data generation and server start-up happen before `started()`).
"""

from __future__ import annotations

import resource
import signal
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from workloads import filesystems, mountinfo, registry
from workloads.cli import parse_args
from workloads.pipeline.engine import WorkloadError
from workloads.result import Result

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class Run:
    """One scenario run: parameters, result, output directory and the timed window."""

    def __init__(self, scenario: str, params: dict[str, Any], out_dir: Path) -> None:
        self.params = params
        self.out_dir = out_dir
        public = {k: v for k, v in params.items() if k != "result"}
        self.result = Result(scenario, public)
        self._t0: float | None = None
        self._usage0: resource.struct_rusage | None = None

    def started(self) -> None:
        """Marks the start of the timed work."""
        self._t0 = time.perf_counter()
        self._usage0 = resource.getrusage(resource.RUSAGE_SELF)

    def finished(self) -> None:
        if self._t0 is not None and self._usage0 is not None:
            self.result.elapsed_s = time.perf_counter() - self._t0
            now = self._usage0, resource.getrusage(resource.RUSAGE_SELF)
            # This process's user and system CPU in the timed window: system time per item
            # shows when the filesystem, not the code, moved (file creation after deletions).
            self.result.extra["timed_cpu"] = {
                "user_s": round(now[1].ru_utime - now[0].ru_utime, 4),
                "sys_s": round(now[1].ru_stime - now[0].ru_stime, 4),
            }


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _output_dir(stack: ExitStack, params: dict[str, Any]) -> tuple[Path, dict[str, Any] | None]:
    """The output directory and, for a scenario that takes `fs`, what to record of its mount.

    Without --out-dir the directory is made here, before the timed work, on the `fs` asked for
    (a fresh temp directory on the disk when the scenario has no such option), and removed on
    leaving. With --out-dir (the harness makes the filesystem itself, outside the profiled
    process) the directory is used as given, and its filesystem must be the one asked for.
    """
    kind = params.get("fs")
    if params.get("out_dir"):
        out_dir = Path(params["out_dir"])
        if kind is None:
            return out_dir, None
        where = {"kind": kind, **mountinfo.describe(out_dir)}
        if kind != "disk" and where["type"] != kind:
            raise WorkloadError(
                f"--out-dir {out_dir} is on {where['type']}, not {kind}: leave out --out-dir "
                f"to write to a fresh {kind}, or drop --fs"
            )
        return out_dir, where
    try:
        where = stack.enter_context(filesystems.prepared(kind or "disk"))
    except filesystems.FilesystemUnavailable as exc:
        raise WorkloadError(str(exc)) from None
    return where.directory, where.info if kind is not None else None


def main(scenario: str, body: Callable[[Run], None], argv: list[str] | None = None) -> int:
    """Parse options, run `body`, report the result; returns the exit code."""
    params = parse_args(registry.get(scenario), argv)
    # A file-size limit must surface as an error we can report, not kill us (SIGXFSZ).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _interrupt)
    code = 0
    with ExitStack() as stack:
        try:
            out_dir, where = _output_dir(stack, params)
        except WorkloadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            print("interrupted while preparing the output directory", file=sys.stderr)
            return EXIT_INTERRUPTED
        run = Run(scenario, params, out_dir)
        if where is not None:
            run.result.extra["filesystem"] = where
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
    if params.get("out_dir"):
        run.result.extra.setdefault("out_dir", str(out_dir))
    run.result.emit(params.get("result") or None)
    return code


def cache_dir(params: dict[str, Any]) -> Path | None:
    return Path(params["data_dir"]) if params.get("data_dir") else None
