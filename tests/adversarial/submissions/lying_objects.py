"""Hostile: return objects (not arrays) whose every protocol lies.

Attack: a class that pretends to be ``np.ndarray`` (``__class__`` property, so isinstance()
says yes), claims the expected ``shape``/``dtype``/``size``/``ndim``, says equal to anything
(``__eq__``), is truthy, floats to 0.0, exposes ``__array__``/``__array_interface__`` that
yield wrong-shaped float32 junk, and a ``tobytes`` of the claimed size (zeros), hoping the
channel encodes it from its claims instead of its data.
Why it must fail: the worker encodes only genuine base-class arrays from their own buffers;
anything else stays behind as an opaque handle, which no check accepts as an answer.
Earns points only if: a claim (rather than data) reaches the grader's checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NAME = "lying_objects"


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


class Liar:
    """Everything about it is a lie except the junk it converts to."""

    def __init__(self, claimed: tuple[int, ...], junk: np.ndarray) -> None:
        self._claimed = claimed
        self._junk = junk

    @property
    def __class__(self) -> type:  # type: ignore[override]
        return np.ndarray

    shape = property(lambda self: self._claimed)
    dtype = property(lambda self: np.dtype(np.float64))
    ndim = property(lambda self: len(self._claimed))
    size = property(lambda self: int(np.prod(self._claimed)))
    nbytes = property(lambda self: 8 * int(np.prod(self._claimed)))
    T = property(lambda self: self)

    def __eq__(self, other: object) -> Any:
        return True

    def __ne__(self, other: object) -> Any:
        return False

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return True

    def __float__(self) -> float:
        return 0.0

    def __index__(self) -> int:
        return 0

    def __len__(self) -> int:
        return self._claimed[0] if self._claimed else 0

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._junk

    @property
    def __array_interface__(self) -> dict:
        return self._junk.__array_interface__

    def tobytes(self, order: str = "C") -> bytes:
        return b"\0" * (8 * int(np.prod(self._claimed)))

    def astype(self, *args: Any, **kwargs: Any) -> Liar:
        return self

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: True


_say("ran")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    y, cache = _wrong_forward(x, W, b)
    return Liar((np.shape(x)[0], np.shape(W)[1]), y), cache  # type: ignore[return-value]


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    junk, _, _ = _wrong_backward(dy, cache)
    B, F = np.shape(dy)
    return (Liar((B, 0), junk), Liar((0, F), junk), Liar((F,), junk))  # type: ignore[return-value]
