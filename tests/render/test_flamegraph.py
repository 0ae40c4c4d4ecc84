"""Flame graph SVGs, the differential graph, the colour and tooltip hooks, and speedscope."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from harness.render import flamegraph as fg
from harness.render.speedscope import to_speedscope

SVG = "{http://www.w3.org/2000/svg}"

CPU = ("<module> (job.py:30)", "run (job.py:20)", "transform (job.py:12)")
WAIT = ("<module> (job.py:30)", "Thread.join (threading.py:1119)")
WAIT += ("Thread._wait_for_tstate_lock (threading.py:1139)",)


def frames_of(svg: str) -> dict[str, tuple[ET.Element, ET.Element]]:
    """Frame name -> (title, rect) for every frame group in a rendered SVG."""
    root = ET.fromstring(svg)
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "f":
            found[group.get("data-name")] = (group.find(f"{SVG}title"), group.find(f"{SVG}rect"))
    return found


def rgb(rect: ET.Element) -> tuple[int, int, int]:
    r, g, b = map(int, re.findall(r"\d+", rect.get("fill")))
    return r, g, b


def test_svg_is_xml_with_root_at_bottom_and_widths_by_samples() -> None:
    stacks = {CPU: 75, WAIT: 25}

    svg = fg.render_svg(stacks, "job", subtitle="100 samples")

    frames = frames_of(svg)
    title, root = frames["all"]
    assert title.text == "all (100 samples, 100.00%)"
    assert frames["transform (job.py:12)"][0].text == "transform (job.py:12) (75 samples, 75.00%)"
    transform = frames["transform (job.py:12)"][1]
    assert float(transform.get("width")) == float(root.get("width")) * 0.75
    assert float(root.get("y")) > float(frames["<module> (job.py:30)"][1].get("y"))
    assert float(frames["<module> (job.py:30)"][1].get("y")) > float(transform.get("y"))


def test_svg_sorts_siblings_alphabetically_and_drops_tiny_frames() -> None:
    stacks = {("main (a.py:1)", "zeta (a.py:2)"): 500, ("main (a.py:1)", "alpha (a.py:3)"): 500}
    stacks[("main (a.py:1)", "tiny (a.py:4)")] = 1

    frames = frames_of(fg.render_svg(stacks, "t"))

    assert "tiny (a.py:4)" not in frames
    alpha_x = float(frames["alpha (a.py:3)"][1].get("x"))
    assert alpha_x < float(frames["zeta (a.py:2)"][1].get("x"))


def test_svg_escapes_markup_in_names_and_title() -> None:
    name = 'odd<&>"name (we<ird>.py:1)'
    stacks = {("<module> (a.py:1)", name): 3}

    svg = fg.render_svg(stacks, 'title <&> "q"', subtitle="a & b")

    root = ET.fromstring(svg)
    assert name in frames_of(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert 'title <&> "q"' in texts
    assert "a & b" in texts


def test_svg_colours_waiting_cool_and_running_warm() -> None:
    frames = frames_of(fg.render_svg({CPU: 50, WAIT: 50}, "t"))

    r, _, b = rgb(frames["Thread._wait_for_tstate_lock (threading.py:1139)"][1])
    assert b > r
    r, _, b = rgb(frames["Thread.join (threading.py:1119)"][1])
    assert b > r
    r, _, b = rgb(frames["transform (job.py:12)"][1])
    assert r > b
    assert frames_of(fg.render_svg({CPU: 1}, "t"))["transform (job.py:12)"][1].get("fill") == (
        frames["transform (job.py:12)"][1].get("fill")
    )


def test_svg_truncates_labels_of_narrow_frames() -> None:
    long = "a_function_with_a_rather_long_name (somewhere/deep/module.py:123)"
    stacks = {("main (a.py:1)", long): 100, ("main (a.py:1)", "other (a.py:2)"): 900}

    root = ET.fromstring(fg.render_svg(stacks, "t"))

    labels = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(label.startswith("a_function") and label.endswith("..") for label in labels)
    assert long not in labels


def test_svg_has_zoom_script_and_no_external_references() -> None:
    svg = fg.render_svg({CPU: 1}, "t")

    root = ET.fromstring(svg)
    assert root.find(f"{SVG}script") is not None
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_svg_without_samples_is_still_valid() -> None:
    root = ET.fromstring(fg.render_svg({}, "empty"))

    assert "no samples" in [t.text for t in root.iter(f"{SVG}text")]


def test_diff_colours_growth_red_and_shrinkage_blue_by_share() -> None:
    before = {("main (a.py:1)", "grows (a.py:2)"): 20, ("main (a.py:1)", "shrinks (a.py:3)"): 80}
    after = {("main (a.py:1)", "grows (a.py:2)"): 600, ("main (a.py:1)", "shrinks (a.py:3)"): 400}

    frames = frames_of(fg.render_diff_svg(before, after, "diff"))

    r, _, b = rgb(frames["grows (a.py:2)"][1])
    assert r > b
    r, _, b = rgb(frames["shrinks (a.py:3)"][1])
    assert b > r
    tooltip = frames["grows (a.py:2)"][0].text
    assert "before 20 = 20.00%" in tooltip
    assert "after 600 = 60.00%" in tooltip
    assert "+40.00 pp" in tooltip
    assert rgb(frames["main (a.py:1)"][1]) == (245, 245, 255)


def test_diff_lists_call_paths_only_in_before() -> None:
    before = {("main (a.py:1)", "gone (a.py:9)", "deep (a.py:10)"): 30, ("main (a.py:1)",): 70}
    after = {("main (a.py:1)",): 100}

    root = ET.fromstring(fg.render_diff_svg(before, after, "diff"))

    notes = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "note"]
    assert notes[0].startswith("Call paths only in before")
    assert any("gone (a.py:9) under main (a.py:1): 30 samples, 30.00%" in n for n in notes)
    assert not any("deep" in n for n in notes)


def test_speedscope_has_one_sampled_profile_per_thread() -> None:
    stacks = {
        ('process 5:"python job.py"', "thread (5)", "<module> (job.py:1)"): 1,
        ('process 5:"python job.py"', "thread (5): MainThread", *WAIT): 9,
        ('process 5:"python job.py"', "thread (6): worker", *CPU): 20,
        ('process 5:"python job.py"', "thread (6): worker"): 1,
    }

    doc = to_speedscope(stacks, "run-1")

    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert {"$schema", "shared", "profiles"} <= doc.keys()
    frames = doc["shared"]["frames"]
    assert all(isinstance(f["name"], str) for f in frames)
    assert {"name": "transform", "file": "job.py", "line": 12} in frames
    names = [p["name"] for p in doc["profiles"]]
    assert names == [
        "process 5 python job.py / thread (6): worker",
        "process 5 python job.py / thread (5): MainThread",
    ]
    for profile in doc["profiles"]:
        assert {"type", "name", "unit", "startValue", "endValue", "samples", "weights"} <= (
            profile.keys()
        )
        assert profile["type"] == "sampled"
        assert profile["unit"] == "none"
        assert len(profile["samples"]) == len(profile["weights"])
        assert profile["endValue"] == sum(profile["weights"])
        assert all(0 <= i < len(frames) for s in profile["samples"] for i in s)
    worker = doc["profiles"][0]
    assert [frames[i]["name"] for i in worker["samples"][0]] == ["<module>", "run", "transform"]
    assert sorted(worker["weights"]) == [1, 20]


def test_speedscope_without_thread_roots_is_one_profile() -> None:
    doc = to_speedscope({CPU: 3, WAIT: 1}, "merged")

    assert [p["name"] for p in doc["profiles"]] == ["merged"]
    assert doc["profiles"][0]["weights"] == [3, 1]
    assert to_speedscope({}, "none")["profiles"][0]["samples"] == []


def test_caller_colours_and_tooltips_replace_the_defaults_frame_by_frame() -> None:
    seen: list[fg.Frame] = []

    def colour(frame: fg.Frame) -> str:
        seen.append(frame)
        return "rgb(1,2,3)" if frame.name.startswith("transform") else fg.default_colour(frame)

    def tooltip(frame: fg.Frame) -> str:
        return f"{fg.default_tooltip(frame)} cause: python {frame.share:.2f}"

    svg = fg.render_svg(
        {CPU: 75, WAIT: 25},
        "causes",
        colour=colour,
        tooltip=tooltip,
        legend=[("rgb(1,2,3)", "python")],
    )

    frames = frames_of(svg)
    assert frames["transform (job.py:12)"][1].get("fill") == "rgb(1,2,3)"
    assert frames["transform (job.py:12)"][0].text.endswith("cause: python 0.75")
    assert rgb(frames["Thread.join (threading.py:1119)"][1])[2] > 200  # still the default blue
    assert {f.path for f in seen} >= {(), CPU[:1], CPU}
    legend_texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert "python" in legend_texts
