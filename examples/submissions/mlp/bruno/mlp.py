"""Everything in index notation with einsum; caches are dicts or small objects."""

import numpy as np


class Saved:
    """What a backward pass needs, kept as attributes."""

    def __init__(self, **arrays):
        self.__dict__.update({k: np.array(v) for k, v in arrays.items()})


def linear_forward(x, W, b):
    y = np.einsum("bi,ij->bj", x, W) + b  # y[b, j] = sum_i x[b, i] W[i, j] + b[j]
    return y, Saved(x=x, W=W)


def linear_backward(dy, cache):
    dx = np.einsum("bj,ij->bi", dy, cache.W)
    dW = np.einsum("bi,bj->ij", cache.x, dy)
    db = np.einsum("bj->j", dy)
    return dx, dW, db


def relu_forward(x):
    return np.maximum(x, 0), {"active": (x > 0).astype(float)}


def relu_backward(dy, cache):
    return np.einsum("bh,bh->bh", dy, cache["active"])


def softmax_cross_entropy(logits, targets):
    B, C = logits.shape
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))  # log sum_c exp(z_c), stably
    loss = np.mean(lse - logits[np.arange(B), targets])
    probs = np.exp(logits - lse[:, None])
    onehot = np.eye(C)[targets]
    return loss, np.einsum("bc->bc", probs - onehot) / B


def mlp_loss_and_grads(X, targets, params):
    y1, lin1 = linear_forward(X, params["W1"], params["b1"])
    h, act = relu_forward(y1)
    y2, lin2 = linear_forward(h, params["W2"], params["b2"])
    loss, g2 = softmax_cross_entropy(y2, targets)
    gh, gW2, gb2 = linear_backward(g2, lin2)
    g1 = relu_backward(gh, act)
    _, gW1, gb1 = linear_backward(g1, lin1)
    return loss, dict(W1=gW1, b1=gb1, W2=gW2, b2=gb2)
