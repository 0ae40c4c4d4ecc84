"""The stack model: folded-stack parsing, root frames, waiting stacks and the diff of two."""

from __future__ import annotations

from harness import stacks as st

CPU = ("<module> (job.py:30)", "run (job.py:20)", "transform (job.py:12)")
WAIT = ("<module> (job.py:30)", "Thread.join (threading.py:1119)")
WAIT += ("Thread._wait_for_tstate_lock (threading.py:1139)",)


def test_parse_sums_repeated_stacks_and_skips_blank_and_malformed_lines() -> None:
    text = "a;b 3\n\n  \na;b 2\na;c 1\na;trunc\nx;y notanumber\n"
    malformed: list[str] = []

    stacks = st.parse_folded(text, malformed=malformed)

    assert stacks == {("a", "b"): 5, ("a", "c"): 1}
    assert malformed == ["a;trunc", "x;y notanumber"]


def test_parse_keeps_frames_with_spaces_and_quoted_semicolons() -> None:
    text = (
        'process 7:"python job.py --sep ;x";thread (7): MainThread;'
        "<module> (job.py:3);Foo.bar (my dir/job.py:9) 4\n"
        " 2\n"
    )

    stacks = st.parse_folded(text)

    assert stacks == {
        (
            'process 7:"python job.py --sep ;x"',
            "thread (7): MainThread",
            "<module> (job.py:3)",
            "Foo.bar (my dir/job.py:9)",
        ): 4,
        (): 2,
    }


def test_parse_joins_a_command_line_that_held_newlines() -> None:
    # py-spy writes `python -c` code as it is, newlines and all.
    text = (
        'process 9:"python -c import time\nx=0\nwhile True:\n    x+=1";thread (9);'
        "<module> (<string>:4) 90\n"
        'process 9:"python -c pass";thread (9);<module> (<string>:1) 1\n'
        'process 9:"python -c cut\n'  # a truncated file ends inside a command line
    )
    malformed: list[str] = []

    stacks = st.parse_folded(text, malformed=malformed)

    assert stacks == {
        ('process 9:"python -c import time x=0 while True:     x+=1"', "thread (9)",
         "<module> (<string>:4)"): 90,
        ('process 9:"python -c pass"', "thread (9)", "<module> (<string>:1)"): 1,
    }  # fmt: skip
    assert malformed == ['process 9:"python -c cut']


def test_to_folded_round_trips() -> None:
    stacks = {CPU: 7, WAIT: 3, ('process 1:"a;b"', "thread (1)", "f (x.py:1)"): 1}

    assert st.parse_folded(st.to_folded(stacks)) == stacks


def test_split_frame_reads_python_native_and_root_frames() -> None:
    assert st.split_frame("transform (job.py:12)") == ("transform", "job.py", 12)
    assert st.split_frame("_find_and_load (<frozen importlib._bootstrap>:1176)") == (
        "_find_and_load",
        "<frozen importlib._bootstrap>",
        1176,
    )
    assert st.split_frame("select (libc.so.6)") == ("select", "libc.so.6", None)
    assert st.split_frame("thread (12)") == ("thread (12)", None, None)


def test_helpers_total_strip_and_top() -> None:
    stacks = {
        ('process 1:"py"', "thread (1)", *CPU): 6,
        ('process 1:"py"', "thread (2): worker", *CPU): 4,
        ('process 1:"py"', "thread (1)", *WAIT): 3,
    }

    merged = st.strip_roots(stacks)

    assert st.total_samples(stacks) == st.total_samples(merged) == 13
    assert merged == {CPU: 10, WAIT: 3}
    assert st.top_frames(merged, 1) == [("transform (job.py:12)", 10)]
    assert st.strip_roots(stacks, st.is_process_frame)[("thread (1)", *CPU)] == 6


def test_waiting_is_read_from_the_innermost_named_frame() -> None:
    assert st.is_waiting_stack(WAIT)
    assert st.is_waiting_stack(
        ("Thread.run (threading.py:982)", "Condition.wait (threading.py:331)")
    )
    assert st.is_waiting_stack(("f (a.py:1)", "EpollSelector.select (selectors.py:468)"))
    assert st.is_waiting_stack(
        ("f (a.py:1)", "time_sleep (libpython3.11.so)", "clock_nanosleep (x)")
    )
    native_lock = ("PyThread_acquire_lock_timed (libpython3.11.so.1.0)", "0x7f00aa (libc.so.6)")
    assert st.is_waiting_stack(native_lock)
    assert not st.is_waiting_stack(CPU)
    assert not st.is_waiting_stack(("select (mine.py:3)",))
    assert st.waiting_samples({CPU: 5, WAIT: 2}) == 2


def test_diff_compares_shares_of_all_samples_and_lists_paths_only_in_before() -> None:
    before = {("main (a.py:1)", "gone (a.py:9)", "deep (a.py:10)"): 30, ("main (a.py:1)",): 70}
    after = {("main (a.py:1)",): 300, ("main (a.py:1)", "new (a.py:5)"): 100}

    diff = st.diff(before, after)

    assert diff.share_before(("main (a.py:1)", "gone (a.py:9)")) == 0.3
    assert diff.share_after(("main (a.py:1)", "new (a.py:5)")) == 0.25
    assert diff.delta(("main (a.py:1)", "new (a.py:5)")) == 0.25
    assert diff.delta(("main (a.py:1)",)) == 0.0
    assert diff.gone() == [st.Gone("gone (a.py:9)", "main (a.py:1)", 30)]


def test_tree_counts_waiting_samples_per_frame() -> None:
    root = st.build_tree({CPU: 6, WAIT: 2})

    assert (root.total, root.waiting) == (8, 2)
    module = root.children["<module> (job.py:30)"]
    assert (module.total, module.waiting) == (8, 2)
    assert root.samples_at(WAIT) == 2
    assert root.samples_at(("nowhere",)) == 0
