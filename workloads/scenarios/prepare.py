"""The hook through which the harness prepares a run of a scenario: the arguments, environment
and services its launch needs, made outside the profiled process tree.

    with scenario.prepare(params, run_id, result_path) as prep:
        launch([*argv, *prep.args], env={**os.environ, **prep.env})

- the output directory: a scratch directory swept after later runs, or a fresh tmpfs, ext4,
  xfs or btrfs for `fs` (outputs.py): mkfs and mount are never measured;
- the loopback API server, for a run that reads from the API: started in a process of its
  own, so its CPU and sockets stay out of the client's figures;
- `--result`, where the scenario writes its result JSON.

Everything started lasts until the block ends. A module or command that runs a scenario
(`python -m workloads.output ...`) is prepared the same way, save the options its command
line already gives (`given`).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workloads.errors import WorkloadError
from workloads.scenarios import outputs

if TYPE_CHECKING:
    from workloads.registry import Scenario


@dataclass
class Preparation:
    """What a launch of the scenario gets besides its own parameters."""

    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    #: Where the output went (kind, type, options, source...), for the run's summary.
    filesystem: outputs.Record | None = None
    #: Said to the user and kept with the run (how a module run was prepared, say).
    notes: list[str] = field(default_factory=list)


def problem(params: dict[str, Any]) -> str | None:
    """Why a run with `params` cannot be prepared here (a filesystem that cannot be made),
    asked before anything is made; None when it can."""
    kind = params.get("fs")
    found = None if params.get("out_dir") else outputs.unavailable(kind)
    return f"--set fs={kind}: {found}" if found else None


def params_of(scenario: Scenario, argv: list[str]) -> dict[str, Any]:
    """The parameters a command line of the scenario asks for; the defaults where it cannot be
    parsed (the scenario then says what is wrong itself)."""
    from workloads.scenarios.cli import build_parser

    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return vars(build_parser(scenario).parse_known_args(argv)[0])
    except SystemExit:
        return scenario.defaults()


@contextmanager
def prepared(
    scenario: Scenario,
    params: dict[str, Any],
    run_id: str,
    result: Path,
    given: Collection[str] | None = None,
) -> Iterator[Preparation]:
    """Prepare one run of `scenario` with `params`; `given`: the words of a command line that
    runs the scenario as a module (None for a run the harness launches from the registry)."""
    words = set(given or ())
    prep = Preparation()
    with ExitStack() as stack:
        if "--result" not in words:
            prep.args += ["--result", str(result)]
        _output(stack, prep, params, run_id, words)
        _input_data(scenario, prep, params)
        if given is not None and "--out-dir" not in words:
            prep.notes.append(
                f"prepared as the {scenario.name} scenario: its output went to a scratch "
                "directory kept ~2 min (--out-dir), as the scenario's does"
            )
        if scenario.uses_api(params) and not params.get("api_url") and "--api-url" not in words:
            _api_server(stack, prep, params)
        yield prep


def _output(
    stack: ExitStack, prep: Preparation, params: dict[str, Any], run_id: str, words: set[str]
) -> None:
    kind, out_dir = params.get("fs"), params.get("out_dir")
    if out_dir or "--out-dir" in words:
        prep.filesystem = outputs.record(Path(out_dir), kind) if out_dir else None
        return
    try:
        if kind in (None, "disk"):
            directory, prep.filesystem = outputs.scratch(stack, run_id, kind)
        else:
            directory, prep.filesystem = outputs.fresh(stack, kind)
    except WorkloadError as exc:
        raise WorkloadError(f"--set fs={kind}: {exc}") from None
    prep.args += ["--out-dir", str(directory)]


def _input_data(scenario: Scenario, prep: Preparation, params: dict[str, Any]) -> None:
    """Make the data set the run reads, if it is not in the cache yet. Measured here: the
    first `ingest_files` run of 5,000 items spent 2.4 of its 2.7 s writing the files, and its
    verdict was the filesystem's, not the ingestion's."""
    from workloads import data
    from workloads.scenarios.base import cache_dir

    if scenario.input_layout is None:
        return
    full = {**scenario.defaults(), **params}
    layout = scenario.input_layout(full)
    if layout is None:
        return
    settings = (full["items"], full["seed"], layout, full["corrupt_rate"], cache_dir(full))
    if data.is_cached(*settings):
        return
    try:
        data.dataset(*settings)
    except OSError as exc:
        where = settings[4] or data.default_cache_dir()
        raise WorkloadError(
            f"could not write the input data set to {where}: {exc.strerror or exc}; "
            "free space there or give another directory (--set data_dir=DIR)"
        ) from None
    prep.notes.append(f"made the input data set first ({full['items']:,} items, {layout})")


def _api_server(stack: ExitStack, prep: Preparation, params: dict[str, Any]) -> None:
    from workloads.api_service import TOKEN_ENV, ApiServerProcess

    # A caller may choose the token; else the server makes a fresh one.
    server = stack.enter_context(
        ApiServerProcess.for_scenario(params, token=os.environ.get(TOKEN_ENV))
    )
    prep.args += ["--api-url", server.url]
    prep.env[TOKEN_ENV] = server.token
