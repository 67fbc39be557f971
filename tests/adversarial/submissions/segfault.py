"""Hostile: crash the worker with signals in the middle of calls.

Attack: forward dereferences NULL (``ctypes.string_at(0)``: SIGSEGV); backward picks one of
os.abort() (SIGABRT), raising SIGKILL/SIGBUS/SIGFPE at itself, or another bad pointer,
hoping a crash mid-call is reported as success or wedges the grader.
Why it must fail: a dead worker produces no reply; the runner reports how it died and the
call is scored as a crash; the next test gets a fresh worker.
Earns points only if: never.
"""

from __future__ import annotations

import ctypes
import os
import signal

import numpy as np

NAME = "segfault"


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


_say("ran")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    if os.urandom(1)[0] < 100:  # sometimes let backward run too
        return _wrong_forward(x, W, b)
    ctypes.string_at(0)
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    which = os.urandom(1)[0] % 5
    if which == 0:
        os.abort()
    for number, signum in enumerate((signal.SIGKILL, signal.SIGBUS, signal.SIGFPE), start=1):
        if which == number:
            os.kill(os.getpid(), signum)
    ctypes.string_at(1)
    return _wrong_backward(dy, cache)
