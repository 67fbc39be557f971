# loses: shapes
"""Mutant: computes in float32 and converts back: float64 dtype, float32 precision."""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    x32, W32, b32 = (a.astype(np.float32) for a in (x, W, b))
    y = (x32 @ W32 + b32).astype(np.float64)
    cache = (x32, W32)
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dy32 = dy.astype(np.float32)
    dx = (dy32 @ W.T).astype(np.float64)
    dW = (x.T @ dy32).astype(np.float64)
    db = dy32.sum(axis=0).astype(np.float64)
    return dx, dW, db
