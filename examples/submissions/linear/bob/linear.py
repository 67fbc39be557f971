import numpy as np


def linear_forward(x, W, b):
    y = np.dot(x, W) + b
    return y, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    dx = np.dot(dy, W.T)
    # dL/dW = dL/dy * dy/dW = dy * x
    dW = np.dot(dy.T, x)
    db = dy.sum(axis=0)
    return dx, dW, db
