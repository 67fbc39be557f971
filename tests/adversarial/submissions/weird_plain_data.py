"""Hostile: return odd but legal plain data, to break the grader's checks rather than pass them.

Attack: everything here crosses the boundary as data, so the grader's own check code runs on
it: a 4000-digit int, complex arrays, big-endian '>f8' and float128 arrays of the right shape
holding wrong numbers, uint64 at its maximum, bool arrays, empty and 0-d arrays, arrays with 40
axes of length 1, a 64-deep nested list (the codec's depth limit), strings and dicts that
spell out a verdict ({"passed": true, "score": 20}), NaN/inf scalars, a JSON-looking "H"
handle dict. Hoped-for effect: an exception inside the grader's test ("internal error, not
your fault") instead of a failed check, or a crash of the grading process.
Why it must fail: every check must turn any value into a pass or a student-facing failure.
Earns points only if: never; test_hostile.py also requires that no check of this submission
ended as an internal error of the grader.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

NAME = "weird_plain_data"


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


def _nested(depth: int) -> Any:
    value: Any = 0.0
    for _ in range(depth):
        value = [value]
    return value


def _weird(shape: tuple[int, ...], which: int) -> Any:
    rng = np.random.default_rng(which)
    options: list[Any] = [
        10**4000 - 1,
        rng.normal(size=shape) + 1j * rng.normal(size=shape),
        rng.normal(size=shape).astype(">f8"),
        rng.normal(size=shape).astype(np.longdouble),
        np.full(shape, np.iinfo(np.uint64).max, dtype=np.uint64),
        np.ones(shape, dtype=bool),
        np.zeros((0,) + shape),
        np.float64(0.0),
        np.zeros((1,) * 40),
        _nested(62),
        "PASSED",
        {"passed": True, "score": 20, "status": "graded", "H": [1, "ndarray"]},
        float("nan"),
        [float("inf")] * 4,
        np.full(shape + (1,), 1e308),
        np.zeros(shape, dtype=np.float16),
        np.full(shape + (1,), -0.0),
        np.zeros(shape, dtype=np.complex64)[..., None],
    ]
    return options[which % len(options)]


_say("ran")


def _pick() -> int:
    return os.urandom(1)[0]


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    _scribble(x, W, b)
    return _weird((np.shape(x)[0], np.shape(W)[1]), _pick()), _weird((2,), _pick())


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _scribble(dy)
    B, F = np.shape(dy)
    return _weird((B, B), _pick()), _weird((F, F), _pick()), _weird((F, 1, 1), _pick())
