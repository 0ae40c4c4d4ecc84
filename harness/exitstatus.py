"""Run a command and record how it ended, for tools that hide it.

py-spy exits 0 whatever its target did, so under py-spy the target runs behind this shim:
`python -m harness.exitstatus STATUS_FILE -- argv...`. The shim waits for the target, writes
its exact return code (negative: killed by that signal) to STATUS_FILE, and exits like it.
It ignores SIGINT itself so that the target alone decides how to answer one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

MARKER = "harness.exitstatus"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m harness.exitstatus STATUS_FILE -- command...", file=sys.stderr)
        return 2
    status_file, command = argv[0], argv[2:]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    child = subprocess.Popen(command, preexec_fn=_default_sigint)
    code = child.wait()
    tmp = f"{status_file}.tmp"
    with open(tmp, "w") as f:
        json.dump({"returncode": code, "pid": child.pid}, f)
    os.replace(tmp, status_file)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
