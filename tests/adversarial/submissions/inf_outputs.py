"""Hostile: return infinities and huge values of exactly the right shape and dtype.

Attack: inf - inf is NaN and inf / inf is NaN, so a relative error computed from infinite
outputs is NaN, and ``if error > tol: fail`` lets it through; 1e308 + 1e308 overflows to inf
inside ``|a| + |b|``. Outputs are +inf, -inf and +-1e308 (float64, right shapes).
Why it must fail: the grader's comparisons treat NaN/inf as a failure explicitly
(``not error <= limit`` and an isfinite check), and the gradient check does the same.
Earns points only if: a value check passes on NaN. The right shape and dtype are real, so
the "shapes" item may legitimately be earned (3 points); the inputs are scribbled on, so
"purity" may not.
"""

from __future__ import annotations

import numpy as np

NAME = "inf_outputs"


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
    y = np.full((np.shape(x)[0], np.shape(W)[1]), np.inf)
    cache = {"D": int(np.shape(W)[0])}
    _scribble(x, W, b)
    return y, cache


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    B, F = np.shape(dy)
    D = int(cache["D"])  # type: ignore[index]
    _scribble(dy)
    huge = np.full((D, F), 1e308)
    huge[::2] = -1e308
    return np.full((B, D), -np.inf), huge, np.full((F,), np.inf)
