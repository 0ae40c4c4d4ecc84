"""Calibration case fsync_large: 4 MB writes to one file, each followed by os.fsync.

Truth by construction: every write overwrites the same 4 MB at offset 0, so it is a copy into
pages already in the page cache (about 0.5 ms of CPU here) and every fsync must push 4 MB to
storage (about 2 ms here, on a virtual disk): the run is disk-bound. Appending instead would add
block allocation to each write (10 ms of mostly CPU here) and grow the file without bound.
"""

from __future__ import annotations

import os
import tempfile
import time

from workloads.calibration import casekit

CHUNK = 4 * 2**20


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv)
    block = os.urandom(CHUNK)  # incompressible, made before the clock starts
    with tempfile.TemporaryDirectory(prefix="pipeprof-fsync-large-") as tmp:
        fd = os.open(os.path.join(tmp, "large.bin"), os.O_WRONLY | os.O_CREAT, 0o644)
        started = time.perf_counter()
        deadline = started + args.seconds
        done = 0
        try:
            while time.perf_counter() < deadline:
                os.pwrite(fd, block, 0)
                os.fsync(fd)
                done += 1
        finally:
            os.close(fd)
        casekit.report("fsync_large", done, started, mb_synced=done * CHUNK // 2**20)


if __name__ == "__main__":
    main()
