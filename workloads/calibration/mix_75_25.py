"""Calibration case mix_75_25: compute 75% and sleep 25% of every 20 ms period.

Truth by construction: the thread wants a CPU 0.75 of the time; see casekit.duty_cycle.
"""

from __future__ import annotations

from workloads.calibration import casekit

if __name__ == "__main__":
    casekit.run_mix("mix_75_25", 0.75, __doc__)
