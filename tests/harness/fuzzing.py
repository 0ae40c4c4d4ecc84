"""Helpers of the fuzz tests: call the `harness` entry point in this process and capture what it
prints, and the strategies that make arguments."""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from harness import cli, tools
from workloads import registry


@dataclass
class Call:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def call(argv: list[str]) -> Call:
    """Run `harness argv...` through cli.main, as the console script does; never raises but
    for an exception main lets escape (which the fuzz reports as a traceback)."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["harness", *argv]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = saved
    return Call(code, out.getvalue(), err.getvalue())


# Text a user could type: anything but NUL, which no argv can hold.
TYPED = st.text(st.characters(blacklist_characters="\x00", codec="utf-8"), max_size=12)
ODD = st.sampled_from(
    ["", " ", "-", "--", "0", "-0", "-1", "1e309", "nan", "inf", "-inf", "1.5", "1e-30",
     "99999999999999999999999", "0x10", "1_000", "true", "no", "null", "..", "/", "é", "日本",
     "\u202e", " 5 ", "٣"]
)  # fmt: skip
NUMBERS = st.one_of(
    st.integers(-(10**25), 10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
VALUES = st.one_of(ODD, NUMBERS, TYPED)
KEYS = st.one_of(
    st.sampled_from(
        sorted({p.name for s in registry.SCENARIOS.values() for p in s.params})
        + sorted({o.name for t in tools.every() for o in t.options})
    ),
    st.sampled_from(["", " ", "items ", "ITEMS", "it-ems", "=", "a=b"]),
    TYPED,
)
SETS = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", KEYS, VALUES),
    st.builds(lambda k, v: f"{k.replace('_', '-')}={v}", KEYS, VALUES),
    KEYS,  # no "=" at all
)
TOOL_NAMES = st.one_of(st.sampled_from([*tools.REGISTRY, "all", "", "perf", "PY-SPY"]), TYPED)


def paths(base: Path) -> st.SearchStrategy[str]:
    """Paths of every kind: missing, a file, a directory, under a file, unwritable, too long,
    empty, odd characters."""
    return st.one_of(
        st.sampled_from(
            [
                str(base / "missing" / "deeper"),
                str(base / "a-file.txt"),
                str(base / "a-file.txt" / "under"),
                str(base / "a-dir"),
                str(base / "script.py"),
                str(base / "not-python.txt"),
                "/proc/pipeprof-cannot-be-made",
                "",
                ".",
                str(base / ("x" * 300)),
                str(base / "/".join(["deep"] * 1100)),
            ]
        ),
        TYPED.map(lambda name: str(base / _inside(name)) if name else ""),
    )


def _inside(name: str) -> str:
    """One path component that stays inside the base: prune and report write where pointed."""
    name = name.replace("/", "_")
    return "dot" if name in (".", "..") else name


def prepare(base: Path) -> None:
    """The files and directories `paths` names."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "a-file.txt").write_text("not a directory\n")
    (base / "a-dir").mkdir(exist_ok=True)
    (base / "script.py").write_text("print('hello')\n")
    (base / "not-python.txt").write_text("print('hello')\n")
