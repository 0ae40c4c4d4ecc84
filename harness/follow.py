"""Find the Python processes of a run as they appear, so a profiler that attaches
(Tool.follows_processes) can follow every one of them, wherever it sits in the tree: a
grandchild under a shell, a program a console script exec'd, an orphan whose parent left.

A recording follows the children of the Python process it records, but not a Python that appears
under a process it does not record, nor a process after it exec'd (the sampler's adapter says what
was measured). So a thread here watches the tree and calls `on_python(pid)` for each Python process
that no live recording covers: one whose ancestors are not recorded, or a recorded process that
exec'd.

A forked copy (multiprocessing's fork workers, or a child before its exec) has the image of its
parent and is the parent's recording's to follow; only a process whose image differs from its
parent's is remembered as a Python of its own.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from harness import pycommand

#: Poll fast while the program starts (a short program must not end before it is found),
#: then settle: a pass costs one read of /proc/stat plus a readlink per watched process.
FAST_POLL_S, FAST_FOR_S, POLL_S = 0.002, 1.0, 0.02
#: Longest gap between /proc scans while the host forks and none of it joins the tree.
SCAN_GAP_MAX_S = 0.2
#: The summary names this many Python processes at most (a pool can start thousands).
MAX_LISTED = 20

Attach = Callable[[int], list[subprocess.Popen]]


@dataclass
class PythonSeen:
    """A Python process of the run and who records it (its own pid, an ancestor's, or none)."""

    pid: int
    ppid: int
    cmdline: str
    recorded_by: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Recording:
    image: tuple[str, bytes]
    watchers: list[subprocess.Popen] = field(default_factory=list)

    def alive(self) -> bool:
        return any(w.poll() is None for w in self.watchers)


class PythonFollower:
    """Watches the tree under `root_pid`; `on_python(pid)` starts what records that process."""

    def __init__(self, root_pid: int, on_python: Attach | None) -> None:
        self.root_pid = root_pid
        self._on_python = on_python
        self._parent: dict[int, int] = {root_pid: 0}
        self._image: dict[int, tuple[str, bytes] | None] = {}
        self._recording: dict[int, _Recording] = {}
        self._own_image = pycommand.image(os.getpid())  # a child before its exec looks like us
        self._watchers: list[subprocess.Popen] = []
        self.pythons: dict[int, PythonSeen] = {}
        self._python_pids: set[int] = set()  # live ones, seen as Python of their own
        self._covered_by: dict[int, int] = {}  # a live Python -> the pid whose recording has it
        self.python_count = 0  # every one seen, the short-lived too
        self._forks = -1
        self._next_scan = 0.0
        self._scan_gap = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pipeprof-follow", daemon=True)
        self._thread.start()

    def stop(self) -> list[subprocess.Popen]:
        """Stop watching; every process on_python started."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        return list(self._watchers)

    def listed(self) -> list[dict[str, Any]]:
        """The Python processes seen, first ones first, at most MAX_LISTED."""
        return [p.to_dict() for p in list(self.pythons.values())[:MAX_LISTED]]

    def _run(self) -> None:
        started = time.monotonic()
        while True:
            self.poll_once()
            fast = time.monotonic() - started < FAST_FOR_S and not self._recording
            if self._stop.wait(FAST_POLL_S if fast else POLL_S):
                break

    def poll_once(self) -> None:
        """One pass: find new processes (when anything forked), note execs, attach."""
        with self._lock:
            forks = _fork_count()
            now = time.monotonic()
            if forks != self._forks and now >= self._next_scan:
                self._forks = forks
                # Back off while the host forks and none of it is ours: on a busy machine
                # something forks between every two polls, and listing /proc costs ~2 ms.
                found = self._scan()
                self._scan_gap = 0.0 if found else min(SCAN_GAP_MAX_S, 2 * self._scan_gap + POLL_S)
                self._next_scan = now + self._scan_gap
            for pid in list(self._parent):
                self._look_at(pid)
            for pid, by in list(self._covered_by.items()):
                if pid in self._python_pids and not self._recording[by].alive():
                    self._record(pid)  # its ancestor's recording ended: an orphan goes on

    def _scan(self) -> bool:
        """Add the processes of the tree that appeared since the last scan; whether any did."""
        try:
            live = {int(n) for n in os.listdir("/proc") if n.isdigit()}
        except OSError:
            return False
        for pid in [p for p in self._parent if p not in live]:  # gone: its pid may come back
            self._parent.pop(pid)
            self._image.pop(pid, None)
            self._python_pids.discard(pid)
            self._covered_by.pop(pid, None)
        fresh = {pid: _ppid(pid) for pid in live - self._parent.keys()}
        before = len(self._parent)
        added = True
        while added:  # a child and its parent can both be new
            added = False
            for pid, ppid in list(fresh.items()):
                if ppid in self._parent:
                    self._parent[pid] = ppid
                    del fresh[pid]
                    added = True
        return len(self._parent) > before

    def _look_at(self, pid: int) -> None:
        image = pycommand.image(pid)
        if image is None or image == self._own_image or image == self._image.get(pid):
            return
        previous, self._image[pid] = self._image.get(pid), image
        if previous is None and image == self._image.get(self._parent.get(pid, 0)):
            return  # a forked copy: its parent's recording follows it
        if not pycommand.process_is_python(pid):
            return
        cmdline = image[1].replace(b"\0", b" ").decode(errors="replace").strip()[:160]
        exec_again = pid in self._python_pids  # a Python seen before exec'd another one
        if not exec_again:
            self._python_pids.add(pid)
            self.python_count += 1
            if len(self.pythons) < MAX_LISTED:
                self.pythons[pid] = PythonSeen(pid, self._parent.get(pid, 0), cmdline)
        seen = self.pythons.get(pid) or PythonSeen(pid, self._parent.get(pid, 0), cmdline)
        seen.cmdline = cmdline
        covering = self._covering(pid)
        if covering is not None and not exec_again:
            seen.recorded_by = self._covered_by[pid] = covering
            return
        self._record(pid, image)

    def _record(self, pid: int, image: tuple[str, bytes] | None = None) -> None:
        """Hand `pid` to on_python; its recording covers it (and its children) from now."""
        self._covered_by.pop(pid, None)
        image = image or pycommand.image(pid)
        if self._on_python is None or image is None:  # None: gone since (or a zombie)
            return
        watchers = self._on_python(pid)
        self._watchers.extend(watchers)
        self._recording[pid] = _Recording(image, watchers)
        if watchers and pid in self.pythons:
            self.pythons[pid].recorded_by = pid

    def _covering(self, pid: int) -> int | None:
        """The nearest ancestor whose recording still runs on the image it was started on."""
        ancestor = self._parent.get(pid, 0)
        while ancestor:
            recording = self._recording.get(ancestor)
            if (
                recording is not None
                and recording.alive()
                and self._image.get(ancestor) == recording.image
            ):
                return ancestor
            ancestor = self._parent.get(ancestor, 0)
        return None


def _fork_count() -> int:
    """The last pid the kernel handed out (/proc/loadavg's last field): a scan is needed only
    when it moved. One small read, where /proc/stat (which counts forks) prints every
    interrupt's count and took 16 us a read here, a third of the follower's cost."""
    try:
        with open("/proc/loadavg", "rb") as f:
            return int(f.read().rsplit(None, 1)[-1])
    except (OSError, ValueError, IndexError):
        return -1


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
        return int(raw[raw.rindex(b")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return -1
