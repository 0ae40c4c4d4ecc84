"""The report over the quick study's real runs, opened from disk in headless Chromium: no console
errors, every run in the table, the plots drawn, sorting and filtering working."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report.build import build
from harness.summary import find_runs

from .cdp import check_page, find_chromium

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="chromium is not installed (apt-get install -y chromium): no browser to check with",
    ),
]

SCREENSHOT = Path(__file__).resolve().parents[2] / "test-artifacts" / "report.png"

CHECKS = """
(() => {
  const rows = () => Array.from(document.querySelectorAll("tr.run-row"));
  const visible = () => rows().filter(r => !r.hidden);
  const out = {};
  out.rows = rows().length;
  out.names = rows().map(r => r.cells[0].querySelector("a").textContent.trim());
  const imgs = Array.from(document.querySelectorAll("figure.plot img"));
  out.plots = imgs.length;
  out.plotsLoaded = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  out.answers = Array.from(document.querySelectorAll("#findings .card p")).map(p => p.textContent);
  const filter = document.getElementById("filter");
  filter.value = "py-spy";
  filter.dispatchEvent(new Event("input"));
  out.filtered = visible().length;
  out.filteredTools = visible().map(r => r.cells[2].textContent.trim());
  out.count = document.getElementById("count").textContent;
  filter.value = "";
  filter.dispatchEvent(new Event("input"));
  const header = Array.from(document.querySelectorAll("th")).find(h => h.textContent === "Items/s");
  header.click();
  header.click();
  out.sortedDesc = visible().map(r => r.cells[5].getAttribute("data-sort"))
    .filter(v => v !== "").map(Number);
  return out;
})()
"""


def test_report_in_chromium(quick_study):
    root = quick_study.root
    built = build(root)
    runs = find_runs(root)

    check = check_page(built.index.resolve().as_uri(), CHECKS, SCREENSHOT)

    assert check.errors == []
    page = check.result
    assert page["rows"] == len(runs)
    assert sorted(page["names"]) == sorted(d.name for d in runs)
    assert page["plots"] >= 4 and page["plotsLoaded"] == page["plots"]
    # Q1-Q4, the storage model's answer and the recommendation
    assert len(page["answers"]) == 6 and all(len(a) > 40 for a in page["answers"])
    assert page["filtered"] == sum(1 for r in built.collection.rows if r.tool == "py-spy") > 0
    assert set(page["filteredTools"]) == {"py-spy"}
    assert page["count"].startswith(f"{page['filtered']} of {len(runs)}")
    values = page["sortedDesc"]
    assert values and values == sorted(values, reverse=True)
    assert SCREENSHOT.stat().st_size > 10_000
