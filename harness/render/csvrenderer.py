"""CSV: a set of runs, one flattened row each (runset.COLUMNS), for spreadsheets and notebooks.
Figures are written unrounded; a missing one is an empty cell."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from harness.render.base import Renderer
from harness.runset import COLUMNS, RunSet, flatten


@dataclass
class RunsCsv(Renderer[RunSet], subject="runs", format="csv", extension="csv"):
    def render(self, data: RunSet) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for s in data.summaries:
            writer.writerow({k: "" if v is None else v for k, v in flatten(s).items()})
        return out.getvalue()
