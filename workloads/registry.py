"""The scenario registry: one entry per runnable scenario, read by the scenarios and the harness.

Each scenario's command-line options are built from its entry here, so the harness can check a
`--set key=value` before launching anything, and `harness list` shows exactly what a scenario
accepts. The harness reaches the workloads through this module only: the scenarios and their
parameters, each scenario's `prepare` hook (arguments, environment and services for a run),
and the fresh filesystems a study's groups of runs write to. What those need is imported when
they are called, so `import workloads.registry` stays light.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workloads.errors import WorkloadError

if TYPE_CHECKING:
    from workloads.scenarios.prepare import Preparation

#: The filesystems a scenario's output can go to (`fs`); workloads/filesystems.py makes them.
FILESYSTEMS = ("disk", "tmpfs", "ext4", "xfs", "btrfs")
PARAM_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


@dataclass(frozen=True)
class Param:
    """One scenario option: `name` uses underscores; its flag is `--name-with-dashes`."""

    name: str
    type: str
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None  # past it a value is a typo, not a plan (1e30 items)
    #: For a str: a regular expression the whole value must match, and what it looks like.
    pattern: tuple[str, str] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, raw: str) -> Any:
        """The typed value of `raw`; ValueError with a one-line reason if it is not valid."""
        if self.type == "bool":
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{self.name} takes true or false, not {raw!r}")
        try:
            value = PARAM_TYPES[self.type](raw)
        except ValueError:
            raise ValueError(
                f"{self.name} takes a{'n' if self.type == 'int' else ''} {self.type}, not {raw!r}"
            ) from None
        self.check(value)
        return value

    def check(self, value: Any) -> None:
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}, not {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{self.name} must be a finite number, not {value!r}")
        if self.minimum is not None and value is not None and value < self.minimum:
            raise ValueError(f"{self.name} must be >= {self.minimum:g}, not {value!r}")
        if self.maximum is not None and value is not None and value > self.maximum:
            raise ValueError(f"{self.name} must be <= {self.maximum:g}, not {value!r}")
        if self.pattern is not None and not re.fullmatch(self.pattern[0], str(value)):
            raise ValueError(f"{self.name} must look like {self.pattern[1]}, not {value!r}")


@dataclass(frozen=True)
class Scenario:
    """A runnable scenario: `python -m <module>` with the options of `params`."""

    name: str
    module: str
    description: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    needs_api: bool | tuple[str, Any] = False
    uses_asyncio_param: str | None = None

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


def _common(items: int) -> tuple[Param, ...]:
    return (
        Param("items", "int", items, "number of items", minimum=1, maximum=10**9),
        Param("seed", "int", 42, "seed of the synthetic data", minimum=0, maximum=2**63),
        Param("data_dir", "str", "", "cache directory of generated data (default: ~/.cache)"),
        Param("out_dir", "str", "", "where output goes (default: a fresh temp dir, removed)"),
        Param("result", "str", "", "also write the result JSON to this file"),
    )


_API = (
    Param("api_url", "str", "", "use this running API server instead of starting one"),
    Param(
        "latency_ms",
        "float",
        140.0,
        "per-request latency of the API server",
        minimum=0,
        maximum=3.6e6,
    ),
    Param(
        "rate_limit",
        "float",
        0.0,
        "API requests/s before 429 + Retry-After (0: off)",
        minimum=0,
        maximum=1e6,
    ),
    Param(
        "fault_rate", "float", 0.0, "fraction of API requests given a fault", minimum=0, maximum=1
    ),
    Param("page_size", "int", 10, "items per API page", minimum=1, maximum=10**6),
)
_CORRUPT = Param(
    "corrupt_rate", "float", 0.0, "fraction of malformed records", minimum=0, maximum=1
)
_FSYNC = Param("fsync", "str", "none", "fsync policy", choices=("none", "each", "batch", "end"))
_CHECKPOINT = (
    Param(
        "checkpoint_every",
        "int",
        0,
        "persist the committed position every K items (0: off)",
        minimum=0,
        maximum=10**9,
    ),
    Param("resume", "bool", False, "continue after the last checkpoint in --out-dir"),
)
_ENCODER = Param("encoder", "str", "json", "output serialiser", choices=("json", "orjson"))
_BATCH = Param(
    "batch_size", "int", 100, "items per file for the batched layout", minimum=1, maximum=10**9
)
_FORMAT = Param("format", "str", "jsonl", "collection file format", choices=("json", "jsonl"))
_NESTED = Param("nested", "bool", False, "individual layout: one mkdir'd directory per item")
_FS = Param(
    "fs",
    "str",
    "disk",
    "filesystem to write to: the default disk, a fresh tmpfs, or a fresh ext4/xfs/btrfs on a "
    "loop device (root)",
    choices=FILESYSTEMS,
)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "ingest_files",
            "workloads.ingest_files",
            "Read and parse JSON items from files (plan baseline and Task 3)",
            (
                *_common(10_000),
                Param(
                    "mode",
                    "str",
                    "sequential",
                    "ingest mode",
                    choices=("sequential", "asyncio", "threads", "processes"),
                ),
                Param(
                    "workers",
                    "int",
                    4,
                    "workers for asyncio, threads, processes",
                    minimum=1,
                    maximum=1024,
                ),
                Param("parser", "str", "json", "JSON parser", choices=("json", "orjson")),
                Param("layout", "str", "files", "input layout", choices=("files", "jsonl")),
                _CORRUPT,
            ),
            uses_asyncio_param="mode",
        ),
        Scenario(
            "ingest_api",
            "workloads.ingest_api",
            "Fetch items from the paginated loopback HTTP API (Task 4)",
            (
                *_common(1_000),
                Param(
                    "mode", "str", "sequential", "client mode", choices=("sequential", "asyncio")
                ),
                Param(
                    "workers", "int", 10, "requests in flight (asyncio)", minimum=1, maximum=1024
                ),
                *_API,
                _CORRUPT,
            ),
            needs_api=True,
            uses_asyncio_param="mode",
        ),
        Scenario(
            "output",
            "workloads.output",
            "Serialise and write items: layouts x fsync policies (Task 1)",
            (
                *_common(5_000),
                Param(
                    "layout",
                    "str",
                    "individual",
                    "output layout",
                    choices=("individual", "collection", "batched"),
                ),
                _FORMAT,
                _FSYNC,
                _BATCH,
                _NESTED,
                _FS,
                _ENCODER,
                *_CHECKPOINT,
            ),
        ),
        Scenario(
            "pipeline",
            "workloads.pipeline",
            "Ingest -> transform -> output end to end, with checkpoints (Task 2)",
            (
                *_common(10_000),
                Param("source", "str", "files", "where items come from", choices=("files", "api")),
                Param(
                    "ingest_mode",
                    "str",
                    "sequential",
                    "ingest mode",
                    choices=("sequential", "asyncio", "threads", "processes"),
                ),
                Param("workers", "int", 4, "ingest workers", minimum=1, maximum=1024),
                Param("parser", "str", "json", "JSON parser", choices=("json", "orjson")),
                Param(
                    "output_layout",
                    "str",
                    "individual",
                    "output layout",
                    choices=("individual", "collection", "batched"),
                ),
                _FORMAT,
                _FSYNC,
                _BATCH,
                _NESTED,
                _FS,
                _ENCODER,
                *_CHECKPOINT,
                Param(
                    "chunk_size",
                    "int",
                    256,
                    "items handed from stage to stage at a time",
                    minimum=1,
                    maximum=10**9,
                ),
                *_API,
                _CORRUPT,
            ),
            needs_api=("source", "api"),
            uses_asyncio_param="ingest_mode",
        ),
    )
}


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
