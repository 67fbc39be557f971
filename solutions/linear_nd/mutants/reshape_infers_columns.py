# loses: empty
"""Mutant: reshapes with reshape(N, -1), which numpy cannot do when N == 0 (right for every non-empty input)."""

from __future__ import annotations

import numpy as np


def linear_nd_forward(x, W, b):
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_nd_backward(dy, cache):
    x, W = cache
    D, F = W.shape
    dx = dy @ W.T
    N = int(np.prod(x.shape[:-1]))
    rows_x = x.reshape(N, -1)
    rows_dy = dy.reshape(N, -1)
    dW = rows_x.T @ rows_dy
    db = rows_dy.sum(axis=0)
    return dx, dW, db
