"""Calibration case mix_50_50: compute 50% and sleep 50% of every 20 ms period.

Truth by construction: the thread wants a CPU 0.50 of the time; see casekit.duty_cycle.
"""

from __future__ import annotations

from workloads.calibration import casekit

if __name__ == "__main__":
    casekit.run_mix("mix_50_50", 0.50, __doc__)
