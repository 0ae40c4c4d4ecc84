"""The flame graph SVG opened from disk in headless Chromium: clicking a frame zooms to it and
relabels the frames from their names, "Reset zoom" restores the layout, with no script errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.render.flamegraph import render_svg
from tests.study.cdp import check_page, find_chromium

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="chromium is not installed (apt-get install -y chromium): no browser to check with",
    ),
]

ZOOM = """
(() => {
  const frame = name => document.querySelector(`g.f[data-name="${name}"]`);
  const width = g => +g.querySelector("rect").getAttribute("width");
  const out = {};
  const narrow = frame("narrow_function_name (a.py:3)");
  out.before = width(narrow);
  out.labelBefore = narrow.querySelector("text").textContent;
  narrow.dispatchEvent(new MouseEvent("click", {bubbles: true}));
  out.zoomed = width(narrow);
  out.labelZoomed = narrow.querySelector("text").textContent;
  out.siblingHidden = frame("wide (a.py:2)").style.display === "none";
  document.getElementById("reset").dispatchEvent(new MouseEvent("click", {bubbles: true}));
  out.reset = width(narrow);
  out.siblingShown = frame("wide (a.py:2)").style.display === "";
  return out;
})()
"""


def test_clicking_a_frame_zooms_to_it_and_reset_restores(tmp_path: Path) -> None:
    stacks = {("main (a.py:1)", "wide (a.py:2)"): 990}
    stacks[("main (a.py:1)", "narrow_function_name (a.py:3)")] = 10
    svg = tmp_path / "flame.svg"
    svg.write_text(render_svg(stacks, "zoom"), encoding="utf-8")

    check = check_page(svg.as_uri(), ZOOM, tmp_path / "flame.png")

    assert check.errors == []
    page = check.result
    assert page["labelBefore"] == ""  # 1% of 1180 px is too narrow for a label
    assert page["zoomed"] == pytest.approx(1180, abs=0.2)
    assert page["labelZoomed"] == "narrow_function_name (a.py:3)"
    assert page["siblingHidden"] is True
    assert page["reset"] == pytest.approx(page["before"], abs=0.05)
    assert page["siblingShown"] is True
