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


# C0 and C1 controls and the separators str.splitlines breaks at (NEL, U+2028, U+2029).
_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]} | {
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: " ",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped: an error or a warning
    quoting a user's path or value stays one line however odd the value."""
    return str(text).translate(_CONTROL)
