import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    return y, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    n = x.shape[0]
    dx = dy @ W.T
    # the loss is an average, so the gradient is an average too
    dW = x.T @ dy / n
    db = dy.mean(axis=0)
    return dx, dW, db


def relu_forward(x):
    return np.maximum(0, x), x.copy()


def relu_backward(dy, cache):
    dx = dy.copy()
    dx[cache <= 0] = 0
    return dx


def softmax_cross_entropy(logits, targets):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    probs = exp / exp.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(n), targets]).mean()
    dlogits = probs.copy()
    dlogits[np.arange(n), targets] -= 1
    dlogits /= n
    return loss, dlogits


def mlp_loss_and_grads(X, targets, params):
    h1, cache1 = linear_forward(X, params["W1"], params["b1"])
    a1, cache_r = relu_forward(h1)
    scores, cache2 = linear_forward(a1, params["W2"], params["b2"])
    loss, dscores = softmax_cross_entropy(scores, targets)
    da1, dW2, db2 = linear_backward(dscores, cache2)
    dh1 = relu_backward(da1, cache_r)
    _, dW1, db1 = linear_backward(dh1, cache1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
