"""Each thread's time in the window, exact where counters allow and apportioned where not.

Its on-CPU and run-queue time come from schedstat; its off-CPU time (lifetime - on-CPU -
run-queue) is apportioned across categories by the fractions of its blocked samples. Its lock
samples are told apart by the futex word and what its siblings did meanwhile (contention, a
chain, a hand-off, a wait of its own), and a thread that only waits on the others is parked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness.monitor.classify import IDLE_WAITS, LOCK, OTHER
from harness.monitor.records import ProcessRecord, ThreadRecord

# A parked thread waits on the others: it is all but never blocked on anything but a lock, a
# pipe/unix socket or a child, and from its first such wait, which comes after at most a short
# start-up, it is (almost) never on CPU.
PARKED_MAX_ON_CPU = 0.02
PARKED_MIN_IDLE_SHARE = 0.95
PARKED_MIN_SAMPLES = 3
PARKED_MIN_WAITING_SHARE = 0.90


@dataclass
class ThreadTimes:
    """One thread's exact times and its apportioned off-CPU time, in seconds.

    `off_s` holds lock waits that were contention (`lock_contended_s`: for a lock held by a
    running sibling, in CPython mostly the GIL; `lock_chain_s`: for a lock whose holder itself
    waited, by what it waited on) or a thread's wait on a lock of its own for another's result
    (`lock_own_s`); hand-offs are credited to what the siblings waited on (see lock_split).
    """

    record: ThreadRecord
    lifetime_s: float
    on_cpu_s: float
    cpu_wait_s: float
    off_s: dict[str, float]  # category -> seconds
    parked: bool = False
    lock_contended_s: float = 0.0
    lock_chain_s: dict[str, float] = field(default_factory=dict)
    lock_own_s: float = 0.0

    @property
    def top_category(self) -> str:
        """Where most of its time went (on_cpu, cpu_wait or a wait category)."""
        options = {"on_cpu": self.on_cpu_s, "cpu_wait": self.cpu_wait_s, **self.off_s}
        return max(options, key=lambda k: options[k])


@dataclass
class LockSplit:
    """A thread's lock samples by what they were (see lock_split)."""

    contended: int = 0
    chain: Counter[str] = field(default_factory=Counter)
    handoff: Counter[str] = field(default_factory=Counter)
    own: int = 0


def shared_lock_words(procs: list[ProcessRecord]) -> frozenset[tuple[int, bytes]]:
    """(pid, futex word) pairs that two or more threads of the process waited on: locks they
    contend for (CPython's threads all wait for the GIL on the same words), as opposed to a
    word only one thread waits on (a future's result, a queue, join)."""
    waiters: dict[tuple[int, bytes], set[int]] = {}
    for p in procs:
        for th in p.all_threads():
            for word, _ in th.lock_ctx:
                waiters.setdefault((p.pid, word), set()).add(th.tid)
    return frozenset(key for key, tids in waiters.items() if len(tids) > 1)


def lock_split(th: ThreadRecord, shared: frozenset[tuple[int, bytes]]) -> LockSplit:
    """What its lock samples were, from the word and what the siblings did meanwhile.

    With a sibling running, on a word others waited on too: contention for a lock a running
    thread holds (the GIL, or a lock held while computing). With every sibling waiting and two
    or more threads queued on the word at once: a chain, the lock's holder waiting too, on what
    the siblings waited on. Measured here, 4 threads taking turns on a lock held across a 2 ms
    sleep: 1,178 futex samples against 285 in clock_nanosleep; crediting the futex waits to the
    sleep called it sleep-bound, while only the lock serialises them. With every sibling
    waiting and it alone on the word: a hand-off, credited to what the siblings waited on (a
    consumer blocked on a queue that an event-loop thread fills from the network waits on the
    network: on ingest_api, asyncio x16, counting it as lock gave lock 46% / network 43%, mixed,
    for a latency-bound client; an idle pool worker waits on the one that works). Else its own
    wait for another's result (a future, join).
    """
    out = LockSplit()
    for (word, context), n in th.lock_ctx.items():
        if context.startswith("chain:"):
            out.chain[context[6:] or OTHER] += n
        elif context == "running":
            if (th.pid, word) in shared:
                out.contended += n
            else:
                out.own += n
        elif context:
            out.handoff[context] += n
        else:
            out.own += n
    return out


def thread_times(
    th: ThreadRecord, shared: frozenset[tuple[int, bytes]] = frozenset()
) -> ThreadTimes:
    """Exact on/wait from schedstat; the rest of its observed life split by blocked samples."""
    on = max(0, th.on_ns - th.base_on_ns) / 1e9
    wait = max(0, th.wait_ns - th.base_wait_ns) / 1e9
    lifetime = max(th.last_seen - th.life_start, on + wait)
    off = lifetime - on - wait
    if not th.blocked:
        return ThreadTimes(th, lifetime, on, wait, {OTHER: off} if off > 0 else {})
    per_sample = off / th.blocked
    locks = lock_split(th, shared)
    counts = Counter(th.counts)
    for category, n in locks.handoff.items():
        counts[LOCK] -= n
        counts[category] += n
    off_s = {cat: per_sample * n for cat, n in counts.items() if n > 0}
    return ThreadTimes(
        th,
        lifetime,
        on,
        wait,
        off_s,
        lock_contended_s=per_sample * locks.contended,
        lock_chain_s={k: per_sample * n for k, n in locks.chain.items()},
        lock_own_s=per_sample * locks.own,
    )


def is_parked(tt: ThreadTimes) -> bool:
    """True for a thread that only waits on others (see report.MonitorReport)."""
    th = tt.record
    if th.blocked < PARKED_MIN_SAMPLES or tt.lifetime_s <= 0:
        return False
    idle = sum(th.counts[c] for c in IDLE_WAITS)
    if idle < PARKED_MIN_IDLE_SHARE * th.blocked:
        return False
    waiting_s, cpu_s = waiting_phase(tt)
    return (
        waiting_s >= PARKED_MIN_WAITING_SHARE * tt.lifetime_s
        and cpu_s < PARKED_MAX_ON_CPU * tt.lifetime_s
    )


def waiting_phase(tt: ThreadTimes) -> tuple[float, float]:
    """(seconds, on-CPU seconds) of its life from its first sampled wait on another thread or
    process (its whole life if there was none).

    A pool parent's main thread starts the interpreter and the pool (~80 ms on CPU), then only
    waits: that start-up says nothing of whether it is parked. But a worker first sampled
    waiting when its work is done has a waiting phase that is a sliver of its life.
    """
    th = tt.record
    if th.idle_from_ns < 0:
        return tt.lifetime_s, tt.on_cpu_s
    waiting_s = min(tt.lifetime_s, max(0.0, th.last_seen - th.idle_since))
    return waiting_s, min(tt.on_cpu_s, max(0, th.on_ns - th.idle_from_ns) / 1e9)
