"""Is a figure worse than its baseline, beyond the limit and beyond the noise?

With one run a side a figure fails when it moved past the limit the worse way. With two runs or
more a side it must also be clear of the noise: the changed program's best run must be worse
than the baseline's median run, and worse than the baseline's best run by the limit (twice the
limit for CPU time). The best of several runs is the least disturbed one (on a loaded machine
CPU time only grows), and still CPU time drifts with the machine's load: measured here (2 cores
shared with other test suites, `harness run --tool none` five times, twice, 20 s apart, one
program of 0.2 s CPU), the best run moved by 8% and the median by 8% between the two sets; the
same program doing 20% more work moved them by 17-18%. Resampling twenty runs of a 0.2 s program
(85-138 us per item) into sets of five, 20,000 times, against the same runs scaled by 1.2: this
rule called the same program worse 1.3% of the time and the heavier one 89%; the limit on
medians alone called the same program worse 23% of the time. With ten runs of a ~0.7 s program
(80-96 us per item) and ten of it doing 20% more work, it made no false call and caught every
heavier set: give the gate runs of a second or more, and alternate baseline and changed runs
where you can: two sets of five runs of one ~0.9 s program taken one after the other here had
medians 12% apart, taken in alternation 0.1-1.1% (tests/gate/test_check_command.py).

Changes: CPU per item and peak RSS relative to the baseline; user and system CPU per item each
relative to the baseline's whole CPU per item (so a small system time doubling is not a
regression of the program); cause shares in percentage points; items/s relative, a drop.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.gate.figures import CPU, RSS, SYS, THROUGHPUT, USER, Figure, RunFigures, share_figure
from harness.stats import Spread, spread


@dataclass(frozen=True)
class Limits:
    """How much worse a figure may get: fractions (0.05 is 5%), shares in share points."""

    cpu: float = 0.05
    rss: float = 0.10
    share_points: float = 0.10
    throughput: float | None = None  # None: items/s is shown, not judged


@dataclass
class Judgement:
    figure: Figure
    base: Spread
    head: Spread
    change: float  # relative, or share points for a share
    limit: float | None
    failed: bool
    why: str = ""  # when a figure past its limit still passes, or is not judged


def judge(base: list[RunFigures], head: list[RunFigures], limits: Limits) -> list[Judgement]:
    """One judgement per figure both sides have, CPU first, shares last."""
    keys = [CPU.key, USER.key, SYS.key, RSS.key, THROUGHPUT.key]
    families = sorted({k for run in (*base, *head) for k in run.values if k.startswith("share:")})
    figures = {f.key: f for f in (CPU, USER, SYS, RSS, THROUGHPUT)}
    figures.update({k: share_figure(k.split(":", 1)[1]) for k in families})
    cpu_base = spread([r.values.get(CPU.key) for r in base])
    found = []
    for key in [*keys, *families]:
        b = spread([r.values.get(key) for r in base])
        h = spread([r.values.get(key) for r in head])
        if b is None or h is None:
            continue
        found.append(_judge_one(figures[key], b, h, limits, cpu_base))
    return found


def _judge_one(
    figure: Figure, b: Spread, h: Spread, limits: Limits, cpu_base: Spread | None
) -> Judgement:
    if figure.unit == "share":
        scale, limit = 1.0, limits.share_points
    elif figure in (USER, SYS):
        scale, limit = cpu_base.median if cpu_base else 0.0, limits.cpu
    else:
        scale = b.median
        limit = {CPU.key: limits.cpu, RSS.key: limits.rss}.get(figure.key, limits.throughput)
    change = (h.median - b.median) / scale if scale else 0.0
    if limit is None:
        return Judgement(figure, b, h, change, None, False, "shown, not judged (wall-clock)")
    worse = change if figure.higher_is_worse else -change
    if worse <= limit:
        return Judgement(figure, b, h, change, limit, False)
    if b.n < 2 or h.n < 2:
        return Judgement(figure, b, h, change, limit, True, "single run: judged on the limit")
    if not _clear_of_noise(figure, b, h, limit, scale):
        return Judgement(figure, b, h, change, limit, False, "past the limit, within the noise")
    return Judgement(figure, b, h, change, limit, True)


def _clear_of_noise(figure: Figure, b: Spread, h: Spread, limit: float, scale: float) -> bool:
    """The changed runs' best beyond the baseline's median and past the limit from the
    baseline's best (twice the limit for CPU time, which drifts with the machine's load; best:
    the lowest of a figure where higher is worse)."""
    if figure.higher_is_worse:
        moved, beyond_typical = h.minimum - b.minimum, h.minimum > b.median
    else:
        moved, beyond_typical = b.maximum - h.maximum, h.maximum < b.median
    margin = 2 * limit if figure in (CPU, USER, SYS) else limit
    return beyond_typical and scale > 0 and moved / scale > margin
