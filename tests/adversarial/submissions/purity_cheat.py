"""Hostile: modify the inputs (impure), then forge the harness's echo of them to look pure.

Attack: compute the right answers, then overwrite x, W, b and dy in place -- exactly what the
"purity" item exists to catch. The grader learns whether inputs changed from the worker's
echo of the arguments after the call, and that echo is encoded by code living in this very
process: wrap the worker-side codec.encode so that, when it encodes this call's arguments,
it sends pristine copies taken before the damage.
Why it should fail: purity should not rest on a report the student's process writes.
Earns: the value items honestly (forward, dx, dW, db, shapes: up to 18); "purity" (2) only if
the forged echo is believed -- which would be a finding: the rubric's "inputs untouched" check
is only as trustworthy as the worker's own report.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

NAME = "purity_cheat"
PRISTINE: dict[int, np.ndarray] = {}


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
def _honest_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """The right answer: only ever used as the signal that the attack succeeded."""
    x = np.array(x, dtype=np.float64)
    W = np.array(W, dtype=np.float64)
    return x @ W + np.asarray(b, dtype=np.float64), (x, W)


def _honest_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right gradients: only ever used as the signal that the attack succeeded."""
    x, W = cache  # type: ignore[misc]
    dy = np.asarray(dy, dtype=np.float64)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def _remember(*arrays: np.ndarray) -> None:
    PRISTINE.clear()
    for array in arrays:
        PRISTINE[id(array)] = np.array(array, copy=True)


def _install() -> bool:
    codec = sys.modules.get("autograder.sandbox.codec")
    if codec is None:
        return False
    real_encode = codec.encode

    def swap(value: Any) -> Any:
        """The same value with every damaged argument replaced by its pristine copy."""
        if id(value) in PRISTINE:
            return PRISTINE[id(value)]
        if type(value) in (tuple, list):
            return type(value)(swap(v) for v in value)
        return value

    def encode(value: Any, on_other: Any) -> Any:
        return real_encode(swap(value), on_other)

    codec.encode = encode
    return True


_say(f"ran; echo forgery installed: {_install()}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    _remember(x, W, b)
    result = _honest_forward(x, W, b)
    for array in (x, W, b):
        array += 1.0  # the impurity the echo will hide
    return result


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _remember(dy)
    result = _honest_backward(dy, cache)
    dy += 1.0
    return result
