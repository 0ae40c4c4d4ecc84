"""The tree's CPU and I/O totals from exact counters: every process seen in the window, also
those that exited, and children too short-lived to be seen, from their parents' reaped-children
counters."""

from __future__ import annotations

from harness.monitor.procfs import CLK_TCK
from harness.monitor.records import ProcessRecord


def _vanished_by_parent(procs: list[ProcessRecord]) -> dict[int, list[ProcessRecord]]:
    """Processes that vanished (were reaped), by parent pid."""
    by_ppid: dict[int, list[ProcessRecord]] = {}
    for c in procs:
        if c.vanished_at is not None:
            by_ppid.setdefault(c.ppid, []).append(c)
    return by_ppid


def _reaped_into(
    parent: ProcessRecord, vanished: dict[int, list[ProcessRecord]], at: float
) -> list[ProcessRecord]:
    """Children of `parent` that vanished (were reaped) before `parent` was last read at `at`."""
    return [
        c
        for c in vanished.get(parent.pid, [])
        if c is not parent
        and c.vanished_at is not None
        and c.vanished_at <= at
        and c.starttime >= parent.starttime
    ]


def cpu_seconds(procs: list[ProcessRecord], on_cpu_s: dict[int, float]) -> tuple[float, float]:
    """(user, sys) seconds of the tree.

    Each counted process counts the larger of its tick counters and its threads' schedstat
    on-CPU time (`on_cpu_s`, by id of the record): schedstat is read at every pass while a
    thread runs, process stat only every SLOW_REFRESH_S, so for a process that exits the
    schedstat figure is the fresher one. The excess is split like its ticks.
    Then parents' reaped-children counters add what they hold beyond the children we counted:
    children's CPU after our last look at them, and children too short-lived to be seen.
    """
    vanished = _vanished_by_parent(procs)
    user = sys_ = 0.0
    counted: dict[int, float] = {}  # id(record) -> its own seconds, as counted (or not)
    for p in procs:
        own_u = (p.utime - p.base_utime) / CLK_TCK
        own_s = (p.stime - p.base_stime) / CLK_TCK
        extra = 0.0 if p.excluded else max(0.0, on_cpu_s.get(id(p), 0.0) - own_u - own_s)
        user_frac = own_u / (own_u + own_s) if own_u + own_s > 0 else 1.0
        counted[id(p)] = own_u + own_s + extra
        if not p.excluded:
            user += own_u + extra * user_frac
            sys_ += own_s + extra * (1.0 - user_frac)
    for p in procs:
        d_user = (p.cutime - p.base_cutime) / CLK_TCK
        d_sys = (p.cstime - p.base_cstime) / CLK_TCK
        if d_user + d_sys <= 0:
            continue
        # The kernel folds a reaped child's whole life (and its own reaped children) in.
        folded = sum(
            counted[id(c)] + (c.base_utime + c.base_stime + c.cutime + c.cstime) / CLK_TCK
            for c in _reaped_into(p, vanished, p.last_read)
        )
        rest = d_user + d_sys - folded
        if rest > 0:
            user += rest * d_user / (d_user + d_sys)
            sys_ += rest * d_sys / (d_user + d_sys)
    return user, sys_


def io_totals(procs: list[ProcessRecord]) -> dict[str, int]:
    """I/O of the tree. The kernel adds a reaped child's I/O to its parent's counters, so a
    parent's figures are net of the children we saw (they count on their own)."""
    vanished = _vanished_by_parent(procs)
    total = [0, 0, 0, 0]
    for p in procs:
        if p.excluded or p.io is None or p.base_io is None:
            continue
        own = [now - base for now, base in zip(p.io, p.base_io, strict=True)]
        for c in _reaped_into(p, vanished, p.io_read_at):
            if c.io is not None:
                own = [v - cv for v, cv in zip(own, c.io, strict=True)]
        total = [t + max(0, v) for t, v in zip(total, own, strict=True)]
    keys = ("read_bytes", "write_bytes", "read_chars", "write_chars")
    return dict(zip(keys, total, strict=True))
