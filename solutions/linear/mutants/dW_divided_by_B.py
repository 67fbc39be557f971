# loses: dW
"""Mutant: dW divided by the batch size, as if the 1/B of a mean loss were not already in dy."""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy / x.shape[0]
    db = dy.sum(axis=0)
    return dx, dW, db
