# loses: shapes
"""Mutant: db keeps the summed axis: shape (1, F) instead of (F,); the numbers are right."""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy
    db = dy.sum(axis=0, keepdims=True)
    return dx, dW, db
