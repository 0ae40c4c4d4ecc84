"""JSON: whole run summaries, which load back with RunSummary.from_dict."""

from __future__ import annotations

import json
from dataclasses import dataclass

from harness.render.base import Renderer
from harness.runset import RunSet


@dataclass
class RunsJson(Renderer[RunSet], subject="runs", format="json", extension="json"):
    """One run's summary as an object when one run was asked for, else a list of them."""

    def render(self, data: RunSet) -> str:
        found = [s.to_dict() for s in data.summaries]
        return (
            json.dumps(found[0] if data.single and found else found, indent=2, default=str) + "\n"
        )
