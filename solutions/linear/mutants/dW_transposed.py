# loses: dW, shapes
"""Mutant: dW = dy.T @ x, the transpose of x.T @ dy (shape (F, D))."""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W.T
    dW = dy.T @ x
    db = dy.sum(axis=0)
    return dx, dW, db
