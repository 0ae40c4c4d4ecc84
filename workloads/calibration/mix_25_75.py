"""Calibration case mix_25_75: compute 25% and sleep 75% of every 20 ms period.

Truth by construction: the thread wants a CPU 0.25 of the time; see casekit.duty_cycle.
"""

from __future__ import annotations

from workloads.calibration import casekit

if __name__ == "__main__":
    casekit.run_mix("mix_25_75", 0.25, __doc__)
