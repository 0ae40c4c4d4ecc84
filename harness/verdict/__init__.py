"""The verdict: what bounds a run, by cause, with its evidence and advice (see rules.py)."""

from harness.verdict.rules import Queueing, Verdict, decide, queueing

__all__ = ["Queueing", "Verdict", "decide", "queueing"]
