"""Calibration case large_writes: 4 MB buffered writes without fsync, 128 MB then truncate.

Truth by construction: every byte is copied by the kernel into the page cache (system time in
write()), and the file is truncated before the dirty data could reach the device's limits, so
nothing waits on the device: the filesystem's page-cache work on a CPU. Filesystem-bound.
"""

from __future__ import annotations

import os
import tempfile
import time

from workloads.calibration import casekit

BLOCK = 4 * 2**20
BLOCKS_PER_ROUND = 32


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv, items=True)
    block = bytes(range(256)) * (BLOCK // 256)
    with tempfile.TemporaryDirectory(prefix="pipeprof-large-", dir=casekit.disk_dir()) as tmp:
        fd = os.open(os.path.join(tmp, "big.bin"), os.O_WRONLY | os.O_CREAT, 0o644)
        started = time.perf_counter()
        deadline = started + args.seconds
        done = 0
        try:
            while (done < args.items) if args.items else (time.perf_counter() < deadline):
                os.write(fd, block)
                done += 1
                if done % BLOCKS_PER_ROUND == 0:  # drop the dirty pages, unwritten
                    os.ftruncate(fd, 0)
                    os.lseek(fd, 0, os.SEEK_SET)
        finally:
            os.close(fd)
        casekit.report("large_writes", done, started, block_mb=BLOCK >> 20)


if __name__ == "__main__":
    main()
