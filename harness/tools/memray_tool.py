"""memray: peak heap, allocation totals and the biggest allocation sites, with a flame graph.

The capture keeps every allocation (no `--aggregate`): `memray stats` refuses pre-aggregated
captures, and without `--trace-python-allocators` memray records pymalloc arenas rather than each
small object, so a full capture stays small (35 KB for 10 s of JSON churn here, lz4-compressed on
exit). `--follow-fork` writes one more capture per forked child, `memray.bin.<pid>`; children
started with spawn / forkserver or that exec are not followed. No `--force`: a run directory is
never reused, and memray refusing to overwrite a capture is the check that it was not.

`harness attach` injects the same tracker into a running process (`memray attach`, through gdb
or lldb, which stop the process for about a second while they inject) and ends it with
`memray detach` when the window closes; the capture is then complete (0.7 s here).

Reports are rendered after the run from the capture files, by the harness's own interpreter
(memray is one of its dependencies). `memray flamegraph` loads its scripts from a CDN unless given
`--no-web`, which inlines them (about 4.5 MB per page), so the flame graphs open offline. A capture
cut short by SIGKILL still renders; its header then ends when it starts, which we report for the
main process (multiprocessing children always end that way: they leave through `os._exit`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness import pycommand
from harness.tools import access
from harness.tools.base import LaunchContext, Option, Tool, ToolResult, Truth, missing_module, view

CAPTURE = "memray.bin"
ATTACH_LOG = "memray-attach.log"
INJECT_TIMEOUT_S = 60.0
FLAMEGRAPH = "memray-flamegraph.html"
STATS = "memray-stats.json"
TOP_N = 10
#: Forked children get their own flame graph up to this many (largest captures first).
MAX_CHILD_FLAMEGRAPHS = 8
RENDER_TIMEOUT_S = 300.0
_NOT_STARTED = "memray stopped before it started recording"
MB = 1024 * 1024
_HINTS = {
    "No module named memray": "memray is not installed in the target's interpreter: "
    "pip install memray",
    "already exists": f"{CAPTURE} already exists: memray needs a fresh run directory",
    "Could not create output file": "memray could not create its capture: check that the run "
    "directory exists and is writable",
}


def stats_command(python: str, capture: Path, output: Path) -> list[str]:
    """`memray stats` writing totals, peak and the top allocation sites as JSON."""
    return [
        python, "-m", "memray", "stats", "--json", "-n", str(TOP_N), "-f", "-o", str(output),
        str(capture),
    ]  # fmt: skip


def flamegraph_command(python: str, capture: Path, output: Path) -> list[str]:
    """`memray flamegraph` with its assets inlined (`--no-web`), so the page works offline."""
    return [python, "-m", "memray", "flamegraph", "--no-web", "-f", "-o", str(output), str(capture)]


def _why_missing(run_dir: Path) -> str:
    """Why memray wrote no capture: an attached target's own Python could not import memray
    (its tracker runs inside the target), else the general reason, with the log to read."""
    try:
        log = (run_dir / ATTACH_LOG).read_text(errors="replace")
    except OSError:
        return _NOT_STARTED
    if "No module named 'memray'" in log:
        return (
            "the process's own Python cannot import memray (its tracker runs inside the "
            "process): install memray in that Python, or use --tool py-spy"
        )
    return f"{_NOT_STARTED} (see {ATTACH_LOG})"


class Memray(Tool):
    name = "memray"
    description = "heap allocations: peak heap, top allocation sites, flame graph"
    hints = _HINTS
    package = "memray"
    can_attach = True
    starts_program = True
    options = (Option("native", "bool", False, "native (C) frames in the allocation stacks"),)
    adds_rss = True  # its tracker's records and hooks live in the profiled processes
    openable = (("memray_flamegraph", "memray"),)
    study_options = ()

    def problem(self) -> str | None:
        return missing_module("memray")

    def attach_problem(self, pid: int) -> str | None:
        if shutil.which("gdb") is None and shutil.which("lldb") is None:
            return (
                "memray attaches through gdb or lldb, and neither is installed: apt-get install gdb"
            )
        if not pycommand.process_is_python(pid):
            return (
                f"memray attaches to a Python process and pid {pid} is not one: use --tool "
                "py-spy, which finds the Python processes under it"
            )
        facts = access.Facts.here()
        return access.attach_problem(
            facts, pid, access.owner(pid) or 0, access.read_probe(pid)
        ) or access.syscall_problem(facts)

    def attach(self, pid: int, ctx: LaunchContext) -> list[subprocess.Popen]:
        """`memray attach` (harness attach only; a run starts the program under memray)."""
        if not ctx.attached:
            return []
        cmd = [
            ctx.python, "-m", "memray", "attach", "-o", str(ctx.run_dir / CAPTURE),
            "--follow-fork", str(pid),
        ]  # fmt: skip
        if self.settings(ctx.options)["native"]:
            cmd.insert(-1, "--native")
        with open(ctx.run_dir / ATTACH_LOG, "ab") as log:
            return [subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)]

    def detach(self, pid: int, ctx: LaunchContext, watchers: list[subprocess.Popen]) -> None:
        """Wait for the injection to finish, then `memray detach`, which closes the capture."""
        for watcher in watchers:
            try:
                watcher.wait(timeout=INJECT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                watcher.kill()
                watcher.wait()
        cmd = [ctx.python, "-m", "memray", "detach", str(pid)]
        with open(ctx.run_dir / ATTACH_LOG, "ab") as log:
            try:
                subprocess.run(cmd, stdout=log, stderr=log, timeout=INJECT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.write(b"memray detach did not finish in time\n")
        _wait_until_still(ctx.run_dir / CAPTURE)

    def child_note(self, run_dir: Path, pythons: list[dict[str, Any]]) -> str | None:
        """memray follows forked children only: name the Python processes it has no capture of
        (those the monitor saw: it looks for new processes every 0.1 s)."""
        if not pythons:
            return None
        captured = {pid for pid, _ in _children(run_dir)}
        missed = [p for p in pythons[1:] if str(p["pid"]) not in captured]
        if not missed:
            return None
        shown = ", ".join(f"{p['pid']} ({p['cmdline'][:40]})" for p in missed[:3])
        more = f" and {len(missed) - 3} more" if len(missed) > 3 else ""
        return (
            f"memray follows forked children only: {len(missed)} Python process(es) started "
            f"another way were not profiled: {shown}{more}; py-spy follows them all"
        )

    def command(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        python, script, *args = target_argv
        capture = str(ctx.run_dir / CAPTURE)
        cmd = [python, "-m", "memray", "run", "-q", "--follow-fork", "-o", capture]
        if self.settings(ctx.options)["native"]:
            cmd.append("--native")
        return [*cmd, script, *args]

    def collect(self, run_dir: Path) -> ToolResult:
        result = ToolResult()
        if (main := result.output(run_dir, CAPTURE, "memray_bin", _why_missing(run_dir))) is None:
            return result
        stats = _capture_stats(main, run_dir / STATS, run_dir / FLAMEGRAPH, "", result)
        children = _children(run_dir)
        child_stats = []
        for rank, (pid, capture) in enumerate(children):
            result.artifacts[f"memray_bin_{pid}"] = capture.name
            graph = run_dir / f"memray-flamegraph.{pid}.html"
            with_graph = graph if rank < MAX_CHILD_FLAMEGRAPHS else None
            found = _capture_stats(
                capture, run_dir / f"memray-stats.{pid}.json", with_graph, pid, result
            )
            if found:
                child_stats.append(found)
        if len(children) > MAX_CHILD_FLAMEGRAPHS:
            result.problems.append(
                f"flame graphs drawn for {MAX_CHILD_FLAMEGRAPHS} of {len(children)} forked children"
            )
        result.metrics.update(_metrics(stats, child_stats, len(children)))
        result.top = _top_sites([s for s in [stats, *child_stats] if s])
        return result

    def evidence(self, result: ToolResult, split: dict[str, float]) -> list[str]:
        heap = result.metrics.get("peak_heap_mb")
        return [] if heap is None else [f"memray's peak heap was {heap:.1f} MB."]

    def calibration_view(self, metrics: dict[str, Any], truth: Truth) -> dict[str, Any]:
        """Its peak heap against the memory the case holds."""
        heap = metrics.get("peak_heap_mb")
        return {} if heap is None else view("peak heap MB", heap, truth.peak_rss_mb)


def _wait_until_still(path: Path, settle_s: float = 0.5, limit_s: float = 15.0) -> None:
    """Until `path` has not changed for `settle_s` (the tracker closes it after detach)."""
    deadline, last, since = time.monotonic() + limit_s, None, time.monotonic()
    while time.monotonic() < deadline:
        try:
            stat = path.stat()
            now = (stat.st_size, stat.st_mtime_ns)
        except OSError:
            now = None
        if now != last:
            last, since = now, time.monotonic()
        elif now is not None and time.monotonic() - since >= settle_s:
            return
        time.sleep(0.05)


def _children(run_dir: Path) -> list[tuple[str, Path]]:
    """Captures of forked children, largest first (the busiest workers get flame graphs)."""
    found = [
        (p.name.rsplit(".", 1)[1], p)
        for p in run_dir.glob(f"{CAPTURE}.*")
        if p.name.rsplit(".", 1)[1].isdigit()
    ]
    return sorted(found, key=lambda item: -item[1].stat().st_size)


def _capture_stats(
    capture: Path, stats_path: Path, graph: Path | None, pid: str, result: ToolResult
) -> dict[str, Any] | None:
    """Render one capture's stats (and flame graph), record artifacts and problems."""
    suffix = f"_{pid}" if pid else ""
    problem = _render(stats_command(sys.executable, capture, stats_path), capture, stats_path)
    stats = None
    if problem:
        result.problems.append(problem)
    else:
        try:
            stats = json.loads(stats_path.read_text(encoding="utf-8"))
            result.artifacts[f"memray_stats{suffix}"] = stats_path.name
        except (OSError, ValueError) as exc:
            result.problems.append(f"{stats_path.name} is unreadable ({exc.__class__.__name__})")
    # multiprocessing children end with os._exit, which never closes their capture: only the
    # main capture's ending says whether the run was killed.
    if stats and not pid and _truncated(stats):
        result.problems.append(
            f"{capture.name} ends where it starts: the process was killed before memray closed "
            "it; figures cover what was written"
        )
    if graph is not None:
        problem = _render(flamegraph_command(sys.executable, capture, graph), capture, graph)
        if problem:
            result.problems.append(problem)
        else:
            result.artifacts[f"memray_flamegraph{suffix}"] = graph.name
    return stats


def _render(cmd: list[str], capture: Path, output: Path) -> str | None:
    """Run one memray reporter unless its output is newer than the capture; a problem or None."""
    if output.is_file() and output.stat().st_mtime >= capture.stat().st_mtime:
        return None
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"memray could not render {output.name}: {exc}"
    if done.returncode != 0 or not output.is_file():
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        return f"memray could not render {output.name} from {capture.name}: " + (
            lines[-1].strip() if lines else f"exit code {done.returncode}"
        )
    return None


def _truncated(stats: dict[str, Any]) -> bool:
    meta = stats.get("metadata") or {}
    return bool(meta.get("start_time")) and meta.get("start_time") == meta.get("end_time")


def _metrics(
    main: dict[str, Any] | None, children: list[dict[str, Any]], n_children: int
) -> dict[str, Any]:
    """Peak heap of the main process; allocation totals over every capture; children's peaks."""
    metrics: dict[str, Any] = {"child_captures": n_children}
    if main:
        metrics["peak_heap_mb"] = _peak(main) / MB
    everything = [s for s in [main, *children] if s]
    if everything:
        metrics["total_allocations"] = sum(
            int(s.get("total_num_allocations", 0)) for s in everything
        )
        total_bytes = sum(int(s.get("total_bytes_allocated", 0)) for s in everything)
        metrics["total_allocated_mb"] = total_bytes / MB
    if children:
        metrics["child_peak_heap_mb"] = max(_peak(s) for s in children) / MB
    return metrics


def _peak(stats: dict[str, Any]) -> int:
    return int((stats.get("metadata") or {}).get("peak_memory", 0))


def _top_sites(all_stats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Allocation sites by bytes allocated over the run, summed over every capture."""
    sizes: dict[str, int] = {}
    for stats in all_stats:
        for site in stats.get("top_allocations_by_size", []):
            where = _where(str(site.get("location", "?")))
            sizes[where] = sizes.get(where, 0) + int(site.get("size", 0))
    ranked = sorted(sizes.items(), key=lambda item: -item[1])[:TOP_N]
    return [{"where": where, "value": round(size / MB, 3), "unit": "MB"} for where, size in ranked]


def _where(location: str) -> str:
    """memray's `func:file:line` as `file:line func`, the form every adapter reports."""
    func, _, rest = location.partition(":")
    path, _, line = rest.rpartition(":")
    return f"{path}:{line} {func}" if path and line.isdigit() else location
