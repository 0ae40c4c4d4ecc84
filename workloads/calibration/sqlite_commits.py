"""Calibration case sqlite_commits: a SQLite database committing each row, synchronous=FULL.

Truth by construction: each commit writes the rollback journal and the database and flushes
both (fsync/fdatasync), then deletes the journal: the time is the storage's (waiting for each
flush, and the kernel's work on a CPU for it), so the run is disk-bound. Measured here before
causes were counted: 52% on a CPU, 89% of that system time, which the resource view called
mixed.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time

from workloads.calibration import casekit


def main(argv: list[str] | None = None) -> None:
    args = casekit.parse(__doc__, 3.0, argv, items=True)
    with tempfile.TemporaryDirectory(prefix="pipeprof-sqlite-") as tmp:
        db = sqlite3.connect(os.path.join(tmp, "rows.db"), isolation_level=None)
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT)")
        payload = "x" * 200
        started = time.perf_counter()
        deadline = started + args.seconds
        done = 0
        while (done < args.items) if args.items else (time.perf_counter() < deadline):
            db.execute("BEGIN")
            db.execute("INSERT INTO rows (payload) VALUES (?)", (payload,))
            db.execute("COMMIT")
            done += 1
        db.close()
        casekit.report("sqlite_commits", done, started)


if __name__ == "__main__":
    main()
