import numpy as np


def linear_nd_forward(x, W, b):
    y = x @ W + b
    return y, (x, W)


def linear_nd_backward(dy, cache):
    x, W = cache
    # same as the 2-D layer
    dx = dy @ W.T
    dW = x.T @ dy
    db = dy.sum(axis=0)
    return dx, dW, db
