"""Scalene: line-level time split into python / native / system, and peak memory.

`scalene run` writes only the JSON profile; the HTML is rendered afterwards from that JSON with
`scalene view --standalone`, which inlines every asset (no CDN, no analytics), so `scalene.html`
opens from disk without a network. `scalene view` has no output option: it writes
`scalene-profile.html` into its working directory, so we render inside the run directory and
rename the file. Rendering uses the harness's own interpreter (scalene is one of its dependencies).

Hazard: when scalene writes its profile it parses the imports of every reported file and, to
decide whether each imported module is native, walks that module's directory (`os.walk` until it
meets a `.so`; `ScaleneAnalysis.is_native` in 2.4). A script importing a sibling module or a local
package therefore makes scalene walk the script's own tree. None of `--profile-only`,
`--profile-exclude`, `--profile-all`, `--program-path` or `--cpu-only` prevents that (checked with
strace on 2.4): they choose which files are reported, and the walk follows the imports of whichever
files are. What bounds it is the layout: generated data in a cache directory and outputs in the run
directory, never inside a package the workload imports. We keep scalene's default scope (files
under the script's directory, no `--profile-all`), which keeps the reported files, and so the walks,
few.

Scalene's "system" share is wall-clock time a line spent not running user code (in the kernel or
blocked: `1 - user / wall` per sample), so a waiting program shows a large system share.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.tools.base import LaunchContext, Option, Tool, ToolResult, Truth, missing_module, view

PROFILE_JSON = "scalene.json"
PROFILE_HTML = "scalene.html"
#: Where `scalene view` writes, relative to its working directory; it takes no output path.
VIEW_OUTPUT = "scalene-profile.html"
TOP_N = 10
RENDER_TIMEOUT_S = 120.0
_NOT_SAVED = "scalene stopped before saving its profile"
_SPLIT_FIELDS = {
    "python_fraction": "n_cpu_percent_python",
    "native_fraction": "n_cpu_percent_c",
    "system_fraction": "n_sys_percent",
}
_HINTS = {
    "No module named scalene": "scalene is not installed in the target's interpreter: "
    "pip install scalene",
    "did not run for long enough to profile": "scalene keeps a profile only for programs that run "
    "about 1 s or allocate 10 MB in the profiled files: give the target more work",
}


def render_html_command(python: str) -> list[str]:
    """`scalene view` turning `scalene.json` into one self-contained HTML file (run in run_dir)."""
    return [python, "-m", "scalene", "view", "--standalone", PROFILE_JSON]


class Scalene(Tool):
    name = "scalene"
    description = "line-level CPU split (python / native / system) and memory, JSON + HTML"
    hints = _HINTS
    package = "scalene"
    options = (Option("memory", "bool", True, "profile memory too (false: --cpu-only)"),)
    adds_rss = True  # its memory sampler's allocator hooks and its launcher process
    openable = (("scalene_html", "scalene"),)
    root_is_launcher = True  # `scalene run` runs the program in a child process (checked on 2.4)
    starts_program = True

    def problem(self) -> str | None:
        return missing_module("scalene")

    def command(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        python, script, *args = target_argv
        cmd = [python, "-m", "scalene", "run", "-o", str(ctx.run_dir / PROFILE_JSON)]
        if not self.settings(ctx.options)["memory"]:
            cmd.append("--cpu-only")
        if script == "-m":  # `scalene run -m module --- args` (checked on 2.4)
            cmd.append(script)
            script, *args = args
        cmd.append(script)
        # Scalene passes what follows `---` to the program (and moves any `--` in it to the front).
        return [*cmd, "---", *args] if args else cmd

    def program_problem(self, python_argv: list[str] | None) -> str | None:
        if python_argv is not None and python_argv[1:2] == ["-c"]:
            return (
                "scalene runs a script or -m module, not python -c CODE (its -c is a config file)"
            )
        return super().program_problem(python_argv)

    def collect(self, run_dir: Path) -> ToolResult:
        result = ToolResult()
        if (path := result.output(run_dir, PROFILE_JSON, "scalene_json", _NOT_SAVED)) is None:
            return result
        try:
            profile = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            result.problems.append(f"{PROFILE_JSON} is unreadable ({exc.__class__.__name__})")
            return result
        if not isinstance(profile, dict) or not profile.get("files"):
            result.problems.append(
                "scalene recorded no profile: it keeps one only for programs that run about 1 s "
                "or allocate 10 MB in the profiled files"
            )
            return result
        result.metrics.update(_metrics(profile))
        result.top = _top_lines(profile)
        problem = _render_html(run_dir)
        if problem:
            result.problems.append(problem)
        if (run_dir / PROFILE_HTML).is_file():
            result.artifacts["scalene_html"] = PROFILE_HTML
        return result

    def evidence(self, result: ToolResult, split: dict[str, float]) -> list[str]:
        """Its python / native / "system" split ("system": wall minus CPU on a line, waits
        and kernel together), and its peak footprint."""
        m = result.metrics
        out: list[str] = []
        if m.get("system_fraction") is not None:
            out.append(
                f"scalene attributes {m['system_fraction']:.0%} of time to system (I/O and "
                f"waiting), {m.get('python_fraction') or 0:.0%} to Python and "
                f"{m.get('native_fraction') or 0:.0%} to native code."
            )
        if m.get("peak_heap_mb") is not None:
            out.append(f"scalene's peak memory footprint was {m['peak_heap_mb']:.1f} MB.")
        return out

    def calibration_view(self, metrics: dict[str, Any], truth: Truth) -> dict[str, Any]:
        """Its "system" share (wall minus CPU on a line) against the time off a CPU."""
        share = metrics.get("system_fraction")
        if share is None:
            return {}
        return view("system share", share, None if truth.cpu is None else 1 - min(truth.cpu, 1))


def _lines(profile: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (fname, line)
        for fname, body in profile.get("files", {}).items()
        for line in body.get("lines", [])
    ]


def _metrics(profile: dict[str, Any]) -> dict[str, Any]:
    """The time split as fractions of all sampled time, run time and the peak footprint."""
    totals = dict.fromkeys(_SPLIT_FIELDS, 0.0)
    for _, line in _lines(profile):
        for metric, field in _SPLIT_FIELDS.items():
            totals[metric] += float(line.get(field) or 0.0)
    whole = sum(totals.values())
    metrics: dict[str, Any] = {k: (v / whole if whole else None) for k, v in totals.items()}
    cpu = totals["python_fraction"] + totals["native_fraction"]
    if cpu > 0:  # of the user-mode CPU, the share in C code: the causes' native part
        metrics["native_share"] = totals["native_fraction"] / cpu
    metrics["elapsed_s"] = profile.get("elapsed_time_sec")
    if profile.get("memory", True) and profile.get("max_footprint_mb"):
        metrics["peak_heap_mb"] = float(profile["max_footprint_mb"])
    return metrics


def _top_lines(profile: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines with the largest share of sampled time (python + native + system), most first."""
    base = profile.get("entrypoint_dir") or ""
    rows = []
    for fname, line in _lines(profile):
        split = {metric: float(line.get(field) or 0.0) for metric, field in _SPLIT_FIELDS.items()}
        value = sum(split.values())
        if value <= 0:
            continue
        code = str(line.get("line", "")).strip()
        where = f"{_short(fname, base)}:{line.get('lineno')} {code}".rstrip()
        rows.append(
            {
                "where": where,
                "value": round(value, 2),
                "unit": "%",
                "python": round(split["python_fraction"], 2),
                "native": round(split["native_fraction"], 2),
                "system": round(split["system_fraction"], 2),
            }
        )
    rows.sort(key=lambda row: -row["value"])
    return rows[:TOP_N]


def _short(fname: str, base: str) -> str:
    if base and fname.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(fname, base)
    return fname


def _render_html(run_dir: Path) -> str | None:
    """Render scalene.html once (kept on later collects); a problem line if that fails."""
    html = run_dir / PROFILE_HTML
    if html.is_file() and html.stat().st_mtime >= (run_dir / PROFILE_JSON).stat().st_mtime:
        return None
    try:
        done = subprocess.run(
            render_html_command(sys.executable),
            cwd=run_dir,
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"scalene could not render {PROFILE_HTML}: {exc}"
    rendered = run_dir / VIEW_OUTPUT
    if done.returncode != 0 or not rendered.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return f"scalene could not render {PROFILE_HTML}: {tail[0]}"
    rendered.replace(html)
    return None
