"""The py-spy adapter: a flame graph in which waiting is visible, and the share of time the GIL
was held.

py-spy writes one format per run, and no one run gives both every thread's samples and which
thread held the GIL, so a run is recorded twice at once:
- the main recording attaches to the first Python process of the run: `record --pid P --format
  raw --idle --subprocesses --threads`, every thread of it and of its children, idle ones
  included (pyspy_record.py reads it back). The runner's follower (harness/follow.py) calls
  attach() again for each further Python process that recording cannot see (under a shell,
  after an exec), which gets a recording of its own, `pyspy.<pid>.folded`; collect() merges
  them. py-spy's own `--subprocesses` follows the children of a Python process it records, but
  not a Python that appears under a process it does not record, nor a process after it exec'd
  (measured with py-spy 0.4.3: `--pid` of a shell that later starts Python fails with "No python
  processes found"; a recorded process that exec's another Python gives only errors from then
  on);
- the GIL companion (pyspy_gil.py), started with the main recording.

py-spy attaches rather than launches so that the runner's own child is the target: the
target's exit status is then exact (py-spy exits 0 whatever its child did). Attached with
`--nonblocking` under `harness attach` (it reads memory without stopping the process), it
pauses the target otherwise, for exact stacks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.stacks import RunStacks
from harness.tools import access, pyspy_gil, pyspy_record
from harness.tools.base import LaunchContext, Option, Tool, ToolResult, Truth, view

MAIN_LOG = "pyspy.log"
FOLDED = pyspy_record.FOLDED
DEFAULT_RATE = 100
MAX_RATE = 10_000  # py-spy reads a u64; far past what it can sample

PTRACE_FIX = (
    "run as root, add --cap-add SYS_PTRACE to docker run, or set kernel.yama.ptrace_scope "
    "to 0 (1 lets py-spy trace only its own child, so no GIL share)"
)
# py-spy's own wording (Rust's "(os error N)"), not a target's "[Errno 13] Permission denied".
_PERMISSION = re.compile(
    r"Permission Denied: Try running|\(os error (?:1|13)\)|Failed to suspend process|SYS_PTRACE"
)
_UNSUPPORTED = re.compile(
    r"unsupported version of python|failed to find python version|failed to find a python",
    re.IGNORECASE,
)


class PySpy(Tool):
    """py-spy record, plus a nonblocking GIL-only companion attached once the target runs."""

    name = "py-spy"
    description = "sampling profiler: flame graph with waiting threads, GIL-held share"
    package = "py-spy"
    own_process_names = frozenset({"py-spy"})
    follows_processes = True
    can_attach = True
    options = (
        Option("rate", "int", DEFAULT_RATE, "samples per second", minimum=1, maximum=MAX_RATE),
        Option("native", "bool", False, "native (C) frames too"),
    )
    openable = (("flamegraph", "flame graph"), ("speedscope", "speedscope"))
    study_options = (("rate", "250"),)  # more samples for the stage cross-check of short runs

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

    def command(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        """The target runs as it is: py-spy attaches to it (see `attach`)."""
        return list(target_argv)

    def recorder_argv(self, pid: int, ctx: LaunchContext, output: Path | None = None) -> list[str]:
        return [
            self.executable, "record", "--pid", str(pid),
            *self._record_flags(ctx, output or ctx.run_dir / FOLDED),
        ]  # fmt: skip

    def _record_flags(self, ctx: LaunchContext, output: Path) -> list[str]:
        settings = self.settings(ctx.options)
        flags = [
            "--format", "raw", "--idle", "--subprocesses", "--threads",
            "--rate", str(settings["rate"]), "--output", str(output),
        ]  # fmt: skip
        if settings["native"]:
            flags.append("--native")
        if ctx.attached:
            flags.append("--nonblocking")
        return flags

    def by_hand(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        """In the harness py-spy attaches to the running target; by hand it launches it:
        `py-spy record <the same flags> -- python script`."""
        flags = self._record_flags(ctx, ctx.run_dir / FOLDED)
        return [self.executable, "record", *flags, "--", *target_argv]

    def attach(self, pid: int, ctx: LaunchContext) -> list[subprocess.Popen]:
        """Record the Python process `pid` (and its children). The first call of a run starts
        the main recording and the GIL companion; later calls (further Python processes, see
        harness/follow.py) a recording of their own."""
        first = not (ctx.run_dir / MAIN_LOG).exists()
        output, log_path = ctx.run_dir / FOLDED, ctx.run_dir / MAIN_LOG
        if not first:
            stem = pyspy_record.free_stem(ctx.run_dir, f"pyspy.{pid}")
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
        if first:
            rate = self.settings(ctx.options)["rate"]
            companion = pyspy_gil.start(self.executable, pid, rate, ctx.run_dir)
            started += [companion] if companion is not None else []
        return started

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
        meta = pyspy_gil.read_meta(run_dir)
        stacks = pyspy_record.read(run_dir, result)
        result.stacks = stacks or None
        if stacks:
            pyspy_record.render(run_dir, stacks, meta.get("rate"), result)
            pyspy_record.figures(stacks, result)
        pyspy_gil.collect(run_dir, meta, result, self.failure_hint)
        for key, name in (("folded", FOLDED), ("gil_folded", pyspy_gil.FOLDED), ("log", MAIN_LOG)):
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

    def stacks(self, run_dir: Path) -> RunStacks | None:
        """Every recording of the run (every process it recorded), at the rate it sampled."""
        parts = pyspy_record.recordings(run_dir)
        if not parts:
            return None
        rate = pyspy_gil.read_meta(run_dir).get("rate") or self._manifest_rate(run_dir)
        return RunStacks(
            run_dir.name,
            pyspy_record.merged(parts),
            "samples",
            float(rate),
            ", ".join(p.name for p in parts),
        )

    def _manifest_rate(self, run_dir: Path) -> int:
        from harness.summary import MANIFEST_NAME

        try:
            options = json.loads((run_dir / MANIFEST_NAME).read_text()).get("options") or {}
            return self.settings({k: str(v) for k, v in options.items()})["rate"]
        except (OSError, ValueError, AttributeError, HarnessError):
            return DEFAULT_RATE

    def calibration_view(self, metrics: dict[str, Any], truth: Truth) -> dict[str, Any]:
        """Its active samples against the CPU share, and the GIL-held share beside them."""
        if metrics.get("active_fraction") is None:
            return {}
        found = view("active samples", metrics["active_fraction"], truth.cpu)
        if metrics.get("gil_held_fraction") is not None:
            found["gil_held"] = metrics["gil_held_fraction"]
        return found

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
