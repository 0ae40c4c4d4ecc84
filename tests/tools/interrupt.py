"""Stopping a profiled program as the runner does, for the tests that check what a tool keeps."""

from __future__ import annotations

import os
import signal
import subprocess
import time


def interrupt_when_ready(cmd: list[str], after_s: float = 0.0) -> int:
    """Run `cmd` in its own process group; once it prints `ready` (and `after_s` later), send
    the group SIGINT, as the runner does; SIGKILL the group if it is still there after 30 s."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(after_s)
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode
