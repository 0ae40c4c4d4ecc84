"""Run a real child script under the Monitor, with the window starting when the child is ready.

The child prints "ready" after its interpreter has started and waits for "go" on stdin, so
interpreter start-up is outside the monitored window and the ground truth is what the script
body does; `from_start` opens the window at spawn instead, start-up and all.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.monitor import Monitor, MonitorReport

HANDSHAKE = """\
import sys as _sys
_sys.stdout.write("ready\\n")
_sys.stdout.flush()
_sys.stdin.readline()
"""


@dataclass
class MonitoredRun:
    """A finished monitored run: the report, the root pid and what the child printed."""

    report: MonitorReport
    pid: int
    stdout: str


RunMonitored = Callable[..., MonitoredRun]


@pytest.fixture
def run_monitored(tmp_path: Path) -> RunMonitored:
    """Write `body` to a script in tmp_path, run it, monitor it from "go" (or its spawn, with
    `from_start`) to its exit."""

    def run(
        body: str,
        *,
        argv: Sequence[str] | None = None,
        exclude_names: frozenset[str] = frozenset(),
        exclude_root: bool = False,
        from_start: bool = False,
        interval_s: float = 0.01,
        timeout_s: float = 60.0,
    ) -> MonitoredRun:
        script = tmp_path / "target.py"
        script.write_text(HANDSHAKE + textwrap.dedent(body))
        cmd = list(argv) if argv is not None else [sys.executable, str(script)]
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert proc.stdin is not None and proc.stdout is not None
        monitor = Monitor(
            proc.pid, interval_s=interval_s, exclude_names=exclude_names, exclude_root=exclude_root
        )
        started = False
        try:
            if from_start:
                monitor.start()
                started = True
            assert proc.stdout.readline().strip() == "ready"
            if not from_start:
                monitor.start()
                started = True
            proc.stdin.write("go\n")
            proc.stdin.flush()
            out, _ = proc.communicate(timeout=timeout_s)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if started:
                report = monitor.stop()
        split = " ".join(f"{k}={v:.3f}" for k, v in report.split.items())
        print(
            f"split: {split} | cores_used={report.cpu['cores_used']:.2f}"
            f" | monitor={100 * report.monitor_cpu_s / report.wall_s:.2f}% of wall"
        )
        assert proc.returncode == 0, f"target failed with {proc.returncode}"
        assert not report.errors, report.errors
        # A monitor gone wrong (a busy loop, a /proc scan every pass) costs tens of percent;
        # its precise cost (2-6% of a core here, more while the host forks all the time) is
        # make bench's to measure, not a unit test's.
        assert report.monitor_cpu_s / report.wall_s < 0.2, "the monitor costs too much CPU"
        return MonitoredRun(report=report, pid=proc.pid, stdout=out)

    return run


@pytest.fixture
def script_path(tmp_path: Path) -> Path:
    """Where run_monitored writes the target script (for wrappers that launch it)."""
    return tmp_path / "target.py"
