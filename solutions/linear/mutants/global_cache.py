# loses: purity
"""Mutant: the forward pass keeps x and W in a global variable and backward reads it, ignoring its
cache: wrong as soon as two forward calls come before their backward calls.
"""

from __future__ import annotations

import numpy as np

_LAST = None


def linear_forward(x, W, b):
    global _LAST
    _LAST = (x.copy(), W.copy())
    y = x @ W + b
    return y, None


def linear_backward(dy, cache):
    x, W = _LAST
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
