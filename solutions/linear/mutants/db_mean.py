# loses: db
"""Mutant: db averages dy over the batch instead of summing it."""

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
    db = dy.mean(axis=0)
    return dx, dW, db
