# loses: purity
"""Mutant: the forward pass keeps x and W in a global variable that backward reads, ignoring its cache."""

from __future__ import annotations

import numpy as np


def linear_nd_forward(x, W, b):
    y = x @ W + b
    global _LAST
    _LAST = (x.copy(), W.copy())
    cache = None
    return y, cache


def linear_nd_backward(dy, cache):
    x, W = _LAST
    D, F = W.shape
    dx = dy @ W.T
    rows_x = x.reshape(-1, D)
    rows_dy = dy.reshape(-1, F)
    dW = rows_x.T @ rows_dy
    db = rows_dy.sum(axis=0)
    return dx, dW, db
