"""A correct, well-behaved submission: the neighbour every hostile submission must not disturb.

test_hostile.py grades several copies of it (under different student ids) among the hostile
submissions and alone, and requires identical grades. The two canary comments are there so
that heap_scan.py can recognise this source if it ever leaks into another worker's memory.
"""

# honest-neighbour-canary-begin
from __future__ import annotations

import numpy as np


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """y = x @ W + b; the cache keeps private copies of x and W."""
    x = np.asarray(x, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    y = x @ W + np.asarray(b, dtype=np.float64)
    return y, (x.copy(), W.copy())


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dx = dy @ W.T, dW = x.T @ dy, db = dy summed over the batch."""
    x, W = cache  # type: ignore[misc]
    dy = np.asarray(dy, dtype=np.float64)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
# honest-neighbour-canary-end
