"""The scenario registry: one entry per runnable scenario, read by the scenarios and the harness.

Each scenario's command-line options are built from its entry here, so the harness can check a
`--set key=value` before launching anything, and `harness list` shows exactly what a scenario
accepts. The harness reaches the workloads through this module only: the scenarios and their
parameters, each scenario's `prepare` hook (arguments, environment and services for a run),
and the fresh filesystems a study's groups of runs write to. What those need is imported when
they are called, so `import workloads.registry` stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workloads import params as p
from workloads.errors import WorkloadError
from workloads.params import FILESYSTEMS, Param

if TYPE_CHECKING:
    from workloads.scenarios.prepare import Preparation


@dataclass(frozen=True)
class Scenario:
    """A runnable scenario: `python -m <module>` with the options of `params`."""

    name: str
    module: str
    description: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    needs_api: bool | tuple[str, Any] = False
    uses_asyncio_param: str | None = None
    #: The layout of the input data set a run reads, from its parameters (None: it reads
    #: none). The hook makes the data set before the launch, so that writing it on first use
    #: is never profiled as the scenario's work.
    input_layout: Callable[[dict[str, Any]], str | None] | None = None

    def uses_api(self, params: dict[str, Any]) -> bool:
        """Whether a run with `params` talks to the API server (which the harness then starts)."""
        if isinstance(self.needs_api, tuple):
            key, value = self.needs_api
            return params.get(key, self.defaults().get(key)) == value
        return self.needs_api

    def is_asyncio(self, params: dict[str, Any]) -> bool:
        if self.uses_asyncio_param is None:
            return False
        key = self.uses_asyncio_param
        return params.get(key, self.defaults().get(key)) == "asyncio"

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def prepare(
        self,
        params: dict[str, Any],
        run_id: str,
        result: Path,
        given: Collection[str] | None = None,
    ) -> AbstractContextManager[Preparation]:
        """The hook a run of this scenario is prepared with: its extra arguments, environment
        and services, which last as long as the block (workloads/scenarios/prepare.py).
        WorkloadError when it cannot be prepared."""
        from workloads.scenarios import prepare

        return prepare.prepared(self, params, run_id, result, given)

    def prepare_problem(self, params: dict[str, Any]) -> str | None:
        """Why a run with `params` cannot be prepared here, asked before anything is made."""
        from workloads.scenarios import prepare

        return prepare.problem(params)

    def params_of(self, argv: list[str]) -> dict[str, Any]:
        """The parameters a command line of this scenario (`python -m <module> ARGS`) asks for."""
        from workloads.scenarios import prepare

        return prepare.params_of(self, argv)


_SCENARIOS = (
    Scenario(
        "ingest_files",
        "workloads.ingest_files",
        "Read and parse JSON items from files (plan baseline and Task 3)",
        (
            *p.common(10_000),
            *p.ingest("mode", "workers for asyncio, threads, processes"),
            Param("layout", "str", "files", "input layout", choices=("files", "jsonl")),
            p.CORRUPT,
        ),
        uses_asyncio_param="mode",
        input_layout=lambda params: params["layout"],
    ),
    Scenario(
        "ingest_api",
        "workloads.ingest_api",
        "Fetch items from the paginated loopback HTTP API (Task 4)",
        (
            *p.common(1_000),
            Param("mode", "str", "sequential", "client mode", choices=("sequential", "asyncio")),
            Param("workers", "int", 10, "requests in flight (asyncio)", minimum=1, maximum=1024),
            *p.API,
            p.CORRUPT,
        ),
        needs_api=True,
        uses_asyncio_param="mode",
    ),
    Scenario(
        "output",
        "workloads.output",
        "Serialise and write items: layouts x fsync policies (Task 1)",
        (*p.common(5_000), *p.output("layout")),
    ),
    Scenario(
        "pipeline",
        "workloads.pipeline",
        "Ingest -> transform -> output end to end, with checkpoints (Task 2)",
        (
            *p.common(10_000),
            Param("source", "str", "files", "where items come from", choices=("files", "api")),
            *p.ingest("ingest_mode", "ingest workers"),
            *p.output("output_layout"),
            Param(
                "chunk_size",
                "int",
                256,
                "items handed from stage to stage at a time",
                minimum=1,
                maximum=10**9,
            ),
            *p.API,
            p.CORRUPT,
        ),
        needs_api=("source", "api"),
        uses_asyncio_param="ingest_mode",
        input_layout=lambda params: "files" if params["source"] == "files" else None,
    ),
)
#: The scenarios by name, in the order `harness list` shows them.
SCENARIOS: dict[str, Scenario] = {s.name: s for s in _SCENARIOS}


def get(name: str) -> Scenario:
    """The scenario called `name`; KeyError if there is none."""
    return SCENARIOS[name]


def of_module(module: str) -> Scenario | None:
    """The scenario `python -m module` runs, if any."""
    return next((s for s in SCENARIOS.values() if s.module == module), None)


# -- fresh filesystems, for the runs a study groups on one filesystem --------------------------


def filesystem_problem(kind: str) -> str | None:
    """Why the filesystem `kind` cannot be made here; None when it can."""
    from workloads.scenarios import outputs

    return outputs.unavailable(kind)


def fresh_filesystem(stack: ExitStack, kind: str) -> tuple[Path, dict[str, Any]]:
    """An empty directory on a fresh `kind` filesystem, unmade when `stack` closes, and what a
    run records of it; WorkloadError when it cannot be made."""
    from workloads.scenarios import outputs

    return outputs.fresh(stack, kind)


def disk_record(directory: Path) -> dict[str, Any]:
    """What a run records of an output directory on the default disk."""
    from workloads.scenarios import outputs

    return outputs.disk_record(directory)


__all__ = ["FILESYSTEMS", "SCENARIOS", "Param", "Scenario", "WorkloadError", "get", "of_module"]
