import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b.reshape(1, -1)
    return y, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy
    db = np.sum(dy, axis=0, keepdims=True)  # same shape as b.reshape(1, -1)
    return dx, dW, db
