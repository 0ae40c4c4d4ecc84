"""`python -m workloads.ingest_api`: the public entry point of the ingest_api scenario, and the
script the harness launches for it; the scenario itself is workloads/scenarios/ingest_api.py.

Launched from here, scalene's default scope (the files under the script's directory) covers
all of workloads/, the library included.
"""

from workloads.scenarios.ingest_api import main

if __name__ == "__main__":
    raise SystemExit(main())
