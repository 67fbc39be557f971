# loses: empty
"""Mutant: dW and db as Python sums over the rows: right for every non-empty input, the integer 0 when there are no rows."""

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
    rows_x = x.reshape(-1, D)
    rows_dy = dy.reshape(-1, F)
    dW = sum(np.outer(row_x, row_dy) for row_x, row_dy in zip(rows_x, rows_dy))
    db = sum(rows_dy)
    return dx, dW, db
