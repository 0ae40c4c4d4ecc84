"""Is this a Python program? For a command line (before it runs) and for a process (while it runs).

The tools that start the program themselves (memray, scalene, viztracer) can only wrap
`python SCRIPT`, `python -m MODULE` or `python -c CODE`; a console script (`pytest`, `dagster`)
is such a script behind a `#!.../python` line, so it is unwrapped to one. Anything else (a shell,
a binary that starts Python later) is not: py-spy, which attaches to running processes, still
follows the Python processes it starts.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)*)?t?$")
#: Python embedded in another program (uwsgi, a C extension host) maps libpython.
_LIBPYTHON = b"/libpython"
_SHEBANG_MAX = 256


@dataclass(frozen=True)
class PythonCommand:
    """A command line in the form the wrapping tools take: [python, program..., args...]."""

    python: str
    mode: str  # "script" | "module" | "code"
    program: str  # the script path, the module name or the code
    args: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        flag = {"script": [], "module": ["-m"], "code": ["-c"]}[self.mode]
        return [self.python, *flag, self.program, *self.args]


def is_python_name(path: str) -> bool:
    """`python`, `python3`, `python3.11`, `python3.13t`: an interpreter by its file name."""
    return _PYTHON_NAME.match(os.path.basename(path)) is not None


def which(program: str) -> str | None:
    """The executable `program` names: a path as given, else the first match on PATH."""
    if os.sep in program:
        return program if os.path.isfile(program) and os.access(program, os.X_OK) else None
    return shutil.which(program)


def shebang_python(path: str) -> list[str] | None:
    """The interpreter argv of a `#!` script whose interpreter is Python, else None.

    `#!/usr/bin/env python3` resolves python3 on PATH, as the kernel's exec of env would.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(_SHEBANG_MAX)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode(errors="replace").split()
    if words and os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
        found = which(words[0]) if words else None
        words = [found, *words[1:]] if found else []
    if not words or not is_python_name(words[0]) or len(words) > 1:
        return None  # interpreter flags on the #! line: not a plain `python script`
    return words


def python_command(argv: list[str]) -> PythonCommand | None:
    """`argv` as a PythonCommand when it is `python SCRIPT|-m MODULE|-c CODE [args]` or a
    console script; None for anything else (other programs, interpreter flags)."""
    if not argv:
        return None
    exe = which(argv[0])
    if exe is None:
        return None
    if not is_python_name(exe) and not is_python_name(os.path.realpath(exe)):
        interpreter = shebang_python(exe)
        if interpreter is None:
            return None
        return PythonCommand(interpreter[0], "script", exe, tuple(argv[1:]))
    rest = argv[1:]
    if not rest:
        return None  # an interactive interpreter
    if rest[0] in ("-m", "-c"):
        if len(rest) < 2:
            return None
        mode = "module" if rest[0] == "-m" else "code"
        return PythonCommand(argv[0], mode, rest[1], tuple(rest[2:]))
    if rest[0].startswith("-"):
        return None
    return PythonCommand(argv[0], "script", rest[0], tuple(rest[1:]))


def process_is_python(pid: int) -> bool:
    """Whether the process runs a Python interpreter now: by its executable's name, else by
    libpython in its memory map. False when it is gone or unreadable."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return False
    if is_python_name(exe.removesuffix(" (deleted)")):
        return True
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            return any(_LIBPYTHON in line for line in f)
    except OSError:
        return False


def image(pid: int) -> tuple[str, bytes] | None:
    """What the process runs: its executable and command line. It changes at exec, so a
    process that exec'd another program is told from the one first seen; None when gone."""
    try:
        exe = os.readlink(f"/proc/{pid}/exe")
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return exe, cmdline
