"""Hostile: return object arrays, structured and string arrays, and self-referential containers.

Attack: rotate through values a naive channel would pickle or choke on: an object array whose
elements claim equality with anything, a structured array with an object field, a '<U' array
that says "PASSED", a record array, a list that contains itself, a dict that contains itself,
a generator, a module, and a 10**6-deep nested list -- hoping for a pickle round-trip, a hang
or a crash in the encoder/decoder that is reported as something other than the student's
failure.
Why it must fail: the worker sends only numeric base-class arrays and plain containers
(depth-limited); anything else stays behind as an opaque handle. None of these is an answer.
Earns points only if: never; the grader must keep running and score these 0.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

NAME = "object_dtype"


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


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


def _weird(shape: tuple[int, ...], which: int) -> Any:
    if which == 0:
        array = np.empty(shape, dtype=object)
        array.fill(AlwaysEqual())
        return array
    if which == 1:
        return np.zeros(shape, dtype=[("v", "<f8"), ("o", "O")])
    if which == 2:
        return np.full(shape, "PASSED")
    if which == 3:
        return np.rec.fromarrays([np.zeros(shape)], names="v")
    if which == 4:
        loop: list[Any] = [1.0]
        loop.append(loop)
        return loop
    if which == 5:
        loop_dict: dict[str, Any] = {"score": 20}
        loop_dict["self"] = loop_dict
        return loop_dict
    if which == 6:
        return (i for i in range(3))
    if which == 7:
        return sys
    deep: list[Any] = []
    for _ in range(10**6):
        deep = [deep]
    return deep


_say("ran")


def _pick() -> int:
    return os.urandom(1)[0] % 9


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    _scribble(x, W, b)
    return _weird((np.shape(x)[0], np.shape(W)[1]), _pick()), _weird((1,), _pick())


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _scribble(dy)
    B, F = np.shape(dy)
    return _weird((B, 3), _pick()), _weird((3, F), _pick()), _weird((F,), _pick())
