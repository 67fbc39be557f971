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
import errno
from typing import Any

_sc: Any = None
_loaded = False
_base: Any = None

CLONE_THREAD = 0x00010000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4

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


def prepare() -> Any:
    """The pid-independent part of the filter, built once (the runner does so before forking:
    building costs about a millisecond, adding the per-worker rules to a copy much less)."""
    global _base
    if _base is None:
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
        _base = filt
    return _base


def install(own_pid: int) -> None:
    """Load the filter into the calling process (needs NO_NEW_PRIVS unless root).

    ``own_pid`` is the only target the worker may signal: kill, tgkill and the sigqueue calls
    are denied for every other pid, including 0 and -1, so it cannot signal the grader or
    another worker running under the same uid. Only call this in the worker: it adds the
    pid rules to the (forked copy of the) prepared filter.
    """
    filt = prepare()
    eperm = _sc.ERRNO(errno.EPERM)
    for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        _deny(filt, eperm, name, _sc.Arg(0, _sc.NE, own_pid))
    filt.load()
