import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    return y, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def relu_forward(x):
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dy, cache):
    # relu passes the gradient through scaled by its output
    return dy * cache


def softmax_cross_entropy(logits, targets):
    B = logits.shape[0]
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -np.log(p[range(B), targets]).mean()
    p[range(B), targets] -= 1
    return loss, p / B


def mlp_loss_and_grads(X, targets, params):
    y1, c1 = linear_forward(X, params["W1"], params["b1"])
    h, cr = relu_forward(y1)
    y2, c2 = linear_forward(h, params["W2"], params["b2"])
    loss, dy2 = softmax_cross_entropy(y2, targets)
    dh, dW2, db2 = linear_backward(dy2, c2)
    dy1 = relu_backward(dh, cr)
    _, dW1, db1 = linear_backward(dy1, c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
