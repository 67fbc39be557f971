import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    return y, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    batch_size = x.shape[0]
    dx = dy @ W.T
    # average over the batch like the loss does
    dW = x.T @ dy / batch_size
    db = dy.sum(axis=0) / batch_size
    return dx, dW, db
