"""The one interface of every output: a renderer turns one kind of data into text of one format.

Like pyinstrument's renderers: options go to the constructor, `render(data)` returns the text,
and `extension` names the file it belongs in. A renderer declares these in its class line:
`class FlameGraph(Renderer[Stacks], subject="stacks", format="svg", extension="svg")`.
`subject` says what data a renderer takes (the registry in harness/render/__init__.py is keyed
by subject and format):
- "runs": a summary.RunSet (one run, or many as one table);
- "stacks": stacks.Stacks; "stack-diff": a (before, after) pair of them; "cause-stacks":
  stacks with their seconds by family of causes (render/causeflame.py);
- "comparison": a compare.Comparison;
- "calibration": a calibrate.Calibration;
- "report": the report's page context (report/build.py); "study": a study.results.Study.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


class Renderer(ABC, Generic[T]):
    """Turns one subject's data into the text of one format."""

    subject: ClassVar[str]
    format: ClassVar[str]
    extension: ClassVar[str]

    def __init_subclass__(cls, **declared: Any) -> None:
        for name in ("subject", "format", "extension"):
            if name in declared:
                setattr(cls, name, declared.pop(name))
        super().__init_subclass__(**declared)

    @abstractmethod
    def render(self, data: T) -> str:
        """The whole output as text."""
