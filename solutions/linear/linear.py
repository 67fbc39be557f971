"""Backpropagation through a linear (fully connected) layer.

The layer maps a batch of B examples with D features each to F outputs::

    y = x @ W + b        x: (B, D)   W: (D, F)   b: (F,)   y: (B, F)

``linear_forward`` computes ``y`` and a ``cache`` holding whatever the backward pass needs.
``linear_backward`` receives ``dy = dL/dy`` (same shape as ``y``) and that cache, and returns
the gradients of the loss with respect to each input, each with the shape of its input.
README.md derives the formulas; work them out in index form before writing code.

Rules the grader checks: every output is a float64 numpy array of exactly the stated shape;
the functions never modify their arguments; ``linear_backward`` uses only ``dy`` and the
``cache`` it is given (no global variables), so several forward passes may happen before the
matching backward passes.
"""

from __future__ import annotations

import numpy as np


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """Forward pass of a linear layer: ``y = x @ W + b``.

    Args:
        x: inputs, shape (B, D) -- one row per example.
        W: weights, shape (D, F).
        b: bias, shape (F,) -- the same bias is added to every example.

    Returns:
        y: outputs, shape (B, F), float64.
        cache: anything you like; it is passed unchanged to ``linear_backward``. It must hold
            everything the backward pass needs, as its own copies (the caller may reuse its
            arrays after this call returns).
    """
    ### BEGIN SOLUTION
    y = x @ W + b
    # Copies, so the cache stays valid whatever the caller later does with x and W.
    cache = (x.copy(), W.copy())
    ### END SOLUTION
    return y, cache


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of a linear layer.

    Args:
        dy: upstream gradient dL/dy, shape (B, F). If the loss averages over the batch, its
            1/B is already inside dy.
        cache: the cache returned by the ``linear_forward`` call that produced y.

    Returns:
        dx: dL/dx, shape (B, D), float64.
        dW: dL/dW, shape (D, F), float64.
        db: dL/db, shape (F,) -- not (1, F) -- float64.
    """
    ### BEGIN SOLUTION
    x, W = cache
    # dx[b, i] = sum_k dy[b, k] * W[i, k]
    dx = dy @ W.T
    # dW[i, k] = sum_b x[b, i] * dy[b, k]: the batch index b is summed away.
    dW = x.T @ dy
    # b[k] is added to every row of y, so each example's dy[b, k] flows back into it.
    db = dy.sum(axis=0)
    ### END SOLUTION
    return dx, dW, db
