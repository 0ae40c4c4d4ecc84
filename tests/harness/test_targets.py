"""Targets: scenario, script, -m module and any command, resolved before anything runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import pycommand, targets
from harness.errors import HarnessError


def test_module_target_runs_python_dash_m_with_its_arguments() -> None:
    target = targets.resolve(None, [], ["--items", "5"], module="workloads.output")

    assert target.kind == "module" and target.name == "workloads.output"
    assert target.argv("/py") == ["/py", "-m", "workloads.output", "--items", "5"]
    assert target.python_argv("/py") == target.argv("/py")
    assert target.params == {"argv": ["--items", "5"]}
    assert target.workload is not None and target.workload.name == "output"  # a built-in one


def test_a_module_is_found_in_the_current_directory_as_python_dash_m_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "etl").mkdir()
    (tmp_path / "etl" / "__init__.py").write_text("")
    (tmp_path / "etl" / "daily.py").write_text("print('daily')\n")
    monkeypatch.chdir(tmp_path)

    assert targets.resolve(None, [], [], module="etl.daily").module == "etl.daily"
    with pytest.raises(HarnessError, match="no such module"):
        targets.resolve(None, [], [], module="etl")  # a package without __main__


@pytest.mark.parametrize("module", ["no_such_module_here", "workloads.no_such", ""])
def test_a_module_that_cannot_be_found_is_refused(module: str) -> None:
    with pytest.raises(HarnessError) as caught:
        targets.resolve(None, [], [], module=module)
    assert caught.value.exit_code == 2 and "-m" in caught.value.message


def test_command_target_keeps_the_command_as_it_is() -> None:
    target = targets.resolve(None, [], [], command=["bash", "-c", "echo hi; true"])

    assert target.kind == "command" and target.name == "bash"
    assert target.argv("/py") == ["bash", "-c", "echo hi; true"]
    assert target.python_argv("/py") is None  # a shell: the wrapping tools cannot start it


def test_a_python_command_is_named_after_what_it_runs() -> None:
    target = targets.resolve(None, [], [], command=[sys.executable, "-m", "workloads.pipeline"])

    assert target.name == "workloads.pipeline" and target.workload.name == "pipeline"
    assert target.python_argv("/ignored") == [sys.executable, "-m", "workloads.pipeline"]


@pytest.mark.parametrize(
    "command, expected",
    [
        ([], "empty command"),
        ([""], "empty command"),
        (["no-such-program-anywhere"], "is not on PATH"),
        (["./not/here.sh"], "is not an executable file"),
    ],
)
def test_bad_commands_are_refused(command: list[str], expected: str) -> None:
    with pytest.raises(HarnessError, match=expected):
        targets.resolve(None, [], [], command=command)


def test_set_is_for_scenarios_only() -> None:
    with pytest.raises(HarnessError, match="--set applies to scenarios only"):
        targets.resolve(None, ["items=3"], [], module="workloads.output")


def test_nothing_to_run_names_every_way_to_give_a_target() -> None:
    with pytest.raises(HarnessError, match=r"-m package\.module or -- followed by a command"):
        targets.resolve(None, [], [])


def test_spec_makes_the_same_target_again(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("pass\n")
    for target in (
        targets.resolve("output", ["items=7"], ["--seed", "3"]),
        targets.resolve(str(script), [], ["-n", "1"]),
        targets.resolve(None, [], ["--items", "2"], module="workloads.output"),
        targets.resolve(None, [], [], command=["bash", "-c", "true"]),
    ):
        again = targets.from_spec(target.spec())
        assert again.argv("/py") == target.argv("/py") and again.params == target.params


def test_python_command_lines() -> None:
    py = sys.executable
    assert pycommand.python_command([py, "job.py", "-x"]) == pycommand.PythonCommand(
        py, "script", "job.py", ("-x",)
    )
    assert pycommand.python_command([py, "-m", "pkg.mod", "a"]).argv() == [py, "-m", "pkg.mod", "a"]
    assert pycommand.python_command([py, "-c", "pass"]).mode == "code"
    assert pycommand.python_command([py, "-u", "job.py"]) is None  # interpreter flags
    assert pycommand.python_command([py]) is None
    assert pycommand.python_command(["bash", "-c", "python3 x.py"]) is None


def test_a_console_script_is_unwrapped_to_its_python(tmp_path: Path) -> None:
    script = tmp_path / "mytool"
    script.write_text(f"#!{sys.executable}\nprint('hi')\n")
    script.chmod(0o755)
    env_script = tmp_path / "envtool"
    env_script.write_text("#!/usr/bin/env python3\nprint('hi')\n")
    env_script.chmod(0o755)
    shell = tmp_path / "run.sh"
    shell.write_text("#!/bin/sh\necho hi\n")
    shell.chmod(0o755)

    found = pycommand.python_command([str(script), "-q"])
    assert found is not None and found.argv() == [sys.executable, str(script), "-q"]
    via_env = pycommand.python_command([str(env_script)])
    assert via_env is not None and pycommand.is_python_name(via_env.python)
    assert pycommand.python_command([str(shell)]) is None


def test_a_running_python_is_told_from_other_processes() -> None:
    sleeper = subprocess.Popen(["sleep", "5"])
    try:
        assert pycommand.process_is_python(os.getpid())
        assert not pycommand.process_is_python(sleeper.pid)
        assert not pycommand.process_is_python(2**22 + 1)  # above pid_max: no such process
    finally:
        sleeper.kill()
        sleeper.wait()
