"""Scenario parameters: the typed option (`Param`, one parser for every `--set key=value` and
every scenario flag, tool options too) and the groups of them scenarios share.

Each group is written once: the common options, the API server's, the ingest and the output
stages' (the output and pipeline scenarios name their layout differently).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

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


def common(items: int) -> tuple[Param, ...]:
    return (
        Param("items", "int", items, "number of items", minimum=1, maximum=10**9),
        Param("seed", "int", 42, "seed of the synthetic data", minimum=0, maximum=2**63),
        Param("data_dir", "str", "", "cache directory of generated data (default: ~/.cache)"),
        Param("out_dir", "str", "", "where output goes (default: a fresh temp dir, removed)"),
        Param("result", "str", "", "also write the result JSON to this file"),
    )


API = (
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
CORRUPT = Param("corrupt_rate", "float", 0.0, "fraction of malformed records", minimum=0, maximum=1)
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


def ingest(mode: str, workers_help: str) -> tuple[Param, ...]:
    """How items are read: the mode (its parameter is `mode`), workers and JSON parser."""
    return (
        Param(
            mode,
            "str",
            "sequential",
            "ingest mode",
            choices=("sequential", "asyncio", "threads", "processes"),
        ),
        Param("workers", "int", 4, workers_help, minimum=1, maximum=1024),
        Param("parser", "str", "json", "JSON parser", choices=("json", "orjson")),
    )


def output(layout: str) -> tuple[Param, ...]:
    """How items are written: the layout (its parameter is `layout`), file format, fsync
    policy, batch size, nesting, filesystem, encoder and checkpoints."""
    return (
        Param(
            layout,
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
    )
