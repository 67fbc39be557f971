"""The network gradient written as the course notes write it: one example at a time,

    dL/dW2 = (1/B) sum_i f(x_i)^T dl_i/dy2_i,   f(x) = relu(x W1 + b1),

with explicit loops. The pieces are vectorised; mlp_loss_and_grads is not.
"""

import numpy as np


def linear_forward(x, W, b):
    return np.dot(x, W) + b, (np.copy(x), np.copy(W))


def linear_backward(dy, cache):
    x, W = cache
    return np.dot(dy, W.T), np.dot(x.T, dy), np.sum(dy, axis=0)


def relu_forward(x):
    return np.where(x > 0, x, 0.0), np.copy(x)


def relu_backward(dy, cache):
    return np.where(cache > 0, dy, 0.0)


def softmax_cross_entropy(logits, targets):
    B = logits.shape[0]
    loss = 0.0
    dlogits = np.zeros(logits.shape)
    for i in range(B):
        z = logits[i] - logits[i].max()
        p = np.exp(z) / np.exp(z).sum()
        loss += -(z[targets[i]] - np.log(np.exp(z).sum())) / B
        g = p.copy()
        g[targets[i]] -= 1.0
        dlogits[i] = g / B
    return loss, dlogits


def mlp_loss_and_grads(X, targets, params):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    B = X.shape[0]
    grads = {k: np.zeros_like(v, dtype=float) for k, v in params.items()}
    loss = 0.0
    for i in range(B):
        y1 = X[i] @ W1 + b1
        f = np.maximum(y1, 0.0)  # f(x_i), a row of H numbers
        y2 = f @ W2 + b2
        z = y2 - y2.max()
        p = np.exp(z) / np.exp(z).sum()
        loss += -(z[targets[i]] - np.log(np.exp(z).sum())) / B
        g = p.copy()  # dl_i/dy2_i, the gradient of example i's own loss
        g[targets[i]] -= 1.0
        grads["W2"] += np.outer(f, g) / B  # f(x_i)^T g_i, with the one 1/B
        grads["b2"] += g / B
        dy1 = (g @ W2.T) * (y1 > 0) / B
        grads["W1"] += np.outer(X[i], dy1)
        grads["b1"] += dy1
    return loss, grads
