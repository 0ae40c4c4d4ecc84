"""`harness prune`: remove old run directories from a profiles root, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError, one_line

if TYPE_CHECKING:
    from harness import prune

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def prune_command(
    keep: Annotated[
        int | None, typer.Option(help="keep the N newest runs (of those prune may remove)", min=0)
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option(help="remove runs started longer ago than this: 30d, 12h, 90m, 2w"),
    ] = None,
    max_size: Annotated[
        str | None,
        typer.Option(help="remove the oldest runs until the root fits: 5GB, 500MB (1024-based)"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="say what would be removed; remove nothing")
    ] = False,
    include_referenced: Annotated[
        bool,
        typer.Option(
            "--include-referenced",
            help="also remove runs that a study or a compare page under the root references",
        ),
    ] = False,
    out: Annotated[Path, typer.Option(help="profiles root")] = Path("profiles"),
) -> None:
    """Remove whole run directories, oldest first: beyond the --keep newest, older than
    --older-than, or until the root fits in --max-size (the rules add up). A run in progress
    is never touched; nor, without --include-referenced, one a study or a compare references."""
    from harness import prune

    if keep is None and older_than is None and max_size is None:
        raise HarnessError(
            "prune needs a rule: --keep N, --older-than AGE or --max-size SIZE "
            "(add --dry-run to see what would go)"
        )
    age = prune.parse_age(older_than) if older_than is not None else None
    size = prune.parse_size(max_size) if max_size is not None else None
    if not out.is_dir():
        raise HarnessError(f"--out {out}: no such directory; pass the profiles root to prune")
    chosen = prune.plan(out, keep, age, size, include_referenced)
    for warning in chosen.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(one_line(warning))}")
    if dry_run:
        removed, warnings = chosen.remove, []
    else:
        removed, warnings = prune.remove(chosen.remove)
    for warning in warnings:
        err_console.print(f"[yellow]warning:[/] {escape(one_line(warning))}")
    now = datetime.now(UTC)
    for line in removal_lines(chosen, removed, dry_run, now):
        console.print(escape(line))
    for line in kept_lines(chosen):
        console.print(escape(line))


def human_age(started: datetime, now: datetime) -> str:
    seconds = max(0.0, (now - started).total_seconds())
    for unit, scale in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= scale:
            return f"{seconds / scale:.0f}{unit} old"
    return f"{seconds:.0f}s old"


def removal_lines(
    chosen: prune.Plan, removed: list[prune.Run], dry_run: bool, now: datetime
) -> list[str]:
    from harness import prune

    verb = "would remove" if dry_run else "removed"
    lines = [
        f"{verb} {r.path.relative_to(chosen.root)} ({prune.human_size(r.size)}, "
        f"{human_age(r.started, now)})"
        for r in removed
    ]
    freed = sum(r.size for r in removed)
    left = len(chosen.runs) - len(removed)
    after = chosen.root_size - freed
    lines.append(
        f"{verb} {len(removed)} run(s), {'would free' if dry_run else 'freed'} "
        f"{prune.human_size(freed)}; {chosen.root} {'would hold' if dry_run else 'holds'} "
        f"{prune.human_size(after)} in {left} run(s)"
    )
    return lines


def kept_lines(chosen: prune.Plan) -> list[str]:
    lines = [f"kept {r.path.relative_to(chosen.root)}: in progress" for r in chosen.in_progress]
    referenced = chosen.kept_referenced
    if referenced:
        reasons = sorted({why for r in referenced for why in chosen.referenced[r.key]})
        shown = "; ".join(reasons[:3]) + ("; ..." if len(reasons) > 3 else "")
        lines.append(
            f"kept {len(referenced)} run(s) referenced by {shown} (--include-referenced "
            "removes them too)"
        )
    return lines
