"""Two-layer network, plain numpy, one small function per piece."""

import numpy as np


def linear_forward(x, W, b):
    return x @ W + b, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def relu_forward(x):
    # I take the subgradient 1 at x == 0 (the README says anything in [0, 1] is fine).
    mask = x >= 0
    return x * mask, mask


def relu_backward(dy, cache):
    return dy * cache


def softmax_cross_entropy(logits, targets):
    B = len(logits)
    z = logits - np.max(logits, axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    loss = -np.mean(log_p[np.arange(B), targets])
    one_hot = np.zeros_like(logits)
    one_hot[np.arange(B), targets] = 1.0
    dlogits = (np.exp(log_p) - one_hot) / B
    return loss, dlogits


def mlp_loss_and_grads(X, targets, params):
    a1, c1 = linear_forward(X, params["W1"], params["b1"])
    h, c_relu = relu_forward(a1)
    scores, c2 = linear_forward(h, params["W2"], params["b2"])
    loss, d_scores = softmax_cross_entropy(scores, targets)
    dh, dW2, db2 = linear_backward(d_scores, c2)
    da1 = relu_backward(dh, c_relu)
    _, dW1, db1 = linear_backward(da1, c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
