"""The py-spy adapter: a flame graph in which waiting is visible, and the share of time the GIL
was held.

py-spy writes one format per run, and no one run gives both every thread's samples and which
thread held the GIL, so a run is recorded twice at once:
- the main recording attaches to the first Python process of the run: `record --pid P --format
  raw --idle --subprocesses --threads`, every thread of it and of its children, idle ones
  included. The runner's follower (harness/follow.py) calls attach() again for each further
  Python process that recording cannot see (under a shell, after an exec), which gets a
  recording of its own, `pyspy.<pid>.folded`; collect() merges them;
- a companion started with the main recording, `record --pid P --gil --nonblocking`, keeps per
  sampling round only the thread holding the GIL (nothing when none does). It does not pause the
  target, so it does not fight the main recording, which does (except on an attached process:
  `harness attach` records with `--nonblocking` too, so the process is never stopped).

Figures (collect()):
- samples: thread-samples of the main recording (each round adds one per live thread).
- idle_fraction: share of those whose stack ends in a recognisable blocking call
  (`stacks.is_waiting_stack`). py-spy knows from the OS which threads sleep, but its raw
  output drops that mark, and a blocking C call made from user code (time.sleep, file I/O) looks
  like running code: a lower bound. active_fraction = 1 - idle_fraction: on CPU or blocked where
  the stack cannot show it. The monitor's exact on-CPU split is the reference.
- gil_held_fraction: GIL samples / sampling rounds of the companion, for the main Python process
  only (child processes have GILs of their own). py-spy's closing "Samples: N" counts stacks
  written, not rounds (with --gil: the GIL samples again), so rounds = rate x seconds sampled -
  failed rounds ("Errors: E"). The window runs from the companion's "Sampling process" line,
  seen by attach(), to the mtime of the file py-spy writes when it stops (kept in the meta file
  by the first collect(), so copies of the run directory keep it). Rounds come at random
  intervals averaging 1/rate, so the share is good to about 1/sqrt(rounds).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import stacks as st
from harness.errors import HarnessError
from harness.render.flamegraph import FlameGraph
from harness.render.speedscope import Speedscope
from harness.tools import access
from harness.tools.base import LaunchContext, Tool, ToolResult

FOLDED = "pyspy.folded"
GIL_FOLDED = "pyspy-gil.folded"
GIL_META = "pyspy-gil.meta.json"
GIL_LOG = "pyspy-gil.log"
MAIN_LOG = "pyspy.log"
FLAMEGRAPH = "flamegraph.svg"
SPEEDSCOPE = "profile.speedscope.json"
DEFAULT_RATE = 100
MAX_RATE = 10_000  # py-spy reads a u64; far past what it can sample
TOP_N = 10

PTRACE_FIX = (
    "run as root, add --cap-add SYS_PTRACE to docker run, or set kernel.yama.ptrace_scope "
    "to 0 (1 lets py-spy trace only its own child, so no GIL share)"
)
_TRUE = ("1", "true", "yes")
_START_WAIT_S = 3.0
_MIN_GIL_ROUNDS = 50
# py-spy's own wording (Rust's "(os error N)"), not a target's "[Errno 13] Permission denied".
_PERMISSION = re.compile(
    r"Permission Denied: Try running|\(os error (?:1|13)\)|Failed to suspend process|SYS_PTRACE"
)
_UNSUPPORTED = re.compile(
    r"unsupported version of python|failed to find python version|failed to find a python",
    re.IGNORECASE,
)
_ERRORS = re.compile(r"Samples: \d+ Errors: (\d+)")
_PID = re.compile(r"^process (\d+):")
_TID = re.compile(r"^thread \((\d+)\)")


class PySpy(Tool):
    """py-spy record, plus a nonblocking GIL-only companion attached once the target runs."""

    name = "py-spy"
    description = "sampling profiler: flame graph with waiting threads, GIL-held share"
    own_process_names = frozenset({"py-spy"})
    follows_processes = True
    can_attach = True

    def __init__(self, executable: str | None = None) -> None:
        self._executable = executable

    @property
    def executable(self) -> str:
        return self._executable or find_pyspy() or "py-spy"

    def problem(self) -> str | None:
        exe = self._executable or find_pyspy()
        if exe is None:
            return f"py-spy not found next to {sys.executable} or on PATH: pip install py-spy"
        try:
            done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"py-spy at {exe} does not run ({exc}): pip install --force-reinstall py-spy"
        if done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"py-spy at {exe} does not run ({why[0]}): pip install --force-reinstall py-spy"
        return ptrace_problem() or access.syscall_problem(access.Facts.here())

    def attach_problem(self, pid: int) -> str | None:
        """Whether py-spy may read `pid`'s memory: the kernel's rules, then one real read."""
        return access.attach_problem(
            access.Facts.here(), pid, access.owner(pid) or 0, access.read_probe(pid)
        )

    def check_options(self, options: dict[str, str]) -> None:
        sampling_rate(LaunchContext(run_dir=Path("."), python=sys.executable, options=options))

    def command(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        """The target runs as it is: py-spy attaches to it (see `attach`)."""
        return list(target_argv)

    def recorder_argv(self, pid: int, ctx: LaunchContext, output: Path | None = None) -> list[str]:
        argv = [
            self.executable, "record", "--pid", str(pid), "--format", "raw", "--idle",
            "--subprocesses", "--threads", "--rate", str(sampling_rate(ctx)),
            "--output", str(output or ctx.run_dir / FOLDED),
        ]  # fmt: skip
        if ctx.options.get("native", "").strip().lower() in _TRUE:
            argv.append("--native")
        if ctx.attached:
            argv.append("--nonblocking")
        return argv

    def attach(self, pid: int, ctx: LaunchContext) -> list[subprocess.Popen]:
        """Record the Python process `pid` (and its children).

        py-spy attaches rather than launches so that the runner's own child is the target:
        the target's exit status is then exact (py-spy exits 0 whatever its child did).
        The first call of a run starts the main recording and the GIL companion; later calls
        (further Python processes, see harness/follow.py) a recording of their own.
        """
        first = not (ctx.run_dir / MAIN_LOG).exists()
        output, log_path = ctx.run_dir / FOLDED, ctx.run_dir / MAIN_LOG
        if not first:
            stem = _free_stem(ctx.run_dir, f"pyspy.{pid}")
            output, log_path = ctx.run_dir / f"{stem}.folded", ctx.run_dir / f"{stem}.log"
        started: list[subprocess.Popen] = []
        with open(log_path, "wb") as log:
            try:
                started.append(
                    subprocess.Popen(
                        self.recorder_argv(pid, ctx, output),
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
            except OSError as exc:
                log.write(f"could not start py-spy: {exc}\n".encode())
                return started
        companion = self._gil_companion(pid, ctx) if first else None
        if companion is not None:
            started.append(companion)
        return started

    def _gil_companion(self, pid: int, ctx: LaunchContext) -> subprocess.Popen | None:
        """Start the GIL companion on the Python at `pid`; None if it cannot start.

        Writes pyspy-gil.meta.json either way, so collect() can say what happened.
        """
        rate = sampling_rate(ctx)
        meta: dict[str, Any] = {"rate": rate, "pyspy_pid": pid, "target_pid": None}
        target = pid
        meta["target_pid"] = target
        argv = [
            self.executable, "record", "--pid", str(target), "--gil", "--nonblocking",
            "--format", "raw", "--rate", str(rate), "--output", str(ctx.run_dir / GIL_FOLDED),
        ]  # fmt: skip
        log_path = ctx.run_dir / GIL_LOG
        try:
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError as exc:
            meta["error"] = f"could not start the GIL companion: {exc}"
            _write_json(ctx.run_dir / GIL_META, meta)
            return None
        meta["launched_at"] = time.time()
        meta["sampling_started_at"] = _wait_for_start(proc, log_path)
        _write_json(ctx.run_dir / GIL_META, meta)
        return proc

    def collect(self, run_dir: Path) -> ToolResult:
        result = ToolResult()
        if not (run_dir / MAIN_LOG).exists() and not (run_dir / FOLDED).exists():
            result.problems.append(
                "py-spy recorded nothing: no Python process appeared in the run's process tree "
                "(the summary has the monitor's view only)"
            )
            result.metrics["gil_held_fraction"] = None
            return result
        log = _read_text(run_dir / MAIN_LOG)
        if log is not None and not (run_dir / FOLDED).is_file():
            result.unavailable = self.failure_hint(log)
        meta = _read_json(run_dir / GIL_META)
        stacks = _read_main(run_dir, result)
        result.stacks = stacks or None
        if stacks:
            _render(run_dir, stacks, meta.get("rate"), result)
            _figures(stacks, result)
        _gil(run_dir, meta, result, self.failure_hint)
        if (
            result.metrics.get("gil_samples") == 0
            and result.metrics.get("active_fraction", 0) > 0.5
        ):
            result.problems.append(
                "the GIL companion never saw a GIL holder while threads ran: py-spy may not read "
                "the GIL of this Python, so gil_held_fraction 0 is doubtful"
            )
        for key, name in (("folded", FOLDED), ("gil_folded", GIL_FOLDED), ("log", MAIN_LOG)):
            if (run_dir / name).is_file():
                result.artifacts[key] = name
        return result

    def evidence(self, result: ToolResult, split: dict[str, float]) -> list[str]:
        """Its active share against the counters' on-CPU share, and the GIL-held share."""
        out: list[str] = []
        on_cpu = split.get("on_cpu", 0.0)
        active = result.metrics.get("active_fraction")
        if active is not None:
            line = f"py-spy marked {active:.0%} of its samples active"
            if abs(active - on_cpu) >= 0.15:
                line += (
                    f", but the kernel's counters put the threads on a CPU only {on_cpu:.0%} "
                    "of the time"
                    if active > on_cpu
                    else f", while the kernel's counters put them on a CPU {on_cpu:.0%} of the time"
                )
                line += "; the counters are exact, the samples are not."
            else:
                line += f", in line with the counters ({on_cpu:.0%} on CPU)."
            out.append(line)
        gil = result.metrics.get("gil_held_fraction")
        if gil is not None:
            out.append(f"py-spy saw the GIL held {gil:.0%} of the time.")
        return out

    def failure_hint(self, stderr_tail: str) -> str | None:
        if _PERMISSION.search(stderr_tail):
            return f"py-spy was not allowed to read the target's memory (ptrace): {PTRACE_FIX}"
        if _UNSUPPORTED.search(stderr_tail):
            return "py-spy does not recognise this Python build: pip install --upgrade py-spy"
        return None


def find_pyspy() -> str | None:
    """The py-spy a user would run (first on PATH), else the one installed beside this Python."""
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def sampling_rate(ctx: LaunchContext) -> int:
    raw = ctx.options.get("rate", str(DEFAULT_RATE))
    try:
        rate = int(raw)
    except ValueError:
        rate = 0
    if not 0 < rate <= MAX_RATE:
        raise HarnessError(
            f"py-spy rate must be a whole number of samples per second from 1 to {MAX_RATE:,}, "
            f"not {raw!r}"
        )
    return rate


def ptrace_problem(scope: int | None = None, privileged: bool | None = None) -> str | None:
    """What Yama's ptrace_scope forbids; scope 1 is fine, the target being py-spy's child."""
    here = access.Facts.here()
    facts = dataclasses.replace(
        here,
        yama_scope=here.yama_scope if scope is None else scope,
        cap_sys_ptrace=here.cap_sys_ptrace if privileged is None else privileged,
    )
    return access.launch_problem(facts)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _wait_for_start(proc: subprocess.Popen, log_path: Path) -> float | None:
    deadline = time.monotonic() + _START_WAIT_S
    while time.monotonic() < deadline:
        if b"Sampling process" in log_path.read_bytes():
            return time.time()
        if proc.poll() is not None:
            return None
        time.sleep(0.005)
    return None


def _read_main(run_dir: Path, result: ToolResult) -> st.Stacks:
    """The main recording merged with those of further Python processes (pyspy.<pid>.folded)."""
    path = run_dir / FOLDED
    extra = sorted(p for p in run_dir.glob("pyspy.*.folded") if p.name != GIL_FOLDED)
    if not path.is_file() and not extra:
        result.problems.append(
            f"py-spy wrote no {FOLDED}: it writes it only when it stops by itself or on SIGINT "
            "(killed, timed out, or it could not start)"
        )
        return {}
    malformed: list[str] = []
    stacks: st.Stacks = {}
    for part in [path, *extra] if path.is_file() else extra:
        found = st.parse_folded(part.read_text(errors="replace"), malformed=malformed)
        for stack, count in found.items():
            stacks[stack] = stacks.get(stack, 0) + count
    if malformed:
        result.problems.append(
            f"{FOLDED}: skipped {len(malformed)} malformed line(s) (truncated file?)"
        )
    for part in extra:
        result.artifacts[part.stem.replace(".", "_")] = part.name
    if not stacks:
        result.problems.append(f"{FOLDED} holds no samples")
    return stacks


def _free_stem(run_dir: Path, stem: str) -> str:
    """`stem`, or `stem.N` when a recording of that process (before its exec) exists."""
    n = 1
    name = stem
    while (run_dir / f"{name}.log").exists():
        n += 1
        name = f"{stem}.{n}"
    return name


def _render(run_dir: Path, stacks: st.Stacks, rate: Any, result: ToolResult) -> None:
    total = st.total_samples(stacks)
    at = f" at {rate} Hz" if rate else ""
    subtitle = (
        f"{total} thread samples{at}, threads and processes merged; "
        "blue: waiting in a lock, join, select or socket call"
    )
    svg = FlameGraph(f"py-spy: {run_dir.name}", subtitle).render(st.strip_roots(stacks))
    _write_text(run_dir / FLAMEGRAPH, svg)
    _write_text(run_dir / SPEEDSCOPE, Speedscope(run_dir.name).render(stacks))
    result.artifacts["flamegraph"] = FLAMEGRAPH
    result.artifacts["speedscope"] = SPEEDSCOPE


def _figures(stacks: st.Stacks, result: ToolResult) -> None:
    total = st.total_samples(stacks)
    idle = st.waiting_samples(stacks) / total
    pids: set[str] = set()
    threads: set[str] = set()
    for stack in stacks:
        for frame in stack:
            if (pid := _PID.match(frame)) is not None:
                pids.add(pid[1])
            elif (tid := _TID.match(frame)) is not None:
                threads.add(tid[1])
            else:
                break
    result.metrics.update(
        samples=total,
        processes=len(pids),
        threads=len(threads),
        idle_fraction=round(idle, 4),
        active_fraction=round(1 - idle, 4),
    )
    result.top = [
        {
            "where": _where(frame),
            "value": float(count),
            "unit": "samples",
            "share": round(count / total, 4),
            "waiting": st.is_waiting_frame(frame),
        }
        for frame, count in st.top_frames(st.strip_roots(stacks), TOP_N)
    ]


def _gil(
    run_dir: Path, meta: dict[str, Any], result: ToolResult, hint: Callable[[str], str | None]
) -> None:
    result.metrics["gil_held_fraction"] = None
    path = run_dir / GIL_FOLDED
    log_path = run_dir / GIL_LOG
    log = log_path.read_text(errors="replace") if log_path.is_file() else ""
    if meta.get("error"):
        result.problems.append(f"GIL share unknown: {meta['error']}")
        return
    if not path.is_file():
        if not meta:
            result.problems.append("GIL share unknown: the GIL companion was not started")
            return
        why = hint(log) or (log.strip().splitlines() or ["no output"])[-1]
        result.problems.append(f"GIL share unknown: the GIL companion wrote nothing ({why})")
        return
    gil_samples = st.total_samples(st.parse_folded(path.read_text(errors="replace")))
    result.metrics["gil_samples"] = gil_samples
    if meta.get("stopped_at") is None and meta:
        meta["stopped_at"] = path.stat().st_mtime
        _write_json(run_dir / GIL_META, meta)
    rate, stop = meta.get("rate"), meta.get("stopped_at")
    start = meta.get("sampling_started_at") or meta.get("launched_at")
    if not rate or start is None or stop is None:
        result.problems.append(f"GIL share unknown: no sampling window in {GIL_META}")
        return
    errors = int(match[1]) if (match := _ERRORS.search(log)) else 0
    rounds = rate * max(0.0, stop - start) - errors
    if rounds <= 0:
        result.problems.append("GIL share unknown: the GIL companion sampled no rounds")
        return
    result.metrics["gil_held_fraction"] = round(min(1.0, gil_samples / rounds), 3)
    result.metrics["gil_seconds"] = round(stop - start, 3)
    if meta.get("sampling_started_at") is None:
        result.problems.append(
            "GIL companion's start was not seen: its window counts from launch (share low)"
        )
    if rounds < _MIN_GIL_ROUNDS:
        result.problems.append(
            f"GIL share from only ~{rounds:.0f} sampling rounds: "
            f"good to about {100 / math.sqrt(rounds):.0f}% of its value"
        )


def _where(frame: str) -> str:
    name, file, line = st.split_frame(frame)
    if file is None:
        return name
    return f"{file}:{line} {name}" if line is not None else f"{file} {name}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    _write_text(path, json.dumps(data, indent=1) + "\n")


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
