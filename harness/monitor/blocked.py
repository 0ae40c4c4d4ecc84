"""What a blocked sample is: the category of a thread's wait, and what a futex wait waited for.

classify.py names the category of a syscall line; this adds what the thread's history and state
say. A restart_syscall resumes the wait its previous sample saw; the state letter (stat, read
only when the syscall does not classify the sample) tells storage or a stop; a memo of the last
classified line lets the next samples of the same wait skip classification. Each sample counts
by category, by (category, syscall family) and by syscall name (`syscalls`), and an
unclassified one by where the thread sleeps in the kernel (`wchans`).
"""

from __future__ import annotations

from collections import Counter

from harness.monitor import families, procfs
from harness.monitor.classify import (
    IDLE_WAITS,
    LOCK,
    OTHER,
    RESTART,
    STOPPED,
    classify,
    depends_on_fds,
    restarted_call,
    syscall_names,
    waits_on_arg0_fd,
)
from harness.monitor.fds import EPOLL_TTL_S, FdResolver
from harness.monitor.population import GONE, thread_gone
from harness.monitor.records import ProcessRecord, ThreadRecord

# A memo's fd slot when no fd decided: the syscall name did (any line with its number will do),
# or a waited set did (the same line will do, until a time).
_ANY = -1
_UNTIL = -2


class BlockedSamples:
    """Classifies and counts the blocked samples of the tree's threads; owns the FdResolver."""

    def __init__(self, budget: procfs.FdBudget) -> None:
        self.fds = FdResolver(budget)
        self._names = syscall_names()
        self.syscalls: Counter[str] = Counter()
        self.wchans: Counter[str] = Counter()

    def close(self) -> None:
        """Release the files the FdResolver holds."""
        self.fds.close()

    def add(self, proc: ProcessRecord, th: ThreadRecord, raw: bytes, now: float) -> str | None:
        """Count one blocked sample of `th`, whose syscall file read `raw`: its category, or
        None when there is none to count (the line does not parse, or the thread is gone)."""
        memo = th.memo
        if (
            memo is not None
            and raw.startswith(memo[0])
            and (memo[3] == -1 or self._memo_holds(proc.pid, memo, now))  # -1: _ANY
        ):
            category, label, family = memo[1], memo[2], memo[6]
        else:
            try:
                info = procfs.parse_syscall(raw)
            except ValueError:
                return None
            if info is None:
                return None
            name = self._names.get(info.nr) if info.nr >= 0 else None
            label = name or ("none" if info.nr < 0 else f"syscall_{info.nr}")
            state = "S"
            if name == RESTART:
                # A timed wait resumed after a stop (a profiler's ptrace, SIGSTOP): it is still
                # the wait its previous sample saw, most likely. A thread whose wait began
                # under a profiler may never be seen in it: then where it sleeps says.
                category = th.last_category or self._restarted(proc, th, info)
            else:
                category = classify(state, name, info, proc.pid, self.fds)
            if category == OTHER:
                # The syscall does not say: the state may (D: storage, T/t: stopped, Z: gone).
                # A thread stopped while in a syscall that does classify keeps that category.
                sraw = th.stat.read()
                try:
                    state = procfs.stat_state(sraw) if sraw else "Z"
                except (ValueError, IndexError):
                    state = "S"
                if state in GONE:
                    thread_gone(proc, th)
                    return None
                if state != "S":
                    category = classify(state, name, info, proc.pid, self.fds)
                if category == OTHER:
                    self.wchans[self._wchan(proc.pid, th.tid) or "?"] += 1
            if category != STOPPED and (name != RESTART or category != OTHER):
                th.last_category = category
            if th.idle_from_ns < 0 and category in IDLE_WAITS:
                self._mark_idle(th, now)
            # Blocked outside any syscall (nr -1) is a page fault: in state D, a major one.
            family = families.MEMORY if info.nr < 0 else families.family_of(name, category)
            th.memo = self._memo(proc.pid, raw, info, name, state, category, label, family, now)
        th.counts[category] += 1
        th.families[(category, family)] += 1
        th.blocked += 1
        self.syscalls[label] += 1
        return category

    def _mark_idle(self, th: ThreadRecord, now: float) -> None:
        """Its first wait on another thread or process (a memo only repeats categories first
        found here): keep when, and its CPU time then, read now to be exact, so that start-up
        work does not keep it from parking."""
        sraw = th.sched.read()
        if sraw is not None:
            th.on_ns, th.wait_ns, th.slices = procfs.parse_schedstat(sraw)
        th.idle_since = now
        th.idle_from_ns = th.on_ns

    def _memo_holds(
        self, pid: int, memo: tuple[bytes, str, str, int, str | None, float, str], now: float
    ) -> bool:
        """Whether a memo that depends on an fd, or on a waited set, still holds."""
        if memo[3] == _UNTIL:
            return now < memo[5]
        return self.fds.fd_kind(pid, memo[3]) == memo[4]

    def _restarted(self, proc: ProcessRecord, th: ThreadRecord, info: procfs.SyscallInfo) -> str:
        """The category of a restart_syscall sample from the call it resumes (with that call's
        arguments, which the line still shows), or OTHER."""
        name = restarted_call(self._wchan(proc.pid, th.tid))
        return classify("S", name, info, proc.pid, self.fds) if name else OTHER

    def _wchan(self, pid: int, tid: int) -> str:
        """Where in the kernel a thread sleeps ("" if gone)."""
        return procfs.read_text(f"/proc/{pid}/task/{tid}/wchan") or ""

    def _memo(
        self,
        pid: int,
        raw: bytes,
        info: procfs.SyscallInfo,
        name: str | None,
        state: str,
        category: str,
        label: str,
        family: str,
        now: float,
    ) -> tuple[bytes, str, str, int, str | None, float, str] | None:
        """What lets the next samples skip classification: if the name decided, any line with
        the same syscall number; if the kind of the fd in arg0 did, the same number and fd,
        while that fd keeps its kind. For poll/select/epoll, the very same line (the same call,
        still waiting) for EPOLL_TTL_S: an epoll set can change during the call, and is re-read
        no more often anyway. None for restart_syscall (the thread's history decided) and when
        the state letter decided."""
        if state != "S" or info.nr < 0 or name == RESTART:
            return None
        nr, _, rest = raw.partition(b" ")
        if not depends_on_fds(name):
            return (nr + b" ", category, label, _ANY, None, 0.0, family)
        if waits_on_arg0_fd(name):
            fd = info.arg(0)
            key = nr + b" " + rest.partition(b" ")[0] + b" "
            return (key, category, label, fd, self.fds.fd_kind(pid, fd), 0.0, family)
        return (raw, category, label, _UNTIL, None, now + EPOLL_TTL_S, family)


def note_lock_context(
    proc: ProcessRecord,
    waits: list[tuple[ThreadRecord, str, bytes]],
    running_any: bool,
    everyone: bool,
) -> None:
    """For each futex wait, keep its word (the syscall's first argument) and what the rest
    of the process did meanwhile: "running" when a sibling ran; else what the siblings
    waited in, marked "chain:" when two or more threads waited on that word at once.

    threadtimes.py tells from these what the wait was: contention for a lock held by a running
    thread (in CPython, mostly the GIL), a chain (threads queued on a lock whose holder
    sleeps or waits on the disk while holding it), or a hand-off (one thread waiting for
    another's result: a consumer blocked on a queue that an event-loop thread fills from
    the network waits, in effect, on the network; an idle pool worker waits on the one that
    works). Siblings not sampled in this pass count with their last sample.
    """
    # proc.running counts threads whose last sample ran; none of this pass's waiters do.
    if running_any or (not everyone and proc.running > 0):  # the common case: keep it cheap
        for th, category, raw in waits:
            if category == LOCK:
                th.lock_ctx[(_word(raw), "running")] += 1
        return
    fresh = {th.tid for th, _, _ in waits}
    others = Counter(c for _, c, _ in waits if c not in (LOCK, STOPPED, OTHER))
    if not everyone:
        others.update(
            t.last_category
            for t in proc.threads.values()
            if t.tid not in fresh and t.last_category not in (None, LOCK, STOPPED, OTHER)
        )
    context = max(others, key=others.__getitem__) if others else ""
    words = [(th, _word(raw)) for th, category, raw in waits if category == LOCK]
    queued = Counter(word for _, word in words)
    for th, word in words:
        th.lock_ctx[(word, "chain:" + context if queued[word] > 1 else context)] += 1


def _word(raw: bytes) -> bytes:
    """The futex word a wait is on: the syscall line's first argument."""
    parts = raw.split(b" ", 2)
    return parts[1] if len(parts) > 1 else b"?"
