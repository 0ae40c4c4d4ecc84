"""Folded-stack parsing, flame graph SVGs, the differential graph and speedscope export."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from harness import flamegraph as fg

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
            title = group.find(f"{SVG}title")
            name = re.sub(r" \([^()]*\)$", "", title.text)
            found[name] = (title, group.find(f"{SVG}rect"))
    return found


def rgb(rect: ET.Element) -> tuple[int, int, int]:
    r, g, b = map(int, re.findall(r"\d+", rect.get("fill")))
    return r, g, b


def test_parse_sums_repeated_stacks_and_skips_blank_and_malformed_lines() -> None:
    text = "a;b 3\n\n  \na;b 2\na;c 1\na;trunc\nx;y notanumber\n"
    malformed: list[str] = []

    stacks = fg.parse_folded(text, malformed=malformed)

    assert stacks == {("a", "b"): 5, ("a", "c"): 1}
    assert malformed == ["a;trunc", "x;y notanumber"]


def test_parse_keeps_frames_with_spaces_and_quoted_semicolons() -> None:
    text = (
        'process 7:"python job.py --sep ;x";thread (7): MainThread;'
        "<module> (job.py:3);Foo.bar (my dir/job.py:9) 4\n"
        " 2\n"
    )

    stacks = fg.parse_folded(text)

    assert stacks == {
        (
            'process 7:"python job.py --sep ;x"',
            "thread (7): MainThread",
            "<module> (job.py:3)",
            "Foo.bar (my dir/job.py:9)",
        ): 4,
        (): 2,
    }


def test_to_folded_round_trips() -> None:
    stacks = {CPU: 7, WAIT: 3, ('process 1:"a;b"', "thread (1)", "f (x.py:1)"): 1}

    assert fg.parse_folded(fg.to_folded(stacks)) == stacks


def test_split_frame_reads_python_native_and_root_frames() -> None:
    assert fg.split_frame("transform (job.py:12)") == ("transform", "job.py", 12)
    assert fg.split_frame("_find_and_load (<frozen importlib._bootstrap>:1176)") == (
        "_find_and_load",
        "<frozen importlib._bootstrap>",
        1176,
    )
    assert fg.split_frame("select (libc.so.6)") == ("select", "libc.so.6", None)
    assert fg.split_frame("thread (12)") == ("thread (12)", None, None)


def test_helpers_total_strip_and_top() -> None:
    stacks = {
        ('process 1:"py"', "thread (1)", *CPU): 6,
        ('process 1:"py"', "thread (2): worker", *CPU): 4,
        ('process 1:"py"', "thread (1)", *WAIT): 3,
    }

    merged = fg.strip_roots(stacks)

    assert fg.total_samples(stacks) == fg.total_samples(merged) == 13
    assert merged == {CPU: 10, WAIT: 3}
    assert fg.top_frames(merged, 1) == [("transform (job.py:12)", 10)]
    assert fg.strip_roots(stacks, fg.is_process_frame)[("thread (1)", *CPU)] == 6


def test_waiting_is_read_from_the_innermost_named_frame() -> None:
    assert fg.is_waiting_stack(WAIT)
    assert fg.is_waiting_stack(
        ("Thread.run (threading.py:982)", "Condition.wait (threading.py:331)")
    )
    assert fg.is_waiting_stack(("f (a.py:1)", "EpollSelector.select (selectors.py:468)"))
    assert fg.is_waiting_stack(
        ("f (a.py:1)", "time_sleep (libpython3.11.so)", "clock_nanosleep (x)")
    )
    native_lock = ("PyThread_acquire_lock_timed (libpython3.11.so.1.0)", "0x7f00aa (libc.so.6)")
    assert fg.is_waiting_stack(native_lock)
    assert not fg.is_waiting_stack(CPU)
    assert not fg.is_waiting_stack(("select (mine.py:3)",))
    assert fg.waiting_samples({CPU: 5, WAIT: 2}) == 2


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

    doc = fg.to_speedscope(stacks, "run-1")

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
    doc = fg.to_speedscope({CPU: 3, WAIT: 1}, "merged")

    assert [p["name"] for p in doc["profiles"]] == ["merged"]
    assert doc["profiles"][0]["weights"] == [3, 1]
    assert fg.to_speedscope({}, "none")["profiles"][0]["samples"] == []
