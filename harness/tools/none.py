"""The `none` tool: the target runs as it is, with the monitor alone watching."""

from __future__ import annotations

from pathlib import Path

from harness.tools.base import LaunchContext, Tool, ToolResult


class NoTool(Tool):
    name = "none"
    description = "no profiler: the monitor alone (lowest overhead)"
    can_attach = True

    def problem(self) -> str | None:
        return None

    def command(self, target_argv: list[str], ctx: LaunchContext) -> list[str]:
        return list(target_argv)

    def collect(self, run_dir: Path) -> ToolResult:
        return ToolResult()
