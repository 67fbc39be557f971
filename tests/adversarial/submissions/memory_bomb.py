"""Hostile: exhaust memory, in Python and in numpy, and hold on to it.

Attack: forward grows a list of touched 64 MiB blocks until MemoryError (capped at 6 GiB so
that a broken sandbox cannot take the machine down), keeps them, and answers; backward asks
numpy for an 80 GB array; a background thread keeps allocating, hoping to starve the
grader or the neighbouring submissions.
Why it must fail: RLIMIT_AS caps the worker's address space at its baseline plus memory_mb;
allocations fail inside the worker only, and the grader and other workers never share its
memory.
Earns points only if: never; the neighbours must be unaffected.
"""

from __future__ import annotations

import threading

import numpy as np

NAME = "memory_bomb"
CAP = 6 << 30
BLOCK = 64 << 20
HOARD: list[bytearray] = []


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


def _grab() -> int:
    total = 0
    try:
        while total < CAP:
            block = bytearray(BLOCK)
            block[:: 4096] = b"x" * len(block[:: 4096])  # touch every page
            HOARD.append(block)
            total += BLOCK
    except MemoryError:
        pass
    return total


def _background() -> None:
    try:
        _grab()
    except Exception:
        pass


_say("ran")
threading.Thread(target=_background, daemon=True).start()


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    got = _grab()
    _say(f"holding {got >> 20} MiB more ({len(HOARD)} blocks in all)")
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        np.ones((10**5, 10**5))
    except MemoryError as exc:
        _say(f"numpy refused: {exc}"[:200])
    return _wrong_backward(dy, cache)
