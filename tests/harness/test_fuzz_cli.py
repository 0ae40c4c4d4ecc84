"""Generated command lines: never a traceback; exit 0, or one line and exit 2 with nothing
written under the profiles root.

The entry point runs in this process (a few ms a call). What a valid call would launch is
replaced by a stand-in that checks the request is one a run can take (finite numbers, tool
options its adapter accepts) and returns an ok outcome: the runs themselves are covered by the
reliability suite, with real processes.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import calibrate as calibrate_module
from harness import runner
from harness.runner import RunOutcome, RunRequest
from harness.study import execute as study_execute
from harness.study.results import Study, save
from harness.summary import RunSummary
from harness.tools.base import LaunchContext
from tests.harness import fuzzing
from workloads import registry

FUZZ = settings(
    max_examples=int(os.environ.get("PIPEPROF_FUZZ_EXAMPLES", "150")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A directory of files and directories to point at; the calls run with it as cwd."""
    path = tmp_path_factory.mktemp("fuzz")
    fuzzing.prepare(path)
    before = Path.cwd()
    os.chdir(path)
    yield path
    os.chdir(before)


def fake_execute(request: RunRequest, progress=None) -> RunOutcome:
    """Stands for a run: the request must be one a run can take."""
    for name in ("timeout_s", "grace_s"):
        value = getattr(request, name)
        assert value is None or (math.isfinite(value) and value >= 0), (name, value)
    for key, value in request.target.params.items():
        assert not isinstance(value, float) or math.isfinite(value), (key, value)
    ctx = LaunchContext(
        run_dir=Path("/nonexistent"),
        python=sys.executable,
        options=request.options,
        is_asyncio=request.target.is_asyncio,
    )
    request.tool.command(request.target.argv(sys.executable), ctx)  # must not refuse now
    summary = RunSummary("fuzz", request.target.name, request.target.kind, request.tool.name)
    summary.status = "ok"
    return RunOutcome(Path("/nonexistent/fuzz-run"), summary)


def fake_study(quick, repeat, root, console) -> Path:
    study_dir = root / "study-fuzz"
    study_dir.mkdir(exist_ok=True)
    save(Study(), study_dir)
    return study_dir


def snapshot(path: Path) -> dict[str, tuple[bool, int]]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            try:
                st_ = full.lstat()
            except OSError:
                continue
            found[str(full.relative_to(path))] = (full.is_dir(), st_.st_size)
    return found


def check(base: Path, argv: list[str]) -> None:
    before = snapshot(base)
    with (
        # the commands import these when they run: patched where they live
        mock.patch.object(runner, "execute", fake_execute),
        mock.patch.object(study_execute, "run_study", fake_study),
        mock.patch.object(calibrate_module, "calibrate", lambda *a, **k: []),
    ):
        done = fuzzing.call(argv)
    shown = f"harness {' '.join(map(repr, argv))}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr, shown
    assert done.code in (0, 2), shown
    if done.code == 2:
        assert len(done.error_lines) == 1, shown
        assert done.error_lines[0].startswith("error:"), shown
        after = snapshot(base)
        changed = {k for k in before if k in after and before[k] != after[k] and not after[k][0]}
        added_files = {k for k in after.keys() - before.keys() if not after[k][0]}
        assert not changed and not added_files, f"a rejected call wrote {changed | added_files}"


def run_argv(base: Path) -> st.SearchStrategy[list[str]]:
    paths = fuzzing.paths(base)
    option = st.one_of(
        st.tuples(st.sampled_from(["--tool", "-t"]), fuzzing.TOOL_NAMES),
        st.tuples(st.sampled_from(["--set", "-s"]), fuzzing.SETS),
        st.tuples(st.sampled_from(["--timeout", "--grace"]), fuzzing.VALUES),
        st.tuples(st.just("--out"), paths),
        st.tuples(st.sampled_from(["--module", "-m"]), fuzzing.VALUES),
        st.tuples(st.just("--repeat"), fuzzing.VALUES),
        st.tuples(st.sampled_from(["--baseline", "--no-baseline", "--keep-leftovers"])),
        st.tuples(st.sampled_from(["--frobnicate", "-x", "--set", "--tool", "--timeout"])),
    )
    target = st.one_of(
        st.sampled_from([*registry.SCENARIOS, "all", "list", "-", "--", "--help"]),
        paths,
        fuzzing.TYPED,
    )
    return st.builds(
        lambda t, opts, rest: ["run", t, *(x for o in opts for x in o), *rest],
        target,
        st.lists(option, max_size=6),
        st.one_of(st.just([]), st.lists(fuzzing.VALUES, max_size=3).map(lambda a: ["--", *a])),
    )


def other_argv(base: Path) -> st.SearchStrategy[list[str]]:
    paths = fuzzing.paths(base)
    return st.one_of(
        st.builds(lambda ps, f: ["show", *ps, *f], st.lists(paths, max_size=3),
                  st.sampled_from([[], ["--format", "csv"], ["--json"], ["--format", "x"],
                                   ["--json", "--format", "csv"]])),
        st.builds(lambda a, b: ["compare", a, b], paths, paths),
        st.builds(lambda o: ["report", "--out", o], paths),
        st.builds(
            lambda o, rules: ["prune", "--out", o, "--dry-run", *rules],
            paths,
            st.lists(
                st.tuples(st.sampled_from(["--keep", "--older-than", "--max-size"]), fuzzing.VALUES)
                .map(list),
                max_size=3,
            ).map(lambda xs: [x for pair in xs for x in pair]),
        ),
        st.builds(lambda r, q: ["study", "--repeat", r, "--out", q], fuzzing.VALUES, paths),
        st.builds(lambda s, c: ["calibrate", "--seconds", s, "--cases", c, "--out", "cal"],
                  fuzzing.VALUES, fuzzing.TYPED),
        st.lists(fuzzing.VALUES, max_size=3),
        st.just(["list"]),
    )  # fmt: skip


@FUZZ
@given(data=st.data())
def test_run_with_generated_arguments(base, data):
    check(base, data.draw(run_argv(base)))


@FUZZ
@given(data=st.data())
def test_other_commands_with_generated_arguments(base, data):
    check(base, data.draw(other_argv(base)))
