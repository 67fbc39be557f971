"""No reshapes: einsum with an ellipsis for the positions, tensordot for the sums."""

import numpy as np


def linear_nd_forward(x, W, b):
    y = np.einsum("...i,ij->...j", x, W) + b
    return y, {"x": np.array(x), "W": np.array(W)}


def linear_nd_backward(dy, cache):
    x, W = cache["x"], cache["W"]
    lead = tuple(range(dy.ndim - 1))
    dx = np.einsum("...j,ij->...i", dy, W)
    dW = np.tensordot(x, dy, axes=(lead, lead))  # sum over every leading axis
    db = dy.sum(axis=lead)
    return dx, dW, db
