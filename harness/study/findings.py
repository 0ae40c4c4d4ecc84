"""Write findings.md (rendered by harness/render/findings.py) beside study.json."""

from __future__ import annotations

from pathlib import Path

from harness.files import write_text_atomic
from harness.render.findings import FindingsMarkdown
from harness.study.results import FINDINGS_NAME, Study


def write(study: Study, study_dir: Path) -> Path:
    """Write findings.md atomically and return its path."""
    path = study_dir / FINDINGS_NAME
    write_text_atomic(path, FindingsMarkdown().render(study))
    return path
