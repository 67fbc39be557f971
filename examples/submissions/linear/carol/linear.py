"""Everything in index notation with einsum, straight from the derivation."""

import numpy as np


def linear_forward(x, W, b):
    # y[b, j] = sum_i x[b, i] W[i, j] + b[j]
    y = np.einsum("bi,ij->bj", x, W) + b
    return y, (np.array(x), np.array(W))


def linear_backward(dy, cache):
    x, W = cache
    dx = np.einsum("bj,ij->bi", dy, W)  # dx[b, i] = sum_j dy[b, j] W[i, j]
    dW = np.einsum("bi,bj->ij", x, dy)  # dW[i, j] = sum_b x[b, i] dy[b, j]
    db = np.einsum("bj->j", dy)  # db[j] = sum_b dy[b, j]
    return dx, dW, db
