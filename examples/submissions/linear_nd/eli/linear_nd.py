import numpy as np


def linear_nd_forward(x, W, b):
    return x @ W + b, (x.copy(), W.copy())


def linear_nd_backward(dy, cache):
    x, W = cache
    D, F = W.shape
    xf = x.reshape(-1, D)
    dyf = dy.reshape(-1, F)
    dx = dyf @ W.T
    dW = xf.T @ dyf
    db = dyf.sum(axis=0, keepdims=True)
    return dx, dW, db
