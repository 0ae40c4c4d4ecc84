"""`python -m workloads.ingest_files`: the public entry point of the ingest_files scenario, and the
script the harness launches for it; the scenario itself is workloads/scenarios/ingest_files.py.

Launched from here, scalene's default scope (the files under the script's directory) covers
all of workloads/, the library included.
"""

from workloads.scenarios.ingest_files import main

if __name__ == "__main__":
    raise SystemExit(main())
