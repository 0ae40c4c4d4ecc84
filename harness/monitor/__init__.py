"""Monitor of a process tree: exact CPU counters plus sampled blocked states, per thread.

monitor = Monitor(pid, exclude_names=frozenset({"profiler"}))  # its own processes left out
monitor.start()
...
report = monitor.stop()   # MonitorReport
"""

from harness.monitor.monitor import Monitor
from harness.monitor.report import MonitorReport

__all__ = ["Monitor", "MonitorReport"]
