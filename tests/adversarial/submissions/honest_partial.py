"""An honest submission with one classic mistake: dW is transposed (shape (F, D)).

It loses dW and part of "shapes", and must lose exactly that -- no more, no less -- whoever
its neighbours are.
"""

from __future__ import annotations

import numpy as np


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """y = x @ W + b; the cache keeps private copies of x and W."""
    x = np.asarray(x, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    return x @ W + np.asarray(b, dtype=np.float64), (x.copy(), W.copy())


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Right dx and db; dW is (x.T @ dy).T, the transpose of the right answer."""
    x, W = cache  # type: ignore[misc]
    dy = np.asarray(dy, dtype=np.float64)
    return dy @ W.T, dy.T @ x, dy.sum(axis=0)
