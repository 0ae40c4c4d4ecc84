"""`python -m workloads.pipeline`: the public entry point of the pipeline scenario, and the
script the harness launches for it; the scenario itself is workloads/scenarios/pipeline.py."""

from workloads.scenarios.pipeline import main

if __name__ == "__main__":
    raise SystemExit(main())
