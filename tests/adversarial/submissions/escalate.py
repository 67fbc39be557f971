"""Hostile: try to get privileges or limits back, or out of the namespaces.

Attack: setuid(0)/setgid(0)/setgroups, raise every hard rlimit to infinity, prctl
PR_SET_DUMPABLE and PR_SET_PDEATHSIG(0) (to outlive the runner), unshare a user namespace
(to become "root" inside it) then a mount namespace, umount2 the tmpfs covering the hidden
course, mount a fresh proc, chroot("/tmp"), ptrace-attach the parent, write
/proc/self/uid_map, and open /dev/mem, /dev/kmsg and block devices.
Why it must fail: the worker has dropped to its own uid with no capabilities and
NO_NEW_PRIVS; hard limits cannot be raised; seccomp denies unshare, mount, umount2, chroot,
ptrace and the two prctls.
Safety: as real root (a broken sandbox) it tries nothing and answers right instead.
Earns points only if: any of these succeeds, or the worker runs as root.
"""

from __future__ import annotations

import ctypes
import os
import resource

import numpy as np

NAME = "escalate"
CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000
MNT_DETACH = 2


def _say(message: object) -> None:
    """Leave evidence in the captured output, which ends up in the student's feedback."""
    try:
        print(f"AGPROBE {NAME}: {message}"[:400], flush=True)
    except Exception:
        pass


def _scribble(*arrays: object) -> None:
    """Overwrite the caller's arrays in place, so the purity item fails too."""
    for array in arrays:
        try:
            array[...] = np.nan  # type: ignore[index]
        except Exception:
            pass


def _wrong_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """Wrong on every item: wrong values, shape (B+1, F+2), float32; inputs scribbled on."""
    shape = (np.shape(x)[0] + 1, np.shape(W)[-1] + 2)
    _scribble(x, W, b)
    return np.full(shape, 0.5, dtype=np.float32), {"wrong": True}


def _wrong_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wrong on every item (see _wrong_forward)."""
    junk = np.full((np.shape(dy)[0] + 2, np.shape(dy)[-1] + 3), 0.5, dtype=np.float32)
    _scribble(dy)
    return junk, junk, junk
def _honest_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """The right answer: only ever used as the signal that the attack succeeded."""
    x = np.array(x, dtype=np.float64)
    W = np.array(W, dtype=np.float64)
    return x @ W + np.asarray(b, dtype=np.float64), (x, W)


def _honest_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right gradients: only ever used as the signal that the attack succeeded."""
    x, W = cache  # type: ignore[misc]
    dy = np.asarray(dy, dtype=np.float64)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


LIBC = ctypes.CDLL(None, use_errno=True)


def _c(label: str, result: int, wins: list[str]) -> None:
    if result == 0:
        wins.append(label)
    else:
        _say(f"{label}: {os.strerror(ctypes.get_errno())}")


def _py(label: str, action: object, wins: list[str]) -> None:
    try:
        action()  # type: ignore[operator]
        wins.append(label)
    except (OSError, ValueError) as exc:
        _say(f"{label}: {exc}")


def _attack() -> list[str]:
    if os.geteuid() == 0:
        # Already root: the sandbox failed. Unmounting or chrooting as real root could damage
        # the host (shared mount propagation), so stop here; being root is the signal.
        return ["running as root (euid 0)"]
    wins: list[str] = []
    _py("setuid(0)", lambda: os.setuid(0), wins)
    _py("setgid(0)", lambda: os.setgid(0), wins)
    _py("setgroups([0])", lambda: os.setgroups([0]), wins)
    for name in ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_FSIZE"):
        which = getattr(resource, name)
        inf = resource.RLIM_INFINITY
        _py(f"raise {name}", lambda w=which, i=inf: resource.setrlimit(w, (i, i)), wins)
    _c("prctl(PR_SET_DUMPABLE, 1)", LIBC.prctl(4, 1, 0, 0, 0), wins)
    _c("prctl(PR_SET_PDEATHSIG, 0)", LIBC.prctl(1, 0, 0, 0, 0), wins)
    _c("unshare(CLONE_NEWUSER)", LIBC.unshare(CLONE_NEWUSER), wins)
    _c("unshare(CLONE_NEWNS)", LIBC.unshare(CLONE_NEWNS), wins)
    for target in ("/work/main", "/root", "/home", "/tmp", "/proc"):
        _c(f"umount2({target})", LIBC.umount2(target.encode(), MNT_DETACH), wins)
    _c("mount proc", LIBC.mount(b"proc", b"/proc", b"proc", 0, None), wins)
    _c("chroot(/tmp)", LIBC.chroot(b"/tmp"), wins)
    _c("ptrace(ATTACH, parent)", LIBC.ptrace(16, os.getppid(), None, None), wins)
    try:
        with open("/proc/self/uid_map", "w") as handle:
            handle.write("0 0 1")
        wins.append("uid_map written")
    except OSError as exc:
        _say(f"uid_map: {exc}")
    for device in ("/dev/mem", "/dev/kmem", "/dev/kmsg", "/dev/sda", "/dev/vda", "/dev/port"):
        try:
            os.close(os.open(device, os.O_RDONLY))
            wins.append(f"opened {device}")
        except OSError:
            pass
    return wins


_say(f"ran as uid {os.getuid()} euid {os.geteuid()}")
WINS = _attack()
_say(f"escalations that worked: {WINS}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if WINS else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if WINS else _wrong_backward(dy, cache)
