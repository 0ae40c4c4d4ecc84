"""Targets: a built-in scenario (by name) or any Python script (by path) -> what to launch."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from workloads import registry
from workloads.registry import Scenario


@dataclass
class Target:
    """What to run: `script` with `args`; for a scenario, its typed parameters too."""

    name: str
    kind: str  # "scenario" | "script"
    script: Path
    args: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    scenario: Scenario | None = None

    @property
    def is_asyncio(self) -> bool:
        return self.scenario.is_asyncio(self.params) if self.scenario else False

    @property
    def uses_api(self) -> bool:
        return self.scenario.uses_api(self.params) if self.scenario else False

    def argv(self, python: str) -> list[str]:
        return [python, str(self.script), *self.args]


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


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long, say: no such script either way
        return False


def resolve(name: str, sets: list[str], script_args: list[str]) -> Target:
    """The Target for a scenario name or a script path; HarnessError if it is neither."""
    if name in registry.SCENARIOS:
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
        f"unknown target {name!r}: use a scenario ({known}) or a path to a .py script"
    )
