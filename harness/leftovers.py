"""What the runner does with the processes of a run once it ends or is stopped.

- Stopped (timeout, Ctrl-C, SIGTERM): SIGINT to the target's group and to every process of the
  run outside it, SIGKILL to whatever still runs after the grace period.
- Ended by itself: the rest of the run gets a moment to end too (pool workers leave after
  their parent); what still runs then is a leftover, listed in the summary. A failed run's
  leftovers are stopped; an ok run's too unless --keep-leftovers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.descendants import Descendants, Tracked, boot_ticks

if TYPE_CHECKING:
    from harness.monitor import Monitor

SETTLE_S = 2.0  # a pool's workers leave within this of their parent here (the old group wait)
KILL_WAIT_S = 5.0
POLL_S = 0.05


@dataclass
class Stopped:
    """How a stop went: `graceful` if everything ended within the grace period."""

    graceful: bool = True
    outside_group: list[Tracked] = field(default_factory=list)
    killed: list[Tracked] = field(default_factory=list)


def _killpg(pgid: int, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _root_exited(proc: subprocess.Popen) -> bool:
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return proc.poll() is not None


def exited_ok(proc: subprocess.Popen) -> bool:
    """Whether the target exited with status 0, read without reaping it."""
    if proc.returncode is not None:
        return proc.returncode == 0
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return proc.poll() == 0
    return info is not None and info.si_code == os.CLD_EXITED and info.si_status == 0


def _wait(until: Callable[[], bool], seconds: float, tracker: Descendants) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        tracker.scan()
        if until():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)


def stop_run(
    proc: subprocess.Popen, tracker: Descendants, grace_s: float, first: int = signal.SIGINT
) -> Stopped:
    """Stop the target and every process of the run: `first` (SIGINT: profilers and the target
    flush on it) to the target's group and to each process outside it, SIGKILL after
    `grace_s`. The target is left unreaped (a zombie) for the caller."""
    tracker.scan(full=True)
    pgid, outcome = proc.pid, Stopped()
    signalled: set[Tracked] = set()

    def signal_outsiders(sig: int) -> None:
        for t in tracker.alive():
            if t not in signalled and tracker.pgid(t) != pgid and tracker.send(t, sig):
                signalled.add(t)
                if t not in outcome.outside_group:
                    outcome.outside_group.append(t)

    _killpg(pgid, first)
    signal_outsiders(first)

    def all_ended() -> bool:
        signal_outsiders(first)  # processes forked since the first signal get it too
        return _root_exited(proc) and not tracker.alive()

    outcome.graceful = _wait(all_ended, grace_s, tracker)
    if not outcome.graceful:
        outcome.killed = kill_all(proc, tracker)
    return outcome


def kill_all(proc: subprocess.Popen, tracker: Descendants) -> list[Tracked]:
    """SIGKILL the target's group and every process of the run until none is left."""
    killed: list[Tracked] = []

    def gone() -> bool:
        _killpg(proc.pid, signal.SIGKILL)
        for t in tracker.alive(include_root=True):
            if tracker.send(t, signal.SIGKILL) and t not in killed:
                killed.append(t)
        return _root_exited(proc) and not tracker.alive()

    _wait(gone, KILL_WAIT_S, tracker)
    return killed


def settle(tracker: Descendants, seconds: float = SETTLE_S) -> list[Tracked]:
    """After the target exited by itself: what of the run still runs `seconds` later."""
    _wait(lambda: not tracker.alive(), seconds, tracker)
    tracker.scan(full=True)
    return tracker.alive()


def end(tracker: Descendants, leftovers: list[Tracked], grace_s: float) -> dict[Tracked, str]:
    """SIGINT every process of the run still running (the leftovers, and whatever they start
    or orphan meanwhile), SIGKILL what runs after `grace_s`; how each leftover ended."""
    how = {t: "exited" for t in leftovers}
    interrupted: set[Tracked] = set()

    def sweep(sig: int) -> bool:
        for t in tracker.alive():
            if (sig == signal.SIGKILL or t not in interrupted) and tracker.send(t, sig):
                interrupted.add(t)
                if t in how:
                    how[t] = signal.Signals(sig).name
        return not tracker.alive()

    if not _wait(lambda: sweep(signal.SIGINT), grace_s, tracker):
        _wait(lambda: sweep(signal.SIGKILL), KILL_WAIT_S, tracker)
    return how


def describe(leftovers: list[Tracked], how: dict[Tracked, str] | None, kept: bool) -> list[dict]:
    """The summary's `leftovers`: pid, command line, seconds it had run, and what became of it."""
    now = boot_ticks()
    rows: list[dict[str, Any]] = []
    for t in leftovers:
        ended = "kept" if kept else (how or {}).get(t, "exited")
        rows.append(
            {
                "pid": t.pid,
                "cmdline": t.cmdline,
                "running_s": round(t.running_s(now), 1),
                "ended_by": ended,
            }
        )
    return rows


def lines(leftovers: list[dict[str, Any]]) -> list[str]:
    """One terminal line per leftover (plain text: the caller styles it)."""
    out = []
    for row in leftovers:
        pid, cmdline = row.get("pid"), row.get("cmdline") or "?"
        what = f"pid {pid} ({cmdline}), running {row.get('running_s')} s"
        ended = row.get("ended_by")
        if ended == "kept":
            out.append(f"{what}: kept (--keep-leftovers); end it with kill {pid}")
        elif ended in ("SIGINT", "SIGKILL"):
            out.append(f"{what}: ended with {ended}")
        else:
            out.append(f"{what}: ended by itself")
    return out


def stop_all(proc: subprocess.Popen, tracker: Descendants, grace_s: float) -> list[str]:
    """Timeout or interrupt: stop every process of the run, whatever its group; the problem
    lines for the summary."""
    stopped = stop_run(proc, tracker, grace_s)
    problems = []
    if not stopped.graceful:
        problems.append(
            f"the target did not stop within {grace_s:g} s of SIGINT and was killed: "
            "its profile may be partial"
        )
    outside = note(stopped)
    return [*problems, outside] if outside else problems


def after_exit(
    proc: subprocess.Popen, tracker: Descendants, grace_s: float, keep: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """The target ended by itself: the summary's leftovers and problem lines. They are ended
    unless `keep` (a failed run's leftovers are ended all the same)."""
    left = settle(tracker)
    if not left:
        return [], []
    keep = keep and exited_ok(proc)
    how = None if keep else end(tracker, left, grace_s)
    what = "kept (--keep-leftovers)" if keep else "ended"
    return describe(left, how, kept=keep), [
        f"{len(left)} process(es) of the run outlived it: {what}, see leftovers"
    ]


def show_adopted(monitor: Monitor, joined: list[Tracked]) -> None:
    """Hand the monitor the orphans re-parented to the harness: its tree follows parent links
    from the target, so a double-forked daemon whose middle process lived less than its scan
    period (0.1 s) would be out of its sight."""
    for tracked in joined:
        if tracked.adopted:
            monitor.adopt(tracked.pid)


def note(stopped: Stopped) -> str | None:
    """A problem line when the stop reached processes that had left the target's group."""
    if not stopped.outside_group:
        return None
    shown = ", ".join(f"{t.pid} ({t.cmdline[:60]})" for t in stopped.outside_group[:5])
    more = len(stopped.outside_group) - 5
    return (
        f"{len(stopped.outside_group)} process(es) of the run had left its process group "
        f"and were stopped too: {shown}" + (f" and {more} more" if more > 0 else "")
    )
