"""Calibration case fsync_small: 100-byte appends to one file, each followed by os.fsync.

Truth by construction: nearly all the time goes to waiting for storage to confirm each fsync
(about a third of it on CPU, measured on the reference machine: the kernel's journal-less ext4
still spends CPU per flush), so the run is disk-bound.
"""

from __future__ import annotations

import os
import tempfile
import time

from workloads.calibration import casekit

RECORD = b"x" * 99 + b"\n"


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv, items=True)
    with tempfile.TemporaryDirectory(prefix="pipeprof-fsync-small-") as tmp:
        path = os.path.join(tmp, "appends.log")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        started = time.perf_counter()
        done = 0
        try:
            for done in casekit.rounds(args, started):  # noqa: B007 (reported below)
                os.write(fd, RECORD)
                os.fsync(fd)
        finally:
            os.close(fd)
        casekit.report("fsync_small", done, started)


if __name__ == "__main__":
    main()
