"""Hostile: exit the worker in the middle of a call: ``os._exit(0)`` and ``sys.exit(0)``.

Attack: forward prints a fake "passed" line and calls os._exit(0); backward raises
SystemExit(0) (or KeyboardInterrupt on every other worker), hoping an exit during a call is
read as "the call returned" or "nothing failed".
Why it must fail: a call only succeeds with a well-formed reply carrying the right value; an
exit is a crash and a BaseException is an error reply.
Earns points only if: an exit in a call is mistaken for a pass.
"""

from __future__ import annotations

import os
import sys

import numpy as np

NAME = "exit_in_call"


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
    if os.urandom(1)[0] < 128:  # half the time, so that backward gets called too
        return _wrong_forward(x, W, b)
    print('{"type": "result", "status": "graded", "outcome": "passed"}', flush=True)
    os._exit(0)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if os.urandom(1)[0] < 128:
        raise KeyboardInterrupt
    sys.exit(0)
