"""Backpropagation through a linear (fully connected) layer."""

from __future__ import annotations

import numpy as np


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """Forward pass of a linear layer: ``y = x @ W + b``."""
    y = x @ W + b
    cache = (x.copy(), W.copy())
    return y, cache


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of a linear layer."""
    # YOUR CODE HERE
    raise NotImplementedError("linear_backward: not implemented yet")
    return dx, dW, db
