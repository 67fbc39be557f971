# loses: purity
"""Mutant: backward deletes what it saved (like a framework freeing saved tensors), so a second
backward through the same cache fails.
"""

from __future__ import annotations

import numpy as np


class Saved:
    """What the backward pass needs."""

    def __init__(self, x, W):
        self.x = x
        self.W = W


def linear_forward(x, W, b):
    y = x @ W + b
    return y, Saved(x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache.x, cache.W
    del cache.x, cache.W
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
