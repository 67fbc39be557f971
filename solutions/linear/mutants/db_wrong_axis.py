# loses: db, shapes
"""Mutant: db sums dy over the feature axis (one number per example) instead of the batch axis."""

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
    db = dy.sum(axis=1)
    return dx, dW, db
