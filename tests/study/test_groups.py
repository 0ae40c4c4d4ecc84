"""Each group of study runs writes to a filesystem in a known state: a fresh one per scenario,
filesystem and round, probed once per output group and unmade when the group ends."""

from __future__ import annotations

import io

from rich.console import Console

from harness.study.groups import GroupUnavailable, Outputs
from tests.workloads.fs_support import fs_root, leftovers, need
from workloads import mountinfo

__all__ = ["fs_root"]


def _outputs(tmp_path) -> Outputs:
    return Outputs(tmp_path / "scratch", True, Console(file=io.StringIO()))


def test_a_fresh_filesystem_per_group_probed_at_both_ends_and_unmade_after(tmp_path, fs_root):
    need("ext4")
    with _outputs(tmp_path) as outputs:
        first = outputs.directory("output", "ext4", "round-0")
        second = outputs.directory("output", "ext4", "round-0")
        assert first.parent == second.parent and first != second  # one group, one filesystem
        assert mountinfo.mount_of(first.parent).fstype == "ext4"
        mount0 = mountinfo.mount_of(first.parent).mountpoint

        later = outputs.directory("output", "ext4", "round-1")
        assert mountinfo.mount_of(later.parent).mountpoint != mount0  # a new filesystem
        assert not mountinfo.is_mountpoint(type(first)(mount0))  # the old one is gone
        entry = outputs.filesystems["ext4"]
        assert entry["groups"] == 2 and entry["info"]["type"] == "ext4"
        # pooled: round 0's opening and closing probes, round 1's opening one (50 each)
        assert entry["fsync"]["create"]["n"] == 150

        outputs.directory("pipeline", "ext4", "round-0")  # other scenarios are not probed
        assert outputs.filesystems["ext4"]["fsync"]["create"]["n"] == 200
    assert leftovers(fs_root) == []


def test_the_disk_groups_keep_their_directories_until_the_study_ends(tmp_path):
    with _outputs(tmp_path) as outputs:
        a = outputs.directory("output", "disk", "round-0")
        a.mkdir()
        b = outputs.directory("output", "disk", "round-1")
    assert a.is_dir() and a.parent != b.parent
    assert outputs.filesystems["disk"]["fsync"]["append"]["n"] == 4 * 50


def test_a_filesystem_that_cannot_be_made_fails_its_runs_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no mkfs.* and no losetup
    outputs = _outputs(tmp_path)
    try:
        outputs.directory("output", "xfs", "round-0")
    except GroupUnavailable as exc:
        message = str(exc)
    else:
        raise AssertionError("expected GroupUnavailable")
    assert message.startswith("xfs: ") and ("mkfs.xfs" in message or "root" in message)
    assert outputs.filesystems["xfs"]["problem"] == message
    assert "its runs are skipped" in outputs.console.file.getvalue()
    try:
        outputs.directory("output", "xfs", "round-1")
    except GroupUnavailable as exc:
        assert str(exc) == message
    assert outputs.console.file.getvalue().count("its runs are skipped") == 1


def test_a_slow_disk_is_given_time_to_settle_and_a_quick_study_does_not_wait():
    from harness.study import hazards

    readings = iter([400.0, 250.0, 40.0, 30.0])
    found = hazards.settle(lambda n: next(readings), max_wait_s=1.0, interval_s=0.01)
    assert found == [400.0, 250.0, 40.0]
    assert hazards.settle(lambda n: 400.0, max_wait_s=0.0) == [400.0]
