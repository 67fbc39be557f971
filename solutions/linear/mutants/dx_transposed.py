# loses: dx, shapes
"""Mutant: dx = W @ dy.T, the transpose of the right answer (shape (D, B))."""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = W @ dy.T
    dW = x.T @ dy
    db = dy.sum(axis=0)
    return dx, dW, db
