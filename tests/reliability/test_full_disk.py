"""A full disk during the output scenario: a clear error with the count committed; once space
is freed, --resume completes with every item exactly once."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.summary import find_runs, load
from tests.reliability.support import harness

ITEMS = 2000
# Writes ~100 MB to stdout (which the harness sends to the run directory), then exits 0.
FLOOD = """
import sys
line = "x" * 1023 + "\\n"
for _ in range(100_000):
    sys.stdout.write(line)
"""


@contextmanager
def small_tmpfs(path: Path, size: str):
    """A tmpfs of `size` at `path`, or None where this machine will not mount one."""
    path.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield path if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


def output(out_dir: Path, *extra: str, fsize: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [
            sys.executable,
            "-m",
            "workloads.output",
            "--items",
            str(ITEMS),
            "--checkpoint-every",
            "100",
            "--out-dir",
            str(out_dir),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
    )


def ids(out_dir: Path) -> Counter:
    found: Counter = Counter()
    for path in (out_dir / "items").glob("*.json"):
        found[json.loads(path.read_bytes())["id"]] += 1
    for path in out_dir.glob("collection.jsonl"):
        found.update(json.loads(line)["id"] for line in path.read_text().splitlines())
    return found


def check_failure(proc: subprocess.CompletedProcess) -> int:
    assert proc.returncode == 1, proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert "items are committed" in line and "--resume" in line
    committed = int(line.split(" items are committed")[0].rsplit(" ", 1)[1])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == "failed" and result["committed"] == committed
    assert 0 < committed < ITEMS
    return committed


def test_full_tmpfs_then_resume(tmp_path, ledger):
    with small_tmpfs(tmp_path / "fs", "1m") as fs:
        if fs is None:
            pytest.skip("cannot mount a tmpfs here; the RLIMIT_FSIZE test covers this")
        out = fs / "out"
        committed = check_failure(output(out, "--layout", "individual"))
        subprocess.run(["mount", "-o", "remount,size=64m", str(fs)], check=True)
        proc = output(out, "--layout", "individual", "--resume")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout.strip().splitlines()[-1])["resumed_from"] == committed
        found = ids(out)
        lost, dups = ITEMS - len(found), sum(n - 1 for n in found.values())
        ledger(
            "output individual on a full 1 MB tmpfs, resume",
            faults="ENOSPC",
            lost=lost,
            duplicates=dups,
        ).record()
        assert lost == 0 and dups == 0


def test_file_size_limit_then_resume(tmp_path, ledger):
    out = tmp_path / "out"
    committed = check_failure(output(out, "--layout", "collection", fsize=600_000))
    proc = output(out, "--layout", "collection", "--resume")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["resumed_from"] == committed
    found = ids(out)
    lost, dups = ITEMS - len(found), sum(n - 1 for n in found.values())
    ledger(
        "output collection past RLIMIT_FSIZE, resume", faults="EFBIG", lost=lost, duplicates=dups
    ).record()
    assert lost == 0 and dups == 0


def test_a_full_profiles_disk_is_one_line_and_damages_nothing(tmp_path, ledger):
    with small_tmpfs(tmp_path / "fs", "4m") as fs:
        if fs is None:
            pytest.skip("cannot mount a tmpfs here")
        root, quick, flood = fs / "profiles", tmp_path / "quick.py", tmp_path / "flood.py"
        quick.write_text("x = 1\n")
        flood.write_text(FLOOD)
        first = harness("run", str(quick), "--tool", "none", "--out", str(root))
        assert first.returncode == 0, first.stderr
        (earlier,) = find_runs(root)
        before = {p.name: p.read_bytes() for p in earlier.iterdir()}
        full = harness("run", str(flood), "--tool", "none", "--out", str(root))
        assert full.returncode == 1, full.stdout + full.stderr
        lines = [line for line in full.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: no space left"), full.stderr
        assert str(fs) in lines[0] and "Traceback" not in full.stdout + full.stderr
        after = {p.name: p.read_bytes() for p in earlier.iterdir()}
        lost = int(after != before)
        (failed,) = set(find_runs(root)) - {earlier}
        assert (failed / "stdout.txt").stat().st_size > 0, "the partial output was not kept"
        summary = load(failed)
        assert summary.status == "failed" and summary.error["disk_full"]
        shown = harness("show", str(root))
        assert shown.returncode == 0 and earlier.name in shown.stdout, shown.stderr
        pruned = harness("prune", "--keep", "1", "--out", str(root))
        assert pruned.returncode == 0 and "removed 1 run(s)" in pruned.stdout, pruned.stderr
        ledger(
            "harness run on a full profiles disk (4 MB tmpfs)", faults="ENOSPC", lost=lost
        ).record()
        assert lost == 0
