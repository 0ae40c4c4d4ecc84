"""The public Monitor: start a sampling thread over a process tree, stop it, get a report."""

from __future__ import annotations

import os
import threading
import time

from harness.errors import HarnessError
from harness.monitor import procfs
from harness.monitor.report import MonitorReport, build_report
from harness.monitor.sampler import Sampler


def _perf_figures(sampler: Sampler) -> dict[str, object]:
    """How the kernel's own sampling went: its samples of our threads, lost ones, or why not."""
    ks = sampler.kernel_sampler
    if ks is None:
        return {"perf_samples": 0, "perf_problem": "turned off (PIPEPROF_PERF=0)"}
    return {"perf_samples": ks.samples, "perf_lost": ks.lost, "perf_problem": ks.problem}


class Monitor:
    """Measures where the time of the process tree rooted at `root_pid` goes.

    Runs a daemon thread in this process that samples every `interval_s`; processes whose
    name is in `exclude_names` (e.g. the profiler's own process), the root itself if
    `exclude_root` (a tool's launcher that runs the program as its child) and this process are
    followed to find their children but not counted: not in the split, cpu, io or memory.
    """

    def __init__(
        self,
        root_pid: int,
        interval_s: float = 0.01,
        exclude_names: frozenset[str] = frozenset(),
        exclude_root: bool = False,
    ) -> None:
        if interval_s <= 0:
            raise HarnessError(f"monitor interval must be positive, got {interval_s}")
        self.root_pid = root_pid
        self.interval_s = interval_s
        self._sampler = Sampler(
            root_pid, interval_s, frozenset(exclude_names), os.getpid(), exclude_root
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_cpu_s = 0.0
        self._caller_cpu_s = 0.0
        self._started_at = 0.0
        self._report: MonitorReport | None = None

    def start(self) -> None:
        """Begin the window now and start sampling in a daemon thread."""
        if self._thread is not None:
            raise HarnessError("Monitor.start() called twice")
        c0 = time.thread_time()
        self._started_at = procfs.boottime()
        self._sampler.begin()
        self._caller_cpu_s += time.thread_time() - c0
        self._thread = threading.Thread(target=self._run, name="pipeprof-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        c0 = time.thread_time()
        try:
            self._sampler.run(self._stop)
        finally:
            self._thread_cpu_s = time.thread_time() - c0

    def stop(self) -> MonitorReport:
        """Read the counters one last time, stop the thread and return the report (idempotent)."""
        if self._report is not None:
            return self._report
        if self._thread is None:
            raise HarnessError("Monitor.stop() called before start()")
        self._stop.set()
        self._thread.join()
        c0 = time.thread_time()
        s = self._sampler
        s.finish()
        wall = s.window_end - self._started_at
        cpu_before_report = self._caller_cpu_s + time.thread_time() - c0
        self._report = build_report(
            procs=s.population.procs,
            wall_s=wall,
            interval_s=self.interval_s,
            samples=s.samples,
            threads_seen=s.population.threads_seen,
            peak_tree_rss_pages=s.peak_tree_rss_pages,
            syscalls=s.blocked.syscalls,
            wchans=s.blocked.wchans,
            delayacct=s.delayacct,
            monitor_cpu_s=self._thread_cpu_s + cpu_before_report,
            errors=s.errors,
            stacks_read=s.stacks_read,
            stacks_readable=s.stacks,
            perf=_perf_figures(s),
        )
        return self._report

    def adopt(self, pid: int) -> None:
        """Count `pid` and its descendants in the tree from the next slow pass on, though its
        parent is not in it (an orphan of the run re-parented to the harness)."""
        self._sampler.adopted.append(pid)

    def snapshot(self) -> dict[str, float | int]:
        """Live figures for a progress display: elapsed_s, cores (over the last ~1 s),
        rss_mb, threads, processes. Cheap: a copy of what the sampler last published."""
        return dict(self._sampler.snapshot.figures)
