"""The one interface of every output: a renderer turns one kind of data into text of one format.

Like pyinstrument's renderers: options go to the constructor, `render(data)` returns the text,
and `extension` names the file it belongs in. `subject` says what data a renderer takes (the
registry in harness/render/__init__.py is keyed by subject and format):
- "runs": a summary.RunSet (one run, or many as one table);
- "stacks": stacks.Stacks; "stack-diff": a (before, after) pair of them;
- "comparison": a compare.Comparison;
- "calibration": a calibrate.Calibration.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

T = TypeVar("T")


class Renderer(ABC, Generic[T]):
    """Turns one subject's data into the text of one format."""

    subject: ClassVar[str]
    format: ClassVar[str]
    extension: ClassVar[str]

    @abstractmethod
    def render(self, data: T) -> str:
        """The whole output as text."""
