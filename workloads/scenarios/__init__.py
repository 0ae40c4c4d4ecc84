"""The scenarios' entry points: one module per scenario (its body and `main`), what they share
(`base`: options, output directory, errors, the result line), and `prepare`, the hook through
which the harness prepares a scenario's run (output directory, API server) from outside it.

`python -m workloads.<scenario>` reaches them through thin modules of that name, which stay
the public entry points the README and users' scripts call.
"""
