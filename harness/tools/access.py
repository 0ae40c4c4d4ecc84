"""May this process read another one's memory or trace it? Checked before a run starts, so a
profiler that would be refused says why in one line, with the fix, instead of failing later.

The kernel's rule (ptrace_may_access) is: the same user, or CAP_SYS_PTRACE; and on top of it
Yama's kernel.yama.ptrace_scope (0: that rule alone; 1: only an ancestor may attach, unless the
tracee allowed others, as the runner's children do; 2: CAP_SYS_PTRACE only; 3: nobody). A
container may also filter the system calls themselves (seccomp): Docker's default profile blocks
ptrace and process_vm_readv without SYS_PTRACE on kernels before 4.8. The facts are read once
(`Facts.here()`) and the rules are pure functions of them, so tests can state any machine.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import subprocess
from dataclasses import dataclass
from pathlib import Path

CAP_SYS_PTRACE = 19
YAMA = Path("/proc/sys/kernel/yama/ptrace_scope")
_PTRACE_SEIZE, _PTRACE_DETACH = 0x4206, 17
_libc = ctypes.CDLL(None, use_errno=True)
CONTAINER_FIX = (
    "add the capability: docker run --cap-add SYS_PTRACE, or in Kubernetes "
    "securityContext.capabilities.add: [SYS_PTRACE]"
)


@dataclass(frozen=True)
class Facts:
    """What decides whether tracing is allowed here."""

    uid: int
    yama_scope: int | None  # None: no Yama in this kernel
    cap_sys_ptrace: bool
    in_container: bool
    seccomp_filtered: bool

    @classmethod
    def here(cls) -> Facts:
        status = _read("/proc/self/status")
        return cls(
            uid=os.geteuid(),
            yama_scope=_int(_read(str(YAMA))),
            cap_sys_ptrace=_cap(status, CAP_SYS_PTRACE),
            in_container=Path("/.dockerenv").exists() or Path("/run/.containerenv").exists(),
            seccomp_filtered=_field(status, "Seccomp") == "2",
        )


def launch_problem(facts: Facts) -> str | None:
    """Why a profiler could not attach to a child the runner launches (it allows any tracer
    through PR_SET_PTRACER, so Yama scope 1 is fine), or None."""
    if facts.yama_scope is not None and facts.yama_scope >= 3:
        return (
            "ptrace is disabled (kernel.yama.ptrace_scope=3, fixed until reboot), so the "
            "profiler cannot attach: boot with kernel.yama.ptrace_scope set to 0 or 1"
        )
    if facts.yama_scope == 2 and not facts.cap_sys_ptrace:
        return (
            "kernel.yama.ptrace_scope=2 lets only CAP_SYS_PTRACE trace: run as root (sudo), "
            f"{CONTAINER_FIX}, or set kernel.yama.ptrace_scope to 0"
        )
    return None


def attach_problem(facts: Facts, pid: int, owner_uid: int, probe_errno: int | None) -> str | None:
    """Why this process could not read the memory of `pid` (a process it did not start), or
    None. `probe_errno` is what reading one byte of it gave (None: it worked)."""
    launched = launch_problem(facts)
    if launched:
        return launched
    if owner_uid != facts.uid and not facts.cap_sys_ptrace:
        as_whom = "as root (sudo)" if owner_uid == 0 else f"as {_user(owner_uid)}, or as root"
        return (
            f"pid {pid} belongs to user {_user(owner_uid)}, not {_user(facts.uid)}: run the "
            f"command {as_whom}"
        )
    if facts.yama_scope == 1 and not facts.cap_sys_ptrace:
        return (
            f"kernel.yama.ptrace_scope=1 lets a process trace only its own children, and pid "
            f"{pid} is not ours: run as root (sudo), or set kernel.yama.ptrace_scope to 0"
        )
    if probe_errno is None:
        return None
    if facts.in_container and not facts.cap_sys_ptrace:
        return f"this container may not read other processes' memory: {CONTAINER_FIX}"
    return (
        f"reading the memory of pid {pid} was refused ({os.strerror(probe_errno)}): run as "
        f"root, or {CONTAINER_FIX}"
    )


def syscall_problem(facts: Facts) -> str | None:
    """Under a seccomp filter without CAP_SYS_PTRACE, try ptrace on a child of our own; a
    filter that refuses it is a container without the capability."""
    if not facts.seccomp_filtered or facts.cap_sys_ptrace:
        return None
    errno = probe_ptrace()
    if errno is None:
        return None
    return f"this container refuses ptrace ({os.strerror(errno)}): {CONTAINER_FIX}"


def read_probe(pid: int) -> int | None:
    """Read one byte of `pid`'s memory with process_vm_readv, the call py-spy samples with;
    None if that worked, else the errno. The process does not notice: nothing stops it."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            first = f.readline()
    except OSError as exc:
        return exc.errno
    try:
        address = int(first.split("-", 1)[0], 16)
    except ValueError:
        return None  # no mappings (a kernel thread): nothing to refuse
    buf = ctypes.create_string_buffer(1)
    local = _IoVec(ctypes.cast(buf, ctypes.c_void_p), 1)
    remote = _IoVec(ctypes.c_void_p(address), 1)
    done = _libc.process_vm_readv(
        pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, ctypes.c_ulong(0)
    )
    return None if done == 1 else ctypes.get_errno()


def probe_ptrace() -> int | None:
    """PTRACE_SEIZE a short-lived child of ours, then let go; None if allowed, else errno."""
    child = subprocess.Popen(["sleep", "5"], stdin=subprocess.DEVNULL)
    try:
        if _libc.ptrace(_PTRACE_SEIZE, child.pid, None, None) != 0:
            return ctypes.get_errno()
        _libc.ptrace(_PTRACE_DETACH, child.pid, None, None)
        return None
    finally:
        child.kill()
        child.wait()


def owner(pid: int) -> int | None:
    """The real uid of `pid`, None if there is no such process."""
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


class _IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _field(status: str, name: str) -> str | None:
    for line in status.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return None


def _cap(status: str, bit: int) -> bool:
    raw = _field(status, "CapEff")
    if raw is None:
        return os.geteuid() == 0
    try:
        return bool(int(raw, 16) >> bit & 1)
    except ValueError:
        return False
