"""Linear layer, forward and backward (plain numpy)."""

import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy
    db = np.sum(dy, axis=0)
    return dx, dW, db
