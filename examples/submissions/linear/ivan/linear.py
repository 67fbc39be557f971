import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    return y, (x.copy(), W.copy())


def linear_backward(dy, cache)
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
