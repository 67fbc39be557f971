"""Hostile: create processes every way Python knows, and leave them running.

Attack: os.fork() in a loop, subprocess.Popen, os.system with a background job, os.posix_spawn,
multiprocessing.Process and pty.fork; every child sleeps 120 s (bounded, so that a broken
sandbox cannot hurt the host) under a recognisable name (``ag_hostile`` / argv marker
``ag_hostile_marker``), hoping to exhaust the process table, slow the neighbours, or survive
the run.
Why it must fail: seccomp denies fork/vfork/clone-without-CLONE_THREAD and execve; RLIMIT_NPROC
caps the slot uid anyway; and after each worker the runner kills every process of the slot
uid. test_hostile.py checks that nothing survives the run.
Earns points only if: any process creation succeeds.
"""

from __future__ import annotations

import os
import subprocess
import time

import numpy as np

NAME = "fork_bomb"
SLEEPER = ["/bin/sh", "-c", "sleep 120; : ag_hostile_marker"]


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


def _name_me() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, b"ag_hostile", 0, 0, 0)  # PR_SET_NAME
    except Exception:
        pass


def _sleep_child() -> None:
    _name_me()
    time.sleep(120)
    os._exit(0)


def _attack() -> list[str]:
    wins = []
    for _ in range(20):
        try:
            pid = os.fork()
        except OSError as exc:
            _say(f"fork: {exc}")
            break
        if pid == 0:
            _sleep_child()
        wins.append(f"fork {pid}")
    for _ in range(4):
        try:
            wins.append(f"Popen {subprocess.Popen(SLEEPER).pid}")
        except OSError as exc:
            _say(f"Popen: {exc}")
            break
    status = os.system("sleep 120 &  # ag_hostile_marker")
    _say(f"os.system returned {status}")
    if status == 0:
        wins.append("os.system")
    try:
        wins.append(f"posix_spawn {os.posix_spawn(SLEEPER[0], SLEEPER, {})}")
    except OSError as exc:
        _say(f"posix_spawn: {exc}")
    try:
        import multiprocessing

        proc = multiprocessing.get_context("fork").Process(target=_sleep_child, daemon=False)
        proc.start()
        wins.append(f"multiprocessing {proc.pid}")
    except Exception as exc:
        _say(f"multiprocessing: {type(exc).__name__}: {exc}")
    try:
        import pty

        pid, _ = pty.fork()
        if pid == 0:
            _sleep_child()
        wins.append(f"pty.fork {pid}")
    except Exception as exc:
        _say(f"pty.fork: {type(exc).__name__}: {exc}")
    return wins


_say("ran")
WINS = _attack()
_say(f"processes created: {WINS}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if WINS else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if WINS else _wrong_backward(dy, cache)
