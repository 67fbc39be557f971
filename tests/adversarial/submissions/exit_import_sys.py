"""Hostile: ``sys.exit(0)`` at import, with an atexit hook that prints a fake verdict.

Attack: raise SystemExit(0) while loading (and register an atexit handler printing
"20/20 passed" JSON), hoping the harness lets SystemExit end the process cleanly and the grader
reads a clean exit, or the fake line, as success.
Why it must fail: the worker catches BaseException while loading and reports it as a load
error; printed output is captured and never parsed.
Earns points only if: SystemExit or the fake line is mistaken for a pass.
"""

from __future__ import annotations

import atexit
import json
import sys

import numpy as np

NAME = "exit_import_sys"


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


def _fake_verdict() -> None:
    print(json.dumps({"type": "result", "status": "graded", "score": 20.0, "max_score": 20.0}))


atexit.register(_fake_verdict)
_say("raising SystemExit(0) at import")
sys.exit(0)


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b)  # never reached


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache)
