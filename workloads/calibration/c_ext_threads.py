"""Calibration case c_ext_threads: four threads hashing 8 MB buffers with hashlib.sha256.

Truth by construction: sha256 releases the GIL while it hashes a buffer larger than 2 KB, so
the threads compute in parallel on every core: CPU-bound, not GIL-bound, with about two cores
used on a two-core machine that is otherwise idle.
"""

from __future__ import annotations

import hashlib
import time

from workloads.calibration import casekit

THREADS = 4
BUFFER = 8 * 2**20


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv)
    data = bytes(range(256)) * (BUFFER // 256)  # a copy, not os.urandom: the main thread
    # must stay idle enough for the monitor to see it only waits (parked)
    started = time.perf_counter()
    deadline = started + args.seconds

    def work() -> int:
        hashed = 0
        while time.perf_counter() < deadline:
            hashlib.sha256(data).digest()
            hashed += 1
        return hashed

    done = casekit.in_threads(THREADS, "sha", work)
    casekit.report("c_ext_threads", done, started, threads=THREADS, buffer_mb=BUFFER >> 20)


if __name__ == "__main__":
    main()
