"""Backpropagation through a two-layer network, one piece at a time and then end to end.

The network classifies a batch of B examples with D features each into C classes through a
hidden layer of H units::

    Y1 = X @ W1 + b1        X: (B, D)   W1: (D, H)   b1: (H,)   Y1: (B, H)
    Hd = relu(Y1)                                                Hd: (B, H)
    Y2 = Hd @ W2 + b2       W2: (H, C)  b2: (C,)                  Y2: (B, C)  (the logits)
    L  = (1/B) sum_i -log softmax(Y2[i])[t[i]]                    L: a single number

with integer class labels ``t`` of shape (B,), each in 0..C-1. Every piece has a forward
function that returns its output and a ``cache``, and a backward function that receives the
upstream gradient and that cache. ``softmax_cross_entropy`` is the last piece: it returns
the loss and its gradient together, and that gradient already holds the loss's 1/B.
``mlp_loss_and_grads`` chains the pieces. README.md derives every formula; work each one out
in index form before writing code.

Rules the grader checks: every array output is float64 with exactly the stated shape (the
loss is a single number); no function modifies its arguments (the ``params`` dict and its
arrays included); a backward function uses only its upstream gradient and the ``cache`` it
is given, never global variables.
"""

from __future__ import annotations

import numpy as np

# -- the linear layer (your solution to the first assignment) ---------------------------------


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """Forward pass of a linear layer: ``y = x @ W + b``.

    Args:
        x: inputs, shape (B, D).
        W: weights, shape (D, F).
        b: bias, shape (F,).

    Returns:
        y: outputs, shape (B, F), float64.
        cache: whatever ``linear_backward`` needs (its own copies of the arrays).
    """
    ### BEGIN SOLUTION
    y = x @ W + b
    cache = (x.copy(), W.copy())
    ### END SOLUTION
    return y, cache


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of a linear layer.

    Args:
        dy: upstream gradient dL/dy, shape (B, F).
        cache: the cache from the matching ``linear_forward`` call.

    Returns:
        dx: dL/dx, shape (B, D); dW: dL/dW, shape (D, F); db: dL/db, shape (F,).
    """
    ### BEGIN SOLUTION
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy
    db = dy.sum(axis=0)
    ### END SOLUTION
    return dx, dW, db


# -- relu --------------------------------------------------------------------------------------


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, object]:
    """Elementwise ``y = max(x, 0)``.

    Args:
        x: any array, shape (B, H) in this network.

    Returns:
        y: shape of x, float64.
        cache: whatever ``relu_backward`` needs.
    """
    ### BEGIN SOLUTION
    y = np.maximum(x, 0.0)
    # The backward pass needs only *where* x was positive, not x itself.
    cache = {"positive": x > 0}
    ### END SOLUTION
    return y, cache


def relu_backward(dy: np.ndarray, cache: object) -> np.ndarray:
    """Backward pass of relu.

    Args:
        dy: upstream gradient dL/dy, shape of x.
        cache: the cache from the matching ``relu_forward`` call.

    Returns:
        dx: dL/dx, shape of x, float64. At x == 0 relu has no derivative; use the
            subgradient 0 there (README.md explains why any value in [0, 1] is defensible).
    """
    ### BEGIN SOLUTION
    # dx[i, j] = dy[i, j] where x[i, j] > 0, else 0: the local derivative is a 0/1 mask.
    dx = np.where(cache["positive"], dy, 0.0)
    ### END SOLUTION
    return dx


# -- the loss ----------------------------------------------------------------------------------


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Batch-mean softmax cross-entropy and its gradient with respect to the logits.

    Args:
        logits: shape (B, C), one row of class scores per example.
        targets: integer class labels, shape (B,), each in 0..C-1.

    Returns:
        loss: ``(1/B) sum_i -log softmax(logits[i])[targets[i]]``, a single float64 number.
        dlogits: dL/dlogits, shape (B, C), float64. It includes the 1/B of the batch mean,
            so nothing downstream divides by B again.

    Large logits (in the hundreds) must not overflow: see "A numerically stable softmax"
    in README.md.
    """
    ### BEGIN SOLUTION
    B = logits.shape[0]
    rows = np.arange(B)
    # softmax(z) == softmax(z - max(z)): the shift changes nothing but keeps exp(.) <= 1.
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, targets].mean()
    # dL/dlogits[i, c] = (softmax(logits[i])[c] - [c == t[i]]) / B
    dlogits = np.exp(log_probs)
    dlogits[rows, targets] -= 1.0
    dlogits /= B
    ### END SOLUTION
    return loss, dlogits


# -- the network -------------------------------------------------------------------------------


def mlp_loss_and_grads(
    X: np.ndarray, targets: np.ndarray, params: dict[str, np.ndarray]
) -> tuple[float, dict[str, np.ndarray]]:
    """Loss of the two-layer network and its gradient with respect to every parameter.

    Args:
        X: inputs, shape (B, D).
        targets: integer class labels, shape (B,), each in 0..C-1.
        params: ``{"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}``; leave it unchanged.

    Returns:
        loss: the batch-mean cross-entropy, a single float64 number.
        grads: a new dict with the same four keys; ``grads[k]`` is dL/d``params[k]``, with
            the shape of ``params[k]``, float64.
    """
    ### BEGIN SOLUTION
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Y1, cache1 = linear_forward(X, W1, b1)  # (B, H)
    Hd, relu_cache = relu_forward(Y1)  # (B, H)
    Y2, cache2 = linear_forward(Hd, W2, b2)  # (B, C)
    loss, dY2 = softmax_cross_entropy(Y2, targets)  # dY2 already holds the 1/B
    # Backward through the pieces in reverse order; no 1/B anywhere from here on.
    dHd, dW2, db2 = linear_backward(dY2, cache2)
    dY1 = relu_backward(dHd, relu_cache)
    _, dW1, db1 = linear_backward(dY1, cache1)
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    ### END SOLUTION
    return loss, grads
