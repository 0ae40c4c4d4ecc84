"""Table cells as plain text, for tables more than one format shows (the terminal and Markdown
give calibration the same rows)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.render import fmt

if TYPE_CHECKING:
    from harness.calibrate import CaseRun

CALIBRATION_HEADERS = (
    "case",
    "truth",
    "tool",
    "harness says",
    "its largest causes",
    "CPU error",
    "cores",
    "peak RSS MB",
    "tool's own view",
    "result",
)
CALIBRATION_RIGHT = frozenset({"CPU error", "peak RSS MB"})


def calibration_row(run: CaseRun) -> list[str]:
    """One calibration run as the table's cells."""
    truth_cpu = fmt.number(run.expected_cpu)
    if run.expected_cpu is not None and not any(c.name == "cpu" for c in run.checks):
        truth_cpu = "~" + truth_cpu
    cores = fmt.number(run.cores_used)
    cores_check = next((c for c in run.checks if c.name == "cores"), None)
    if cores_check is not None and cores_check.ok is None:
        cores += " (busy)"
    return [
        run.case,
        f"{run.expected_bound or '-'}, {truth_cpu}",
        run.tool,
        f"{run.bound or '-'} {fmt.percent(run.bound_share)}",
        ", ".join(f"{k} {fmt.percent(v)}" for k, v in run.causes.items()) or fmt.MISSING,
        fmt.number(run.cpu_error, signed=True),
        cores,
        fmt.number(run.peak_rss_mb, 0),
        _view_text(run.tool_view),
        _result(run),
    ]


def _view_text(view: dict[str, Any]) -> str:
    if not view:
        return fmt.MISSING
    digits = 0 if view["label"].endswith("MB") else 2
    text = f"{view['label']} {fmt.number(view['value'], digits)}"
    if view.get("truth") is not None:
        error = fmt.number(view["error"], digits, signed=True)
        text += f" vs {fmt.number(view['truth'], digits)} ({error})"
    if view.get("gil_held") is not None:
        text += f", GIL held {fmt.number(view['gil_held'])}"
    return text


def _result(run: CaseRun) -> str:
    wrong = [c.name for c in run.checks if c.ok is False]
    return "FAIL: " + ", ".join(wrong) if wrong else "ok"
