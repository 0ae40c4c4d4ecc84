"""Shapes of the JSON the harness reads back (summary.json, study.json), checked on load.

A file truncated, edited by hand or written by another version can hold a string where a
number belongs; found late, that is a traceback in `show`, `compare` or `report`. Checked on
load, it is one ValueError naming the file and the field, which the readers turn into a warning
and skip that file, so the rest still works. Only what the readers use is checked; keys the
harness does not know are left alone (newer versions add sections).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.sections import SPLIT_KEYS

Check = Callable[[Any, str], None]


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _fail(path: str, wanted: str, value: Any) -> None:
    raise ValueError(f"field {path} should be {wanted}, not {_kind(value)}")


def num(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(path, "a number", value)


def integer(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(path, "a whole number", value)


def text(value: Any, path: str) -> None:
    if not isinstance(value, str):
        _fail(path, "a string", value)


def anything(value: Any, path: str) -> None:
    return None


def optional(check: Check) -> Check:
    def run(value: Any, path: str) -> None:
        if value is not None:
            check(value, path)

    return run


def list_of(check: Check) -> Check:
    def run(value: Any, path: str) -> None:
        if not isinstance(value, list):
            _fail(path, "a list", value)
        for i, item in enumerate(value):
            check(item, f"{path}[{i}]")

    return run


def map_of(check: Check) -> Check:
    """An object whose every value passes `check`."""

    def run(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            _fail(path, "an object", value)
        for key, item in value.items():
            check(item, f"{path}.{key}")

    return run


def obj(fields: dict[str, Check], rest: Check = anything) -> Check:
    """An object: the named keys, where present, pass their check; other keys pass `rest`."""

    def run(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            _fail(path, "an object", value)
        for key, item in value.items():
            fields.get(key, rest)(item, f"{path}.{key}" if path else key)

    return run


NUMBER_OR_NULL = optional(num)


def figures(*names: str) -> Check:
    """An object whose named keys, where present, hold a number or null."""
    return obj(dict.fromkeys(names, NUMBER_OR_NULL))


SPLIT = obj(dict.fromkeys(SPLIT_KEYS, num))
STAGES = map_of(obj({"wall_s": NUMBER_OR_NULL, "share": NUMBER_OR_NULL, "cpu_s": NUMBER_OR_NULL}))
VERDICT = obj(
    {
        "bound": optional(text),
        "confidence": optional(text),
        "evidence": list_of(text),
        "advice": optional(text),
        "shares": optional(map_of(NUMBER_OR_NULL)),
    }
)

SUMMARY = obj(
    {
        "run_id": text,
        "target": text,
        "kind": text,
        "tool": text,
        "status": text,
        "schema": integer,
        "exit_code": optional(integer),
        "params": obj({}),
        "started_at": text,
        "command": list_of(text),
        "python_processes": list_of(obj({})),
        "wall_s": num,
        "cpu": figures("user_s", "sys_s", "cores_used", "cpu_count"),
        "split": SPLIT,
        "gil": figures("held_fraction", "waiting_fraction"),
        "memory": obj(
            {
                "peak_rss_source": optional(text),
                **dict.fromkeys(
                    ("peak_rss_mb", "monitor_peak_rss_mb", "workload_peak_rss_mb", "peak_heap_mb"),
                    NUMBER_OR_NULL,
                ),
            }
        ),
        "io": figures("read_mb", "write_mb", "read_chars_mb", "write_chars_mb"),
        "throughput": figures(
            "items", "items_out", "items_quarantined", "items_per_s", "elapsed_s"
        ),
        "stages": STAGES,
        "verdict": VERDICT,
        "artifacts": map_of(text),
        "tool_view": obj({"metrics": obj({}), "top": list_of(obj({}))}),
        "monitor": obj({}),
        "causes": obj(
            {
                "thread_time_s": NUMBER_OR_NULL,
                "unattributed_s": NUMBER_OR_NULL,
                **dict.fromkeys(("seconds", "shares", "families"), map_of(NUMBER_OR_NULL)),
            }
        ),
        "callsites": list_of(obj({})),
        "tool_overhead": optional(obj({"baseline_run": optional(text)})),
        "filesystem": optional(obj({})),
        "problems": list_of(text),
        "error": optional(obj({"message": optional(text), "stderr_tail": optional(text)})),
        "leftovers": list_of(obj({"pid": integer, "cmdline": text})),
        "disk": obj({"run_dir_bytes": integer, "artifacts": map_of(integer)}),
    }
)

RUN_RECORD = obj(
    {
        "dir": optional(text),
        "status": text,
        "items_per_s": NUMBER_OR_NULL,
        "wall_s": NUMBER_OR_NULL,
        "cache": text,
        "error": optional(text),
    }
)
POINT = obj(
    {
        "key": text,
        "scenario": text,
        "group": text,
        "label": text,
        "params": obj({}),
        "tool": text,
        "runs": list_of(RUN_RECORD),
        "status": text,
        "error": optional(text),
        "throughput": optional(
            figures("n", "median", "mean", "std", "minimum", "maximum", "q1", "q3", "rel_std")
        ),
        "median_run": optional(text),
        "stages": map_of(figures("wall_s", "share", "cpu_s")),
        "split": SPLIT,
        "verdict": obj({"bound": optional(text), "confidence": optional(text)}),
        "peak_rss_mb": NUMBER_OR_NULL,
        "cache": map_of(integer),
        "warning": optional(text),
        "samples": optional(obj({})),
    }
)
STUDY = obj(
    {
        "schema": integer,
        "meta": obj({}),
        "points": list_of(POINT),
        "warmups": list_of(RUN_RECORD),
        "answers": map_of(obj({})),
    }
)
REQUIRED_POINT = ("key", "scenario", "group", "label", "params", "tool")
REQUIRED_SPREAD = ("n", "median", "mean", "std", "minimum", "maximum")


def check_summary(data: dict[str, Any]) -> None:
    """ValueError naming the first field of a summary whose type is wrong."""
    SUMMARY(data, "")


def check_study(data: dict[str, Any]) -> None:
    """ValueError naming the first field of a study whose type or presence is wrong."""
    STUDY(data, "")
    for i, point in enumerate(data.get("points", [])):
        missing = [k for k in REQUIRED_POINT if k not in point]
        spread = point.get("throughput")
        if spread is not None:
            missing += [f"throughput.{k}" for k in REQUIRED_SPREAD if spread.get(k) is None]
        for j, rec in enumerate(point.get("runs", [])):
            missing += [f"runs[{j}].{k}" for k in ("dir", "status") if k not in rec]
        if missing:
            raise ValueError(f"points[{i}] lacks {', '.join(missing)}")
    for i, rec in enumerate(data.get("warmups", [])):
        if "dir" not in rec or "status" not in rec:
            raise ValueError(f"warmups[{i}] lacks dir or status")
