"""The worker's seccomp filter, built with libseccomp (through ``pyseccomp``).

Default allow, with a deny list: the worker must still run numpy, threads and the whole
pure-Python stdlib, while the calls below are what an escape or an attack on the grader
needs. Denied calls fail with EPERM (clone3 with ENOSYS so glibc falls back to clone, whose
flags a classic filter can inspect); nothing kills the worker, so a student sees an ordinary
``PermissionError`` instead of a mysterious SIGSYS. libseccomp's default bad-arch action
kills any call made through a foreign ABI (e.g. ``int 0x80`` on x86_64).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import struct
import tempfile
from dataclasses import dataclass
from typing import Any

_sc: Any = None
_loaded = False
_base: Program | None = None
_unpatchable = False

CLONE_THREAD = 0x00010000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

DENIED = (
    # no network or IPC endpoints of any kind (a network namespace leaves unix sockets open)
    "socket",
    "socketpair",
    # no new programs and no new processes (threads are fine, see clone below)
    "execve",
    "execveat",
    "fork",
    "vfork",
    # no looking into or changing other processes, namespaces or mounts
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "tkill",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "mount_setattr",
    # kernel attack surface an autograder never needs; io_uring would bypass this filter
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "acct",
    "swapon",
    "swapoff",
    "reboot",
    "open_by_handle_at",
    "name_to_handle_at",
    # persistent objects that would outlive the worker and reach the next submission
    "memfd_create",
    "shmget",
    "msgget",
    "semget",
    "mq_open",
)


def available() -> bool:
    """Whether libseccomp can be loaded here; loads it (the runner does so before forking).

    Imported lazily because pyseccomp runs ``ldconfig -p`` at import, which the grader, who
    never filters itself, should not pay for.
    """
    global _sc, _loaded
    if not _loaded:
        _loaded = True
        try:
            import pyseccomp
        except (ImportError, OSError, RuntimeError):  # package or libseccomp.so.2 missing
            pyseccomp = None
        _sc = pyseccomp
    return _sc is not None


def _deny(filt: Any, action: int, name: str, *args: Any) -> None:
    # A name unknown on this architecture (e.g. fork on aarch64) has nothing to deny.
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        filt.add_rule(action, name, *args)


# Stands for the worker's pid in the prepared program: above PID_MAX_LIMIT (2**22), so never a
# real pid, and distinctive enough not to appear in the program for any other reason.
PLACEHOLDER_PID = 0x5EC0_0BAD
_SIGNAL_CALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
_INSTRUCTION = struct.Struct("=HBBI")  # struct sock_filter: code, jt, jf, k
_BPF_JMP, _BPF_K = 0x05, 0x00


def build(own_pid: int) -> Any:
    """The whole filter for a worker whose pid is ``own_pid``, as a libseccomp filter."""
    if not available():
        raise OSError("libseccomp is not available")
    sc = _sc
    eperm = sc.ERRNO(errno.EPERM)
    filt = sc.SyscallFilter(sc.ALLOW)
    for name in DENIED:
        _deny(filt, eperm, name)
    _deny(filt, sc.ERRNO(errno.ENOSYS), "clone3")
    _deny(filt, eperm, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    # Undoing PDEATHSIG would let a worker outlive a dead runner.
    _deny(filt, eperm, "prctl", sc.Arg(0, sc.EQ, PR_SET_PDEATHSIG))
    _deny(filt, eperm, "prctl", sc.Arg(0, sc.EQ, PR_SET_DUMPABLE))
    # The worker's own pid is the only target it may signal.
    for name in _SIGNAL_CALLS:
        _deny(filt, eperm, name, sc.Arg(0, sc.NE, own_pid))
    return filt


def export(filt: Any) -> bytes:
    """The BPF program libseccomp generates for ``filt`` (what ``load`` would install)."""
    with tempfile.TemporaryFile() as handle:
        filt.export_bpf(handle)
        handle.seek(0)
        return handle.read()


@dataclass(frozen=True)
class Program:
    """The worker filter compiled once, with the places where the worker's pid goes."""

    code: bytes
    pid_slots: tuple[int, ...]  # byte offsets of the ``k`` fields that hold PLACEHOLDER_PID

    def for_pid(self, pid: int, *, check: bool = True) -> bytes:
        if check and not 0 < pid < PLACEHOLDER_PID:
            raise ValueError(f"not a pid: {pid}")
        code = bytearray(self.code)
        for offset in self.pid_slots:
            struct.pack_into("=I", code, offset, pid)
        return bytes(code)


def prepare() -> Program:
    """Compile the filter once, before forking (the runner does so at start).

    libseccomp takes about a millisecond to turn the rules into BPF. The program is the same
    for every worker but for the pid the signal rules compare against, so it is compiled once
    with a placeholder pid, and each worker patches in its own (``Program.for_pid``; a test
    checks the patched program is byte-identical to one compiled for that pid).
    """
    global _base
    if _base is None:
        program = _compile_with_placeholder(PLACEHOLDER_PID)
        # Self-check, once per runner: a program patched for another pid must be the very
        # program libseccomp compiles for it; otherwise this libseccomp lays out its code
        # differently and patching is not safe.
        other = PLACEHOLDER_PID + 1
        if program.for_pid(other, check=False) != export(build(other)):
            raise OSError("cannot prepare the seccomp program: patching its pid is not exact")
        _base = program
    return _base


def prepare_or_none() -> Program | None:
    """``prepare()``, or None where patching cannot be trusted (``install`` then compiles
    the filter in each worker, as libseccomp does)."""
    global _unpatchable
    if _unpatchable:
        return None
    try:
        return prepare()
    except OSError:
        _unpatchable = True
        return None


def _compile_with_placeholder(placeholder: int) -> Program:
    code = export(build(placeholder))
    slots = []
    for offset in range(0, len(code), _INSTRUCTION.size):
        op, _jt, _jf, k = _INSTRUCTION.unpack_from(code, offset)
        if k == placeholder:
            if op & 0x07 != _BPF_JMP or op & 0x08 != _BPF_K:
                raise OSError("unexpected use of the placeholder pid in the seccomp program")
            slots.append(offset + 4)
    if not slots:
        raise OSError("the seccomp program does not compare the pid where expected")
    return Program(code, tuple(slots))


_libc = ctypes.CDLL(None, use_errno=True)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def install(own_pid: int) -> None:
    """Load the filter into the calling process (needs NO_NEW_PRIVS unless root).

    ``own_pid`` is the only target the worker may signal: kill, tgkill and the sigqueue calls
    are denied for every other pid, including 0 and -1, so it cannot signal the grader or
    another worker running under the same uid. Only call this in the worker.
    """
    prepared = prepare_or_none()
    if prepared is None:
        build(own_pid).load()
        return
    code = prepared.for_pid(own_pid)
    program = _SockFprog(len(code) // _INSTRUCTION.size, code)
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_SECCOMP): {os.strerror(err)}")
