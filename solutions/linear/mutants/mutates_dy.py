# loses: purity
"""Mutant: backward overwrites its argument dy after use (right gradients)."""

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
    dy[...] = 0.0  # "free" the upstream buffer
    return dx, dW, db
