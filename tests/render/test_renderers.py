"""Every registered renderer, given a small instance of its subject, renders without error into
text that its format's reader accepts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

from harness import render
from harness.render.base import Renderer

CPU = ("<module> (job.py:30)", "run (job.py:20)", "transform (job.py:12)")
WAIT = ("<module> (job.py:30)", "Thread.join (threading.py:1119)")

SAMPLES: dict[str, Callable[[], Any]] = {
    "stacks": lambda: {CPU: 75, WAIT: 25},
    "stack-diff": lambda: ({CPU: 75, WAIT: 25}, {CPU: 25, WAIT: 75}),
}
READERS: dict[str, Callable[[str], Any]] = {
    "svg": ET.fromstring,
    "speedscope": json.loads,
}


@pytest.mark.parametrize("key", sorted(render.RENDERERS), ids="/".join)
def test_every_renderer_renders_its_subject(key: tuple[str, str]) -> None:
    subject, format_ = key
    cls = render.get(subject, format_)
    assert issubclass(cls, Renderer)
    assert (cls.subject, cls.format) == key
    assert cls.extension

    text = cls().render(SAMPLES[subject]())

    assert text.strip()
    READERS[format_](text)


def test_an_unknown_format_names_the_ones_there_are() -> None:
    with pytest.raises(KeyError, match="there are speedscope, svg"):
        render.get("stacks", "pdf")
