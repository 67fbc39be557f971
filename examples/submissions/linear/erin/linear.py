import numpy as np


def linear_forward(x, W, b):
    out = x.dot(W) + b
    cache = {"x": x.copy(), "W": W.copy(), "b": b.copy()}
    return out, cache


def linear_backward(dy, cache):
    x = cache["x"]
    W = cache["W"]
    grad_x = dy.dot(W.T)
    grad_W = x.T.dot(dy)
    grad_b = dy.sum(axis=0)
    return grad_x, grad_W, grad_b
