"""The error a scenario raises when it cannot go on.

Shared by the scenario entry points (workloads/scenarios/) and the library they drive
(workloads/pipeline/), so that neither has to import the other for it.
"""


class WorkloadError(Exception):
    """A run that cannot go on; the message names the problem and what to do."""
