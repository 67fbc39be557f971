# loses: shapes
"""Mutant: every output is float32; the numbers are right to float32 precision."""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    y = (x @ W + b).astype(np.float32)
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy
    db = dy.sum(axis=0)
    dx, dW, db = (g.astype(np.float32) for g in (dx, dW, db))
    return dx, dW, db
