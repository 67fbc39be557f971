# loses: forward
"""Mutant: the forward pass forgets the bias: y = x @ W."""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    y = x @ W
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy
    db = dy.sum(axis=0)
    return dx, dW, db
