# loses: dx, shapes, empty
"""Mutant: dx is computed on the 2-D view and never reshaped back: shape (N, D) instead of (..., D)."""

from __future__ import annotations

import numpy as np


def linear_nd_forward(x, W, b):
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_nd_backward(dy, cache):
    x, W = cache
    D, F = W.shape
    dx = dy.reshape(-1, F) @ W.T
    rows_x = x.reshape(-1, D)
    rows_dy = dy.reshape(-1, F)
    dW = rows_x.T @ rows_dy
    db = rows_dy.sum(axis=0)
    return dx, dW, db
