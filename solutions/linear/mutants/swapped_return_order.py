# loses: dx, dW, shapes
"""Mutant: backward returns (dW, dx, db) instead of (dx, dW, db)."""

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
    db = dy.sum(axis=0)
    return dW, dx, db
