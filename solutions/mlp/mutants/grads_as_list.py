# loses: shapes
"""Mutant: the right gradients, returned as a list in the order of params instead of a dict."""


from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy
    db = dy.sum(axis=0)
    return dx, dW, db


def relu_forward(x):
    y = np.maximum(x, 0.0)
    cache = {"positive": x > 0}
    return y, cache


def relu_backward(dy, cache):
    dx = np.where(cache["positive"], dy, 0.0)
    return dx


def softmax_cross_entropy(logits, targets):
    B = logits.shape[0]
    rows = np.arange(B)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, targets].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, targets] -= 1.0
    dlogits /= B
    return loss, dlogits


def mlp_loss_and_grads(X, targets, params):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Y1, cache1 = linear_forward(X, W1, b1)
    Hd, relu_cache = relu_forward(Y1)
    Y2, cache2 = linear_forward(Hd, W2, b2)
    loss, dY2 = softmax_cross_entropy(Y2, targets)
    dHd, dW2, db2 = linear_backward(dY2, cache2)
    dY1 = relu_backward(dHd, relu_cache)
    _, dW1, db1 = linear_backward(dY1, cache1)
    grads = [dW1, db1, dW2, db2]
    return loss, grads
