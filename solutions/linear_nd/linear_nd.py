"""A linear layer over any number of leading dimensions, as in sequence models.

The same weights are applied to the last axis of an input with any number of leading axes::

    y = x @ W + b        x: (..., D)   W: (D, F)   b: (F,)   y: (..., F)

For a batch of sequences x has shape (B, T, D): every one of the B*T positions is one row
that goes through the layer. ``linear_nd_forward`` computes ``y`` and a ``cache``;
``linear_nd_backward`` receives ``dy = dL/dy`` (same shape as ``y``) and that cache and returns
the gradient with respect to each input, each with the shape of its input. README.md derives
the formulas: dx keeps every leading axis, while dW and db sum over *all* of them.

Rules the grader checks: every output is a float64 numpy array of exactly the stated shape;
a leading axis may have length 0 (an empty batch), and then dW and db are zeros of their usual
shapes, not errors; the functions never modify their arguments; ``linear_nd_backward`` uses
only ``dy`` and the ``cache`` it is given.
"""

from __future__ import annotations

import numpy as np


def linear_nd_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """Forward pass: ``y = x @ W + b`` applied along the last axis of ``x``.

    Args:
        x: inputs, shape (..., D): one or more leading axes (any of them may be 0), then D.
        W: weights, shape (D, F).
        b: bias, shape (F,) -- added at every leading position.

    Returns:
        y: outputs, shape (..., F) with the same leading axes as x, float64.
        cache: anything you like; it is passed unchanged to ``linear_nd_backward``. It must
            hold everything the backward pass needs, as its own copies.
    """
    ### BEGIN SOLUTION
    # matmul treats every leading axis of x as a batch axis: y[..., j] = sum_i x[..., i] W[i, j]
    y = x @ W + b
    cache = (x.copy(), W.copy())
    ### END SOLUTION
    return y, cache


def linear_nd_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of the layer.

    Args:
        dy: upstream gradient dL/dy, shape (..., F), the leading axes of x.
        cache: the cache returned by the ``linear_nd_forward`` call that produced y.

    Returns:
        dx: dL/dx, shape (..., D) -- exactly the shape of x, float64.
        dW: dL/dW, shape (D, F), float64: summed over every leading position.
        db: dL/db, shape (F,), float64: summed over every leading position.
    """
    ### BEGIN SOLUTION
    x, W = cache
    D, F = W.shape
    # Each leading position is an independent row: dx[..., i] = sum_j dy[..., j] W[i, j].
    dx = dy @ W.T
    # W and b are shared by all N = prod(leading shape) positions, so their gradients sum over
    # all of them. Viewing x and dy as N rows makes that the 2-D formula; reshape(-1, D)
    # (not reshape(N, -1)) also works when N == 0.
    rows_x = x.reshape(-1, D)
    rows_dy = dy.reshape(-1, F)
    dW = rows_x.T @ rows_dy
    db = rows_dy.sum(axis=0)
    ### END SOLUTION
    return dx, dW, db
