# loses: forward, shapes, empty
"""Mutant: the forward pass works on the 2-D view and returns y of shape (N, F) instead of (..., F)."""

from __future__ import annotations

import numpy as np


def linear_nd_forward(x, W, b):
    y = x.reshape(-1, W.shape[0]) @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_nd_backward(dy, cache):
    x, W = cache
    D, F = W.shape
    dx = dy @ W.T
    rows_x = x.reshape(-1, D)
    rows_dy = dy.reshape(-1, F)
    dW = rows_x.T @ rows_dy
    db = rows_dy.sum(axis=0)
    return dx, dW, db
