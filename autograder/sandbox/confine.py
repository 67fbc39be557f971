"""The worker's confinement steps before any student code runs (Linux only).

Python 3.11 has no ``os.unshare`` or mount API, so the few syscalls needed are called through
ctypes here. The order of the steps matters and is fixed by :func:`autograder.sandbox.child`;
each function below does one step and raises OSError naming what failed.

The mount plan solves one problem specific to graders: the interpreter may live somewhere the
worker must not see (pyenv under ``/root``, mode 0700; a venv inside the hidden course root).
Every covered directory gets an empty tmpfs, and the interpreter's directories are bind-mounted
back on top of it read-only, so lazily imported stdlib and numpy modules still load after the
uid drop while everything else under the cover stays invisible.
"""

from __future__ import annotations

import ctypes
import os
import resource
from dataclasses import dataclass
from pathlib import PurePosixPath

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_char_p,
]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [
    ctypes.c_int,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
]

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36

_SYS_MOUNT_SETATTR = {"x86_64": 442, "aarch64": 442}  # same number on the 64-bit ABIs we run
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_MOUNT_ATTR_NOSUID = 0x2

# Directories every local user may write to: a student could plant files there for the next
# submission, so each worker gets one private tmpfs mounted on all of them.
SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
# Top-level directories a Python program needs. In namespaced modes every other entry of /
# is covered: home directories hold keys and tokens, and other checkouts of the course (under
# /work, /srv, /opt, a CI runner's folder) hold hidden tests the grader does not know about.
# The interpreter's own directories are bound back on top.
SYSTEM_DIRS = frozenset(
    {
        "bin",
        "dev",
        "etc",
        "lib",
        "lib32",
        "lib64",
        "libx32",
        "proc",
        "run",
        "sbin",
        "sys",
        "tmp",
        "usr",
        "var",
    }
)


def _outside_system_dirs() -> list[str]:
    """Every directory at / that is not a system directory (symlinks such as /lib are kept)."""
    found = []
    for name in os.listdir("/"):
        path = "/" + name
        if name not in SYSTEM_DIRS and not os.path.islink(path) and os.path.isdir(path):
            found.append(path)
    return found


_SAFE = MS_NOSUID | MS_NODEV | MS_NOEXEC


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def prctl(option: int, arg: int = 0) -> None:
    """``prctl(option, arg, 0, 0, 0)``."""
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")


def unshare(flags: int) -> None:
    """``unshare(2)``: leave the given namespaces."""
    _check(_libc.unshare(flags), f"unshare({flags:#x})")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None
) -> None:
    """``mount(2)``."""
    _check(
        _libc.mount(
            source and source.encode(),
            target.encode(),
            fstype and fstype.encode(),
            flags,
            data and data.encode(),
        ),
        f"mount {target}",
    )


def _mount_tree_readonly(path: str) -> None:
    """Make ``path`` and every mount below it read-only and nosuid (``mount_setattr``, 5.12+)."""
    number = _SYS_MOUNT_SETATTR.get(os.uname().machine)
    if number is None:
        raise OSError(f"mount_setattr: unknown syscall number on {os.uname().machine}")
    attr = _MountAttr(attr_set=_MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID)
    result = _libc.syscall(
        number, _AT_FDCWD, path.encode(), _AT_RECURSIVE, ctypes.byref(attr), ctypes.sizeof(attr)
    )
    _check(result, f"mount_setattr {path}")


def drop_capabilities() -> None:
    """Clear every capability (after a user namespace the process holds all of them there)."""
    header = _CapHeader(version=0x20080522, pid=0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")


def vm_size_kb() -> int:
    """This process's current virtual size (VmSize) in KiB."""
    with open("/proc/self/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmSize:"):
                return int(line.split()[1])
    raise OSError("VmSize missing from /proc/self/status")


def set_rlimits(*, memory_mb: int, cpu_seconds: int, file_mb: int, nproc: int | None) -> None:
    """Lower the hard limits (the worker can never raise them again).

    RLIMIT_AS is the current VmSize plus the allowance, since it counts address space and the
    runner's numpy is already mapped. NPROC is per uid system-wide, so it is only set when the
    worker has a uid of its own (root mode); elsewhere seccomp stops fork instead.
    """
    address_space = (vm_size_kb() * 1024) + memory_mb * 1024 * 1024
    limits = [
        (resource.RLIMIT_AS, address_space),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_FSIZE, file_mb * 1024 * 1024),
        (resource.RLIMIT_NOFILE, 64),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_MEMLOCK, 0),
    ]
    if nproc is not None:
        limits.append((resource.RLIMIT_NPROC, nproc))
    for which, value in limits:
        soft = value
        # One extra CPU second before the hard limit's SIGKILL, so a worker that ignores
        # SIGXCPU still dies.
        hard = value + 1 if which == resource.RLIMIT_CPU else value
        resource.setrlimit(which, (soft, hard))


def _inside(path: str, parent: str) -> bool:
    return PurePosixPath(path).is_relative_to(parent)


@dataclass(frozen=True)
class MountPlan:
    """What the worker's private mount namespace looks like.

    ``covers`` get an empty read-only tmpfs; ``binds`` are directories under a cover that are
    mounted back (read-only) because the interpreter needs them; ``blanks`` are hidden files,
    replaced by /dev/null; ``scratch`` share one private size-limited writable tmpfs.
    """

    covers: tuple[str, ...]
    binds: tuple[str, ...]
    blanks: tuple[str, ...]
    scratch: tuple[str, ...]


def plan_mounts(hide: tuple[str, ...], runtime: tuple[str, ...]) -> MountPlan:
    """Decide the mounts from the paths to hide and the interpreter's directories.

    All paths must be absolute and resolved; paths that do not exist are skipped. A runtime
    directory is bound back only if a cover hides it, and never if it is (or contains) a
    hidden directory: binding the course root back because it is on ``sys.path`` would undo
    the hiding.
    """
    if "/" in hide:
        raise ValueError("cannot hide the whole filesystem")
    wanted = sorted({*hide, *_outside_system_dirs()}, key=lambda p: (p.count("/"), p))
    covers: list[str] = []
    for path in wanted:
        if os.path.isdir(path) and not any(_inside(path, c) for c in covers):
            covers.append(path)
    scratch = tuple(p for p in SCRATCH_DIRS if os.path.isdir(p) and not os.path.islink(p))
    binds: list[str] = []
    for path in sorted(set(runtime), key=lambda p: (p.count("/"), p)):
        # The private /tmp hides a venv under /tmp (a CI clone there, say) just like a cover.
        hidden = any(_inside(path, c) for c in (*covers, *scratch))
        exposes_hidden = any(_inside(h, path) for h in hide if os.path.isdir(h))
        already = any(_inside(path, b) for b in binds)
        if hidden and not exposes_hidden and not already and os.path.isdir(path):
            binds.append(path)
    blanks = tuple(
        p
        for p in hide
        if os.path.exists(p)
        and not os.path.isdir(p)
        and (not any(_inside(p, c) for c in covers) or any(_inside(p, b) for b in binds))
    )
    return MountPlan(covers=tuple(covers), binds=tuple(binds), blanks=blanks, scratch=scratch)


def apply_mounts(plan: MountPlan, *, tmp_mb: int, proc: str) -> None:
    """Build the private filesystem view; must run right after ``unshare(CLONE_NEWNS)``.

    ``proc`` is ``"hidepid"`` (a fresh procfs showing only the worker's own uid; needs real
    root) or ``"cover"`` (an empty tmpfs on /proc: in a user namespace a new procfs cannot be
    mounted, and hidepid would not hide processes of the same uid anyway).
    """
    # Without this, mounts made here could propagate back into the grader's namespace.
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Open the bind sources before covering them; /proc/self/fd/N still reaches them after.
    sources = {
        path: os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for path in plan.binds
    }
    in_scratch = {p for p in plan.binds if any(_inside(p, s) for s in plan.scratch)}
    for path in plan.covers:
        mount("tmpfs", path, "tmpfs", _SAFE, "size=1m,nr_inodes=4096,mode=0755")
    for path, fd in sources.items():
        if path not in in_scratch:
            _bind(fd, path)
    for path in plan.blanks:
        mount("/dev/null", path, None, MS_BIND)
    # Everything the worker can see is read-only from here on, except the scratch tmpfs.
    _mount_tree_readonly("/")
    if plan.scratch:
        first, *others = plan.scratch
        mount("tmpfs", first, "tmpfs", _SAFE, f"size={tmp_mb}m,nr_inodes=16384,mode=1777")
        for path in others:
            mount(first, path, None, MS_BIND)
    # Interpreter directories under a scratch dir go back on top of the fresh tmpfs, read-only.
    for path in sorted(in_scratch):
        _bind(sources[path], path)
        _mount_tree_readonly(path)
    _mount_proc(hidepid=proc == "hidepid")
    # The inherited cwd would still point into the covered directories.
    os.chdir("/")


def _bind(fd: int, path: str) -> None:
    """Bind the directory opened as ``fd`` (before it was covered) onto ``path``."""
    os.makedirs(path, mode=0o755, exist_ok=True)
    mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
    os.close(fd)


def _mount_proc(*, hidepid: bool) -> None:
    """A procfs that shows only the worker itself (or its own uid), else an empty /proc.

    A new procfs needs real root and a /proc without locked over-mounts (Docker masks some
    /proc paths, which makes the kernel refuse); either way the grader stays invisible.
    """
    # ptraceable (5.8+) also hides the runner's sweeper, which has the worker's uid but is not
    # dumpable; invisible hides only other uids.
    if hidepid:
        options_tried = (
            "hidepid=ptraceable,subset=pid",
            "hidepid=invisible,subset=pid",
            "hidepid=invisible",
        )
        for options in options_tried:
            try:
                mount("proc", "/proc", "proc", _SAFE, options)
                return
            except OSError:
                pass
    mount("tmpfs", "/proc", "tmpfs", _SAFE | MS_RDONLY, "size=4k,mode=0555")


def enter_user_namespace(uid: int, gid: int, flags: int) -> None:
    """Unshare a user namespace (plus ``flags``) mapping our own uid/gid to themselves.

    An unprivileged process may only map its own ids, one line each, and must deny
    setgroups first; the ids are read before unsharing because afterwards they read as the
    overflow id until the map is written.
    """
    unshare(CLONE_NEWUSER | flags)
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{uid} {uid} 1"),
        ("gid_map", f"{gid} {gid} 1"),
    ):
        with open(f"/proc/self/{name}", "w") as control:
            control.write(text)


def drop_to(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` for good, with no supplementary groups (needs root)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
