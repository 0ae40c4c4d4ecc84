import os
import time

from harness import scratch


def test_scratch_dirs_outlive_their_run_and_are_swept_later(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPEPROF_SCRATCH", str(tmp_path))
    mine = scratch.output_dir("run-a")
    assert mine.is_dir() and mine.name.startswith(f"{os.getpid()}-run-a-")
    root = scratch.scratch_root()
    dead_old = root / "999999999-old-run"
    dead_new = root / "999999999-new-run"
    for path in (dead_old, dead_new):
        path.mkdir()
        (path / "item.json").write_text("{}")
    old = time.time() - scratch.KEEP_S - 10
    os.utime(dead_old, (old, old))
    os.utime(mine, (old, old))

    removed = scratch.sweep(root)

    assert removed == [dead_old]  # a dead owner's old directory only
    assert mine.exists() and dead_new.exists()
