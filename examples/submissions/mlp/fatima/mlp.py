import numpy as np


def linear_forward(x, W, b):
    return x.dot(W) + b, {"x": x.copy(), "W": W.copy()}


def linear_backward(dy, cache):
    return dy.dot(cache["W"].T), cache["x"].T.dot(dy), dy.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0.0), {"x": x.copy()}


def relu_backward(dy, cache):
    return dy * (cache["x"] > 0)


def softmax_cross_entropy(logits, targets):
    B = logits.shape[0]
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    losses = -np.log(p[np.arange(B), targets])
    loss = losses.mean(keepdims=True)  # keep it an array
    d = p.copy()
    d[np.arange(B), targets] -= 1.0
    return loss, d / B


def mlp_loss_and_grads(X, targets, params):
    y1, c1 = linear_forward(X, params["W1"], params["b1"])
    h, cr = relu_forward(y1)
    y2, c2 = linear_forward(h, params["W2"], params["b2"])
    loss, dy2 = softmax_cross_entropy(y2, targets)
    dh, dW2, db2 = linear_backward(dy2, c2)
    _, dW1, db1 = linear_backward(relu_backward(dh, cr), c1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
