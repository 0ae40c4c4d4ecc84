"""Fresh filesystems for a run: made, recorded, and unmade on success, failure, SIGTERM,
Ctrl-C, and after SIGKILL by the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.workloads.fs_support import fs_root, leftovers, need
from workloads import filesystems, mountinfo

__all__ = ["fs_root"]

HOLDER = """
import sys, time
from workloads import filesystems
with filesystems.prepared(sys.argv[1]) as where:
    (where.directory / "item.json").write_text("{}")
    print("ready", where.info["mountpoint"], flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("kind", filesystems.KINDS)
def test_each_kind_is_made_fresh_recorded_and_unmade(kind, fs_root):
    need(kind)
    with filesystems.prepared(kind) as where:
        assert where.directory.is_dir() and not any(where.directory.iterdir())
        (where.directory / "item.json").write_bytes(b"{}")
        fd = os.open(where.directory, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        info = where.info
        expected = {"disk": mountinfo.mount_of(Path("/tmp")).fstype}.get(kind, kind)
        assert info["type"] == expected and info["kind"] == kind
        assert info["options"] and info["source"]
        if kind in filesystems.MKFS and os.geteuid() == 0:
            assert info["source"].startswith("/dev/loop")
            assert info["backing_file"].startswith(str(fs_root))
            assert info["fresh"] is True
        made = Path(info["path"])
    assert not made.exists()
    assert leftovers(fs_root) == []


def test_a_failure_inside_still_unmakes_everything(fs_root):
    need("ext4")
    with pytest.raises(RuntimeError, match="the run failed"), filesystems.prepared("ext4"):
        raise RuntimeError("the run failed")
    assert leftovers(fs_root) == []


def _holder(kind: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("ready"), proc.stderr.read()
    return proc


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_unmake_everything(signum, fs_root):
    need("xfs")
    proc = _holder("xfs")
    assert leftovers(fs_root), "the filesystem should exist while its holder runs"
    proc.send_signal(signum)
    proc.wait(timeout=30)
    assert proc.returncode != 0  # interrupted, not finished
    assert leftovers(fs_root) == []


def test_what_a_sigkilled_owner_left_is_removed_by_the_next_run(fs_root):
    need("ext4")
    proc = _holder("ext4")
    proc.kill()
    proc.wait(timeout=10)
    stale = leftovers(fs_root)
    assert any(s.startswith("mount") for s in stale) and any(s.startswith("loop") for s in stale)
    record = json.loads(next(fs_root.glob("*.json")).read_text())
    assert record["owner_pid"] == proc.pid and record["kind"] == "ext4"

    with filesystems.prepared("tmpfs"):  # any later use sweeps first
        assert not any(str(proc.pid) in s for s in leftovers(fs_root))
    assert leftovers(fs_root) == []


def test_a_living_owners_filesystem_is_left_alone(fs_root):
    need("ext4")
    proc = _holder("ext4")
    try:
        assert filesystems.sweep_stale(fs_root) == []
        assert any(s.startswith("mount") for s in leftovers(fs_root))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert leftovers(fs_root) == []


def test_what_cannot_be_made_says_why_and_how_to_fix_it(monkeypatch, tmp_path):
    assert "unknown filesystem 'zfs'" in filesystems.unavailable("zfs")
    assert filesystems.unavailable("disk") is None and filesystems.unavailable("tmpfs") is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no mkfs.* on it
    if os.geteuid() == 0:
        assert filesystems.unavailable("xfs") == (
            "mkfs.xfs is not installed (apt-get install xfsprogs)"
        )
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "needs root" in filesystems.unavailable("btrfs")
    with (
        pytest.raises(filesystems.FilesystemUnavailable, match=r"^ext4: .*needs root"),
        filesystems.prepared("ext4", root=tmp_path / "root"),
    ):
        pass


def test_mountinfo_lines_are_read_with_their_escapes():
    line = (
        r"36 35 98:0 /mnt1 /mnt/with\040space rw,noatime master:1 - ext4 /dev/loop3 "
        "rw,errors=continue"
    )
    m = mountinfo.parse_line(line)
    assert m == mountinfo.Mount(
        "/mnt/with space", "ext4", "/dev/loop3", "rw,noatime,errors=continue"
    )
    assert mountinfo.parse_line("garbage") is None


def test_the_scenario_script_prepares_its_own_filesystem_before_the_timed_part(fs_root):
    need("ext4")
    done = subprocess.run(
        [sys.executable, "-m", "workloads.output", "--fs", "ext4", "--items", "300"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["items_out"] == 300 and result["filesystem"]["type"] == "ext4"
    assert result["filesystem"]["backing_file"].startswith(str(fs_root))
    assert result["timed_cpu"]["sys_s"] >= 0
    assert leftovers(fs_root) == []


def test_an_out_dir_on_another_filesystem_is_refused_in_one_line(tmp_path):
    if mountinfo.mount_of(tmp_path).fstype == "xfs":
        pytest.skip("the temp directory is itself on xfs")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "workloads.output", "--fs", "xfs", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and time.monotonic() - started < 30
    assert done.stderr.count("\n") == 1 and "not xfs" in done.stderr


def test_a_scenario_stopped_mid_run_removes_its_filesystem_and_reports_partially(fs_root):
    need("ext4")
    proc = subprocess.Popen(
        [sys.executable, "-m", "workloads.output", "--fs", "ext4", "--items", "20000",
         "--fsync", "each"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(s.startswith("mount") for s in leftovers(fs_root)):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.05)
    time.sleep(0.5)  # into the timed writes
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    result = json.loads(out.splitlines()[-1])
    assert result["status"] == "interrupted" and result["items_out"] < 20000
    assert result["filesystem"]["type"] == "ext4"
    assert leftovers(fs_root) == []


def test_a_mkfs_that_fails_is_one_line_and_leaves_nothing(fs_root, monkeypatch):
    need("xfs")
    monkeypatch.setitem(filesystems.MKFS, "xfs", ["mkfs.xfs", "--no-such-option"])
    with (
        pytest.raises(filesystems.FilesystemUnavailable, match=r"^xfs: mkfs.xfs failed: "),
        filesystems.prepared("xfs"),
    ):
        raise AssertionError("the block must not run")
    assert leftovers(fs_root) == []
