"""Calibration case small_files: many 300-byte files created in one directory, no fsync.

Truth by construction: each file costs the kernel a create (inode and directory entry), an
open, a small copy into the page cache and a close, with nothing waiting on the device: the
time is the filesystem's work on a CPU (system time), not Python's. Filesystem-bound. Measured
here before causes were counted: 97% on a CPU, 77% of it system time, called cpu.
"""

from __future__ import annotations

import os
import tempfile
import time

from workloads.calibration import casekit

PAYLOAD = b"x" * 299 + b"\n"


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv, items=True)
    with tempfile.TemporaryDirectory(prefix="pipeprof-small-", dir=casekit.disk_dir()) as tmp:
        started = time.perf_counter()
        deadline = started + args.seconds
        done = 0
        while (done < args.items) if args.items else (time.perf_counter() < deadline):
            fd = os.open(os.path.join(tmp, f"{done}.json"), os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, PAYLOAD)
            os.close(fd)
            done += 1
        casekit.report("small_files", done, started)


if __name__ == "__main__":
    main()
