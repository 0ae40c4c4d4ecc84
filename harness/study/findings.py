"""Write findings.md (rendered by harness/render/findings.py) beside study.json."""

from __future__ import annotations

from pathlib import Path

from harness.render.findings import FindingsMarkdown
from harness.study.results import FINDINGS_NAME, Study


def write(study: Study, study_dir: Path) -> Path:
    """Write findings.md atomically (temp file + rename) and return its path."""
    path = study_dir / FINDINGS_NAME
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(FindingsMarkdown().render(study))
    tmp.replace(path)
    return path
