# loses: dW
"""Mutant: dW divided by the size of the first axis, as if the 1/B of a mean loss were not already in dy."""

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
    dW = rows_x.T @ rows_dy / max(x.shape[0], 1)
    db = rows_dy.sum(axis=0)
    return dx, dW, db
