# loses: forward, dx, dW, db, shapes, purity
"""Mutant: answers that ignore the inputs (zeros of the right shapes, computed from nothing).

Trivially free of side effects, but purity is not credited to functions that compute nothing:
the same answer for two different inputs costs purity too.
"""

from __future__ import annotations

import numpy as np


def linear_forward(x, W, b):
    return np.zeros((2, 5)), None


def linear_backward(dy, cache):
    return np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(5)
