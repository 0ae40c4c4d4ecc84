"""A watcher that ends a run's processes if the harness itself is killed (SIGKILL, the OOM
killer, a CI job's hard timeout), when none of its own clean-up can run.

The harness keeps the run's processes, each as "<pid> <start ticks>", in a file, and holds the
write end of a pipe whose read end only the watcher has. The kernel closes that end however
the harness ends; the watcher then reads EOF. If the harness said "done" first (it stopped the
run itself, or was asked to keep what outlived it), the watcher just leaves; else it sends
SIGTERM to every listed process that is still the same one (checked by start time through a
pidfd, so a reused pid is never signalled), SIGKILL after GRACE_S to what is left, and removes
the file. It runs in a session of its own, so a terminal's Ctrl-C or hang-up does not reach it,
and with `python -S`: it imports nothing of the harness and costs ~10 ms to start.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

GRACE_S = 2.0
DONE = b"done"

WATCHER = r"""
import os, signal, sys, time
fd, path, grace = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
said = b""
while True:
    chunk = os.read(fd, 64)
    if not chunk:
        break
    said += chunk
if said.endswith(b"done"):
    sys.exit(0)

def same(pid, ticks):
    # A pidfd first, then the start time: the pidfd keeps naming this very process.
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
        fields = raw[raw.rfind(b")") + 2 :].split()
        if int(fields[19]) == ticks and fields[0] != b"Z":  # a zombie has ended already
            return pidfd
    except (OSError, ValueError, IndexError):
        pass
    os.close(pidfd)
    return None

def signal_all(sig):
    try:
        with open(path) as f:
            words = f.read().split()
    except OSError:
        return 0
    sent = 0
    for pid, ticks in zip(words[::2], words[1::2]):
        pidfd = same(int(pid), int(ticks))
        if pidfd is None:
            continue
        try:
            signal.pidfd_send_signal(pidfd, sig)
            sent += 1
        except OSError:
            pass
        os.close(pidfd)
    return sent

if signal_all(signal.SIGTERM):
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and signal_all(0):
        time.sleep(0.05)
    signal_all(signal.SIGKILL)
try:
    os.unlink(path)
except OSError:
    pass
"""


class Deadman:
    """The watcher of one run: `update()` with the run's processes as they change, `disarm()`
    when the harness has dealt with them itself."""

    def __init__(self, listing: Path, grace_s: float = GRACE_S) -> None:
        self.listing = listing
        self._listed: frozenset[tuple[int, int]] = frozenset()
        self.watcher: subprocess.Popen | None = None
        read_end, self._write_end = os.pipe()  # both close-on-exec: the run never holds one
        try:
            self.watcher = subprocess.Popen(
                [sys.executable, "-S", "-c", WATCHER, str(read_end), str(listing), str(grace_s)],
                pass_fds=(read_end,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:  # no watcher (no fds or processes left): the run goes on without it
            os.close(self._write_end)
            self._write_end = -1
        finally:
            os.close(read_end)

    def __enter__(self) -> Deadman:
        return self

    def __exit__(self, *exc: object) -> None:
        self.disarm()

    def update(self, processes: Iterable[tuple[int, int]]) -> None:
        """List the run's processes as (pid, start ticks), rewriting the file when they change."""
        now = frozenset(processes)
        if now == self._listed or self.watcher is None:
            return
        partial = self.listing.with_name(self.listing.name + ".partial")
        partial.write_text("".join(f"{pid} {ticks}\n" for pid, ticks in sorted(now)))
        partial.replace(self.listing)
        self._listed = now

    def disarm(self) -> None:
        """Tell the watcher the harness has ended the run itself, and let it go (idempotent)."""
        if self._write_end < 0:
            return
        with contextlib.suppress(OSError):
            os.write(self._write_end, DONE)
        os.close(self._write_end)
        self._write_end = -1
        if self.watcher is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.watcher.wait(timeout=5)
        self.listing.unlink(missing_ok=True)
