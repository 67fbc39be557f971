# loses: dx, dW, db, shapes, purity
"""Mutant: dx = dy @ W without the transpose: only works when D == F, so it crashes on every graded
shape and takes the whole backward pass with it.
"""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W
    dW = x.T @ dy
    db = dy.sum(axis=0)
    return dx, dW, db
