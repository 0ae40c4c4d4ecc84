"""Errors the CLI turns into one clear line and an exit code."""

from __future__ import annotations


class HarnessError(Exception):
    """A problem the user can fix: `message` names it and the fix; exit with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ToolUnavailable(HarnessError):
    """The profiler is missing or cannot attach here; the message says how to fix that."""
