"""Hostile: endless calls, busy or sleeping (chosen at random), with signals ignored.

Attack: at import, ignore (and block) every catchable signal including SIGXCPU; then each
call either sleeps forever (no CPU: only a wall clock can stop it) or spins forever (until
the CPU rlimit's SIGXCPU, which it ignores, then the hard limit's SIGKILL). Every test calls
again, respawning the worker, trying to burn unbounded grading time.
Why it must fail: every call has a deadline (its own time, sleeping included) enforced with
SIGKILL, and the submission has a total time budget after which the remaining checks are not
run.
Earns points only if: never; the run must finish and the neighbours be unaffected.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np

NAME = "loop_call"


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


def _deafen() -> None:
    for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGXCPU", "SIGALRM", "SIGUSR1", "SIGUSR2"):
        try:
            signal.signal(getattr(signal, name), signal.SIG_IGN)
        except (OSError, ValueError, AttributeError):
            pass
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))
    except (OSError, ValueError):
        pass


def _forever() -> None:
    if os.urandom(1)[0] < 128:
        while True:
            time.sleep(3600)
    while True:
        pass


_deafen()
_say("ran; every call will never return")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    _forever()
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _forever()
    return _wrong_backward(dy, cache)
