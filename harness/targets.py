"""Targets: what to launch. A built-in scenario (by name), a Python script (by path), a module
(`-m package.module`) or any command (after `--`)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import pycommand
from harness.errors import HarnessError
from workloads import registry
from workloads.registry import Scenario

if TYPE_CHECKING:
    from workloads.registry import Preparation


@dataclass
class Target:
    """What to run: `script` with `args`, `python -m module args` or `command` as it is; for a
    scenario, its typed parameters too."""

    name: str
    kind: str  # "scenario" | "script" | "module" | "command"
    script: Path | None
    args: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario | None = None
    module: str | None = None
    command: list[str] = field(default_factory=list)
    #: The built-in scenario a module or command runs (`python -m workloads.output`).
    workload: Scenario | None = None
    #: How the user asked for it (resolve's arguments), so it can be asked for again.
    replay: dict[str, Any] = field(default_factory=dict)

    @property
    def is_asyncio(self) -> bool:
        return self.scenario.is_asyncio(self.params) if self.scenario else False

    @property
    def uses_api(self) -> bool:
        return self.scenario.uses_api(self.params) if self.scenario else False

    def argv(self, python: str) -> list[str]:
        """The command line as it is launched (`python` runs scripts and modules)."""
        if self.kind == "command":
            return list(self.command)
        if self.kind == "module":
            return [python, "-m", str(self.module), *self.args]
        return [python, str(self.script), *self.args]

    def python_argv(self, python: str) -> list[str] | None:
        """`[python, script | -m module | -c code, args...]` for the tools that start the
        program themselves; None when the command is not one (a shell, a binary)."""
        if self.kind != "command":
            return self.argv(python)
        found = pycommand.python_command(self.command)
        return found.argv() if found else None

    def prepare(self, run_id: str, result: Path) -> AbstractContextManager[Preparation] | None:
        """What a target running a built-in scenario needs from outside its process tree (the
        scenario's hook: output directory, API server, result file), None for any other. A
        module or command that runs one is prepared as the scenario, save what its own
        arguments give: `python -m workloads.output --items 2000` left to its own default (a
        temp dir removed at its end) was filesystem bound here (1,400-4,400 items/s, most of it
        unlinking) where the scenario ran at 15,500."""
        if self.scenario is not None:
            return self.scenario.prepare(self.params, run_id, result)
        if self.workload is None:
            return None
        args = self._workload_args()
        return self.workload.prepare(self.workload.params_of(args), run_id, result, args)

    def prepare_problem(self) -> str | None:
        """Why the scenario's preparation cannot be made here (asked before anything is)."""
        if self.scenario is not None:
            return self.scenario.prepare_problem(self.params)
        if self.workload is not None:
            return self.workload.prepare_problem(self.workload.params_of(self._workload_args()))
        return None

    def _workload_args(self) -> list[str]:
        """The arguments a module or command gives the scenario it runs."""
        if self.kind == "module":
            return list(self.args)
        found = pycommand.python_command(self.command)
        return list(found.args) if found else []

    def spec(self) -> dict[str, Any]:
        """Enough to make the same target again (`harness check --repeat`): see from_spec."""
        return dict(self.replay)


def scenario_script(scenario: Scenario) -> Path:
    spec = importlib.util.find_spec(scenario.module)
    if spec is None or spec.origin is None:
        raise HarnessError(
            f"scenario {scenario.name}: module {scenario.module} is not installed; run `make setup`"
        )
    if spec.submodule_search_locations:  # a package: its __main__ is the scenario
        return Path(spec.submodule_search_locations[0]) / "__main__.py"
    return Path(spec.origin)


def parse_sets(scenario: Scenario, sets: list[str]) -> dict[str, Any]:
    """`key=value` pairs checked against the registry; HarnessError (exit 2) on any problem."""
    values: dict[str, Any] = {}
    for item in sets:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise HarnessError(f"--set {item!r}: write it as key=value, e.g. --set items=2000")
        param = scenario.param(key)
        if param is None:
            known = ", ".join(p.name for p in scenario.params)
            raise HarnessError(
                f"--set {key}: scenario {scenario.name} has no such parameter; it takes: {known}"
            )
        try:
            values[key] = param.parse(raw)
        except ValueError as exc:
            raise HarnessError(f"--set {item}: {exc}") from None
    return values


def resolve(
    name: str | None,
    sets: list[str],
    script_args: list[str],
    module: str | None = None,
    command: list[str] | None = None,
) -> Target:
    """The Target for a scenario name, a script path, a module or a command; HarnessError
    (exit 2) if it is none of them or cannot run."""
    replay = {
        "name": name,
        "sets": list(sets),
        "args": list(script_args),
        "module": module,
        "command": list(command) if command is not None else None,
        "cwd": os.getcwd(),
    }
    if module is not None or command is not None:
        if sets:
            raise HarnessError(
                "--set applies to scenarios only: pass the program's own arguments after --, "
                "e.g. harness run -m pkg.mod -- --items 10"
            )
        target = _module(module, script_args) if module is not None else _command(command or [])
    elif name is None:
        raise HarnessError(
            "nothing to run: give a scenario (harness list), a script path, -m package.module "
            "or -- followed by a command"
        )
    elif name in registry.SCENARIOS:
        target = _scenario(name, sets, script_args)
    else:
        target = _script(name, sets, script_args)
    target.replay = replay
    return target


def from_spec(spec: dict[str, Any]) -> Target:
    """The target a run was made of, from its manifest's `target_spec` (same working dir)."""
    cwd = spec.get("cwd")
    if cwd and os.path.isdir(cwd) and os.path.realpath(cwd) != os.path.realpath(os.getcwd()):
        raise HarnessError(
            f"the run was made in {cwd}: run harness check --repeat from there, so its "
            "program and paths are the same"
        )
    return resolve(
        spec.get("name"),
        list(spec.get("sets") or []),
        list(spec.get("args") or []),
        module=spec.get("module"),
        command=spec.get("command"),
    )


def _scenario(name: str, sets: list[str], script_args: list[str]) -> Target:
    scenario = registry.get(name)
    chosen = parse_sets(scenario, sets)
    params = {**scenario.defaults(), **chosen}
    args: list[str] = []
    for key, value in chosen.items():
        args += [
            scenario.param(key).flag,
            str(value).lower() if isinstance(value, bool) else str(value),
        ]
    return Target(
        name, "scenario", scenario_script(scenario), args + list(script_args), params, scenario
    )


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long, say: no such script either way
        return False


def _script(name: str, sets: list[str], script_args: list[str]) -> Target:
    path = Path(name)
    if path.suffix == ".py" or "/" in name:
        if not _is_file(path):
            raise HarnessError(
                f"script {name} does not exist: give the path to a Python file, "
                "or a scenario name (harness list)"
            )
        if sets:
            raise HarnessError(
                "--set applies to scenarios only: pass a script's own arguments "
                "after --, e.g. harness run my.py -- --items 10"
            )
        return Target(
            path.stem, "script", path.resolve(), list(script_args), {"argv": list(script_args)}
        )
    known = ", ".join(registry.SCENARIOS)
    raise HarnessError(
        f"unknown target {name!r}: use a scenario ({known}), a path to a .py script, "
        "-m package.module, or -- followed by a command"
    )


_FIND_MODULE = """
import importlib.util, sys
name = sys.argv[1]
try:
    spec = importlib.util.find_spec(name)
    if spec is not None and spec.submodule_search_locations is not None:
        spec = importlib.util.find_spec(name + ".__main__")
except Exception as exc:
    sys.exit(f"{type(exc).__name__}: {exc}")
sys.exit(0 if spec is not None else "not found")
"""


def _module(module: str, args: list[str]) -> Target:
    """`python -m module`: found as `python -m` would find it (the current directory first),
    in a throwaway interpreter so the module's packages are not imported into the harness."""
    if not module or module.startswith("-") or module.endswith("."):
        raise HarnessError(f"-m {module!r}: give a module name, e.g. -m package.module")
    probe = [sys.executable, "-c", _FIND_MODULE, module]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])),
    )
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HarnessError(f"-m {module}: could not look it up ({exc})") from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["not found"])[-1]
        raise HarnessError(
            f"-m {module}: no such module for {sys.executable} ({why}); run from the directory "
            "that holds its package, or install it into this environment"
        )
    target = Target(module, "module", None, list(args), {"argv": list(args)}, module=module)
    target.workload = _scenario_of(module)
    return target


def _command(command: list[str]) -> Target:
    """Any command, run as it is; its Python processes are found while it runs."""
    if not command or not command[0].strip():
        raise HarnessError(
            "empty command: put the command after --, e.g. harness run -- python -m pkg.mod"
        )
    if pycommand.which(command[0]) is None:
        where = "is not an executable file" if os.sep in command[0] else "is not on PATH"
        raise HarnessError(f"command {command[0]!r} {where}: give the program's path or install it")
    found = pycommand.python_command(command)
    if found is None:
        name = os.path.basename(command[0])
    elif found.mode == "module":
        name = found.program
    elif found.mode == "script":
        name = Path(found.program).stem
    else:
        name = "python-c"
    target = Target(name, "command", None, [], {"argv": list(command)}, command=list(command))
    if found is not None and found.mode == "module":
        target.workload = _scenario_of(found.program)
    return target


def _scenario_of(module: str) -> Scenario | None:
    return registry.of_module(module)
