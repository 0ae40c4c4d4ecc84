"""A directory on a chosen filesystem, made fresh for a run and unmade after it, whatever happens.

Output throughput depends on the filesystem and its recent history as much as on the code
(creating files where thousands were just deleted costs several times more on ext4), so a run
can ask for a filesystem in a known state:

- `disk`: a new directory on the default disk (the temp directory's filesystem);
- `tmpfs`: a fresh tmpfs mount (memory; a directory in /dev/shm when not root);
- `ext4` (with its journal), `xfs`, `btrfs`: a fresh filesystem on a loop device backed by a
  sparse file on the disk (needs root, /dev/loop-control and the mkfs tool).

    with prepared("ext4") as where:
        write_into(where.directory)   # where.info: type, options, source, backing file

Everything made (backing file, loop device, mount, mount point) is removed on leaving the block:
on success, failure, Ctrl-C and SIGTERM (turned into KeyboardInterrupt while inside), with both
signals held off during the unmaking so a second Ctrl-C cannot leave half of it. A process
killed outright (SIGKILL) cannot clean up, so before making anything a record naming what will
be made, and by which process, is written under the state root; the next `prepared` call (or
`sweep_stale`) unmakes whatever a dead owner left.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from workloads import mountinfo

KINDS = ("disk", "tmpfs", "ext4", "xfs", "btrfs")
MKFS: dict[str, list[str]] = {
    # Inode tables and journal zeroed now, not by ext4lazyinit in the background of a run.
    "ext4": [
        "mkfs.ext4",
        "-q",
        "-F",
        "-O",
        "has_journal",
        "-E",
        "lazy_itable_init=0,lazy_journal_init=0",
    ],
    "xfs": ["mkfs.xfs", "-q", "-f"],
    "btrfs": ["mkfs.btrfs", "-q", "-f"],
}
PACKAGES = {"ext4": "e2fsprogs", "xfs": "xfsprogs", "btrfs": "btrfs-progs"}
IMAGE_MB = 2048  # sparse: only what is written takes space; xfs wants >= 300 MB
TMPFS_MB = 1024
ROOT_ENV = "PIPEPROF_FS_ROOT"
COMMAND_TIMEOUT_S = 60.0


class FilesystemUnavailable(RuntimeError):
    """This filesystem cannot be made here; the message says why and what would fix it."""


@dataclass
class Prepared:
    """An empty directory on the requested filesystem, and what its run should record of it."""

    kind: str
    directory: Path
    info: dict[str, Any]


def state_root() -> Path:
    """Where backing files, mount points and records go (on the disk, not in /tmp's tmpfs)."""
    return Path(os.environ.get(ROOT_ENV) or f"/var/tmp/pipeprof-filesystems-{os.geteuid()}")


def unavailable(kind: str) -> str | None:
    """Why `kind` cannot be made here (one line with the fix), or None if it can."""
    if kind not in KINDS:
        return f"unknown filesystem {kind!r}: use one of {', '.join(KINDS)}"
    if kind not in MKFS:
        return None
    if os.geteuid() != 0:
        return f"making a loop {kind} filesystem needs root (run as root, or use disk or tmpfs)"
    if not Path("/dev/loop-control").exists():
        return "no loop devices here (/dev/loop-control is missing: modprobe loop)"
    if shutil.which(MKFS[kind][0]) is None:
        return f"{MKFS[kind][0]} is not installed (apt-get install {PACKAGES[kind]})"
    if not _kernel_has(kind):
        return f"the kernel has no {kind} support (modprobe {kind})"
    return None


def _kernel_has(fstype: str) -> bool:
    try:
        listed = Path("/proc/filesystems").read_text().split()
    except OSError:
        return True  # cannot tell: let mount say
    if fstype in listed:
        return True
    modules = Path("/lib/modules") / os.uname().release
    return any(modules.glob(f"**/{fstype}.ko*")) if modules.is_dir() else False


def _run(argv: list[str]) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
        raise FilesystemUnavailable(f"{argv[0]} failed: {last}")
    return done.stdout


@dataclass
class Made:
    """What one `prepared` call makes; saved as JSON before any of it exists."""

    record: Path
    kind: str
    owner_pid: int
    owner_started: float
    directory: str | None = None  # disk, tmpfs without root: a plain directory to remove
    mountpoint: str | None = None
    image: str | None = None
    problems: list[str] = field(default_factory=list)

    def save(self) -> None:
        tmp = self.record.with_name(self.record.name + ".tmp")
        data = {k: v for k, v in asdict(self).items() if k not in ("record", "problems")}
        tmp.write_text(json.dumps(data) + "\n")
        tmp.replace(self.record)

    @classmethod
    def load(cls, record: Path) -> Made:
        data = json.loads(record.read_text())
        return cls(record=record, **data)

    def owner_alive(self) -> bool:
        try:
            return abs(psutil.Process(self.owner_pid).create_time() - self.owner_started) < 1.0
        except psutil.Error:
            return False

    def unmake(self) -> list[str]:
        """Remove all of it that exists; the record goes only when nothing is left."""
        problems: list[str] = []
        if self.mountpoint and mountinfo.is_mountpoint(Path(self.mountpoint)):
            problems += _unmount(Path(self.mountpoint))
        if self.image:
            problems += _detach(self.image)
            Path(self.image).unlink(missing_ok=True)
        for path in (self.mountpoint, self.directory):
            if path and not mountinfo.is_mountpoint(Path(path)):
                shutil.rmtree(path, ignore_errors=True)
        if not problems:
            self.record.unlink(missing_ok=True)
        return problems


def _unmount(mountpoint: Path) -> list[str]:
    for _ in range(10):  # a process of the run may still be closing its files
        try:
            _run(["umount", str(mountpoint)])
            return []
        except (FilesystemUnavailable, subprocess.TimeoutExpired):
            time.sleep(0.2)
    try:  # detach now; the kernel finishes when the last user lets go
        _run(["umount", "-l", str(mountpoint)])
    except (FilesystemUnavailable, subprocess.TimeoutExpired) as exc:
        return [f"{mountpoint}: {exc}"]
    return [f"{mountpoint} was busy (a file still open): unmounted lazily"]


def _detach(image: str) -> list[str]:
    problems = []
    for device in _loops_of(image):
        try:
            _run(["losetup", "-d", device])
        except (FilesystemUnavailable, subprocess.TimeoutExpired) as exc:
            problems.append(f"{device}: {exc}")
    # The kernel lets go of a detached loop device a few ms later (measured here: 1-5 ms);
    # wait for it, so nothing of the run is listed once we return.
    deadline = time.monotonic() + 5.0
    while not problems and _loops_of(image) and time.monotonic() < deadline:
        time.sleep(0.01)
    return problems


def _loops_of(image: str) -> list[str]:
    try:
        out = _run(["losetup", "-j", image, "-O", "NAME", "-n"])
    except (FilesystemUnavailable, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def _make(made: Made, size_mb: int) -> Path:
    """Make the filesystem `made` describes; returns the directory to write into."""
    root = made.record.parent
    if made.kind == "disk" or (made.kind == "tmpfs" and os.geteuid() != 0):
        base = Path("/dev/shm") if made.kind == "tmpfs" else Path(tempfile.gettempdir())
        made.directory = tempfile.mkdtemp(prefix=f"pipeprof-{made.kind}-", dir=base)
        made.save()
        return Path(made.directory)
    made.mountpoint = str(root / f"{made.record.stem}.mnt")
    if made.kind in MKFS:
        made.image = str(root / f"{made.record.stem}.img")
    made.save()
    Path(made.mountpoint).mkdir()
    if made.kind == "tmpfs":
        size = f"size={size_mb}m,mode=0755"
        _run(["mount", "-t", "tmpfs", "-o", size, "pipeprof", made.mountpoint])
    else:
        assert made.image is not None
        with open(made.image, "wb") as f:
            f.truncate(size_mb * 2**20)
        device = _run(["losetup", "--find", "--show", made.image]).strip()
        _run([*MKFS[made.kind], device])
        _run(["mount", "-t", made.kind, device, made.mountpoint])
    directory = Path(made.mountpoint) / "out"
    directory.mkdir()
    return directory


def sweep_stale(root: Path | None = None) -> list[str]:
    """Unmake what processes that died without cleaning up left; one line per thing removed."""
    root = root or state_root()
    removed = []
    for record in sorted(root.glob("*.json")):
        try:
            made = Made.load(record)
        except (OSError, ValueError, TypeError):
            continue
        if made.owner_alive():
            continue
        with _signals_held():
            problems = made.unmake()
        what = made.image or made.mountpoint or made.directory
        note = f" ({'; '.join(problems)})" if problems else ""
        removed.append(f"removed a stale {made.kind} left by pid {made.owner_pid}: {what}{note}")
    return removed


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block is done (they are delivered after it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While inside, SIGTERM raises KeyboardInterrupt (unless someone else handles it)."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def prepared(
    kind: str, *, root: Path | None = None, size_mb: int | None = None
) -> Iterator[Prepared]:
    """An empty directory on a fresh `kind` filesystem; all of it is removed on leaving."""
    problem = unavailable(kind)
    if problem:
        raise FilesystemUnavailable(f"{kind}: {problem}")
    root = root or state_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FilesystemUnavailable(f"{kind}: cannot use {root}: {exc.strerror}") from None
    for line in sweep_stale(root):
        print(line, file=sys.stderr)
    me = psutil.Process()
    name = f"{os.getpid()}-{kind}-{secrets.token_hex(4)}"
    made = Made(root / f"{name}.json", kind, me.pid, me.create_time())
    with _sigterm_interrupts():
        try:
            try:
                directory = _make(made, size_mb or (TMPFS_MB if kind == "tmpfs" else IMAGE_MB))
            except (OSError, subprocess.TimeoutExpired, FilesystemUnavailable) as exc:
                raise FilesystemUnavailable(f"{kind}: {exc}") from None
            info = {"kind": kind, "fresh": kind != "disk", **mountinfo.describe(directory)}
            if kind in MKFS:
                info["made_with"] = " ".join(MKFS[kind])
            yield Prepared(kind, directory, info)
        finally:
            with _signals_held():
                made.problems = made.unmake()
            if made.problems:
                print(
                    f"{kind}: could not remove all of it: {'; '.join(made.problems)}",
                    file=sys.stderr,
                )
