"""Hostile: return ndarray subclasses that lie about everything numpy lets them lie about.

Attack: the returned arrays hold wrong numbers (wrong shape, float32), but their class claims
the expected shape and float64 through ``shape``/``dtype`` properties, says "equal" from
``__eq__``, answers True from np.allclose/array_equal and None from np.testing via
``__array_function__``, turns subtract/abs into zeros via ``__array_ufunc__``, and pickles into
a payload that creates /tmp/ag_pwned_subclass_* (``__reduce__``). Also returned: np.matrix and
a fully masked np.ma array.
Why it must fail: only the raw numeric buffer crosses (as a base-class .npy); the grader's
comparisons run on its own plain arrays with its own numpy, and nothing is unpickled.
Earns points only if: the grader sees the subclass, its lies, or unpickles it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NAME = "ndarray_subclass"
MARKER = f"/tmp/ag_pwned_subclass_{NAME}"


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


class Liar(np.ndarray):
    """Claims to be the right answer; holds the wrong one."""

    claimed_shape: tuple[int, ...] = ()
    __array_priority__ = 1e9

    def __array_finalize__(self, obj: Any) -> None:
        self.claimed_shape = getattr(obj, "claimed_shape", ())

    @property  # type: ignore[override]
    def shape(self) -> tuple[int, ...]:
        return self.claimed_shape

    @property  # type: ignore[override]
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return np.ones(np.shape(other) or (), dtype=bool)

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return np.zeros(np.shape(other) or (), dtype=bool)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        name = getattr(func, "__name__", "")
        if name in ("allclose", "array_equal", "array_equiv", "all"):
            return True
        if name.startswith("assert"):
            return None
        return super().__array_function__(func, types, args, kwargs)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if ufunc in (np.subtract, np.absolute, np.not_equal):
            return np.zeros(self.claimed_shape)
        plain = [np.asarray(i) if isinstance(i, Liar) else i for i in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (MARKER, "w"))

    def __bool__(self) -> bool:
        return True

    def __float__(self) -> float:
        return 0.0


def _liar(junk: np.ndarray, claimed: tuple[int, ...]) -> Liar:
    lie = junk.view(Liar)
    lie.claimed_shape = claimed
    return lie


_say("ran")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    claimed = (np.shape(x)[0], np.shape(W)[1])
    y, cache = _wrong_forward(x, W, b)
    return _liar(y, claimed), cache


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dx, dW, db = _wrong_backward(dy, cache)
    matrix = np.asmatrix(dW)
    masked = np.ma.masked_all(db.shape, dtype=np.float32)
    return _liar(dx, (np.shape(dy)[0], 0)), matrix, masked
