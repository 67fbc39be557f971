"""Hostile: blow the C stack and the Python stack.

Attack: raise the recursion limit to 10**8; forward takes repr() of a 10**5-deep nested list
(C recursion: a segfault in CPython 3.11), in a thread with a 256 KiB stack so that it crashes
at once instead of growing the main stack up to the memory limit; backward returns a
10**5-deep nested list for the encoder to walk, or (one time in eight) recurses in pure
Python until memory runs out.
Why it must fail: a crash kills only the worker (reported as a crash, the next test gets a
fresh worker); the encoder refuses data nested deeper than its limit; memory and CPU rlimits
bound the rest.
Earns points only if: never.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import numpy as np

NAME = "deep_recursion"


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


def _deep(n: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(n):
        value = [value]
    return value


def _recurse(n: int) -> int:
    return _recurse(n + 1) + 1


sys.setrecursionlimit(10**8)
_say("ran; recursion limit raised to 10**8")


def _crash() -> None:
    _say(f"repr length {len(repr(_deep(10**5)))}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    threading.stack_size(256 * 1024)
    thread = threading.Thread(target=_crash)
    thread.start()
    thread.join()
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if os.urandom(1)[0] >= 32:
        return _deep(10**5), _deep(10**5), _deep(10**5)  # type: ignore[return-value]
    _recurse(0)
    return _wrong_backward(dy, cache)
