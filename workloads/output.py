"""`python -m workloads.output`: the public entry point of the output scenario, and the
script the harness launches for it; the scenario itself is workloads/scenarios/output.py.

Launched from here, scalene's default scope (the files under the script's directory) covers
all of workloads/, the library included.
"""

from workloads.scenarios.output import main

if __name__ == "__main__":
    raise SystemExit(main())
