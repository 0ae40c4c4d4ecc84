"""The live status line reads the cores the monitor's snapshot publishes (it showed 0.00)."""

from __future__ import annotations

import subprocess
import sys
import time

from harness.commands.common import live_line
from harness.monitor import Monitor
from harness.sections import LiveFigures


def test_the_live_line_shows_the_cores_a_busy_target_uses() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    monitor = Monitor(busy.pid)
    monitor.start()
    try:
        time.sleep(1.5)
        line = live_line("running busy", LiveFigures.of(1.5, monitor.snapshot()))
    finally:
        busy.kill()
        busy.wait()
        monitor.stop()
    cores = float(line.split(", ")[1].removesuffix(" cores"))
    assert line.startswith("running busy: 1.5 s, ") and cores > 0.2, line
