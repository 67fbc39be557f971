"""Public tests for the two-layer network: run ``pytest`` (or ``autograder check``) here.

They mirror the rubric items the grader uses, on small examples worked by hand below and on
numerical gradient checks: relu's through *your own* forward pass, dlogits' and the network's
through the loss as README.md defines it (so a wrong loss value costs the checks of the loss,
not those of every gradient behind it). The grader's hidden tests are stricter: more shapes
(C = 2, a large network, and the network's loss and gradients for B = 1, which here gets a
softmax example and shape checks only), hidden random inputs, and numerical gradients through
the instructor's forward pass -- so passing these is necessary, not sufficient. Work from the
top: the network is built from the pieces, so a wrong piece makes the network's checks fail
too, and a numerical check of your gradient through your own forward pass means something only
once that forward pass is right.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.checks import (
    describe_type,
    expect_array,
    expect_consistent,
    expect_layout,
    expect_tuple,
    expect_unchanged,
)
from autograder.errors import WrongAnswer
from autograder.gradcheck import numerical_vjp

PARAMS = ("W1", "b1", "W2", "b2")
LOG2, LOG3 = np.log(2.0), np.log(3.0)

# -- worked examples (every number below can be checked by hand) ------------------------------
# Within each example the sizes differ from each other (the linear layer's D and the network's
# H are 2, but no other size of theirs is), so a transposed or swapped result never has the
# right shape by luck; and B is 3 throughout, so a missing or extra factor of B is never
# mistaken for a factor of 2.

# The linear layer: B = 3 examples, D = 2 features, F = 4 outputs.
LIN_X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]])
LIN_W = np.array([[1.0, 0.0, -1.0, 2.0], [0.0, 1.0, 1.0, 0.0]])
LIN_B = np.array([0.5, -1.0, 0.0, 2.0])
LIN_DY = np.array([[1.0, 0.0, -1.0, 2.0], [0.0, 1.0, 1.0, -1.0], [2.0, 0.0, 0.0, 1.0]])
# y[2, 3] = 3*2 + 1*0 + 2 = 8
LIN_Y = np.array([[1.5, 1.0, 1.0, 4.0], [0.5, -2.0, -1.0, 2.0], [3.5, 0.0, -2.0, 8.0]])
# dx[0, 0] = 1*1 + 0*0 + (-1)*(-1) + 2*2 = 6
LIN_DX = np.array([[6.0, -1.0], [-3.0, 2.0], [4.0, 0.0]])
# dW[1, 3] = 2*2 + (-1)*(-1) + 1*1 = 6
LIN_DW = np.array([[7.0, 0.0, -1.0, 5.0], [4.0, -1.0, -3.0, 6.0]])
LIN_DB = np.array([3.0, 1.0, 0.0, 2.0])

# relu on a (2, 3) array without zeros; dx keeps dy where x > 0 and is 0 elsewhere.
RELU_X = np.array([[1.5, -2.0, 0.25], [-0.5, 3.0, 2.0]])
RELU_Y = np.array([[1.5, 0.0, 0.25], [0.0, 3.0, 2.0]])
RELU_DY = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
RELU_DX = np.array([[1.0, 0.0, 3.0], [0.0, 5.0, 6.0]])
RELU_MISTAKES = {
    "dx is dy multiplied by relu's output y instead of by the 0/1 mask [x > 0]: the "
    "derivative of max(x, 0) is 1 where x > 0 (whatever the size of x) and 0 elsewhere.": (
        RELU_DY * RELU_Y
    ),
    "dx is dy unchanged: relu's backward pass must stop the gradient wherever x was "
    "negative (the 0/1 mask [x > 0]).": RELU_DY,
    "dx is dy masked where x < 0 instead of where x > 0: the gradient flows through the "
    "units that were active (positive).": RELU_DY - RELU_DX,
}

# Softmax cross-entropy, B = 3, C = 4.
# Row 0: equal logits, every class has probability 1/4; target 1 costs log 4.
# Row 1: exp(logits) = (3, 1, 1, 1), probabilities (1/2, 1/6, 1/6, 1/6); target 0 costs log 2.
# Row 2: exp(logits) = (1, 1, 2, 1), probabilities (1/5, 1/5, 2/5, 1/5); target 3 costs log 5.
# The loss is the mean: (log 4 + log 2 + log 5) / 3 = log(40) / 3.
SM_LOGITS = np.array([[0.0, 0.0, 0.0, 0.0], [LOG3, 0.0, 0.0, 0.0], [0.0, 0.0, LOG2, 0.0]])
SM_TARGETS = np.array([1, 0, 3])
SM_LOSS = np.log(40.0) / 3
SM_PROBS = np.array(
    [[1 / 4, 1 / 4, 1 / 4, 1 / 4], [1 / 2, 1 / 6, 1 / 6, 1 / 6], [0.2, 0.2, 0.4, 0.2]]
)
# dlogits = (probabilities - one_hot(target)) / B, with B = 3.
SM_DLOGITS = (SM_PROBS - np.eye(4)[SM_TARGETS]) / 3
# Classic mistakes and what they give here. The softmax of each column (over the batch,
# axis 0) instead of each row: the columns of exp(logits) sum to (5, 3, 4, 3), so the targets
# 1, 0, 3 get 1/3, 3/5 and 1/3 and the loss is (log 3 + log(5/3) + log 3) / 3 = log(15) / 3.
SM_COLUMN_PROBS = np.array(
    [[1 / 5, 1 / 3, 1 / 4, 1 / 3], [3 / 5, 1 / 3, 1 / 4, 1 / 3], [1 / 5, 1 / 3, 1 / 2, 1 / 3]]
)
# dlogits[:, targets] -= 1 subtracts 1 in every row at every target's column: 1, 0 and 3.
SM_EVERY_TARGET_COLUMN = np.array([1.0, 1.0, 0.0, 1.0])
# Dividing by C = 4 instead of B = 3 gives 3/4 of the right loss and dlogits; the last
# example alone (target 3, probability 1/5) costs log 5.
DLOGITS_HINTS = {
    "no_one_hot": "{name} is softmax / B: the one-hot of the target is never subtracted. "
    "Differentiate -log softmax(z)[t] with respect to z[c]: the log of the numerator exp(z[t]) "
    "contributes -[c == t].",
    "columns": "{name} is the softmax of each column (over the batch) instead of each row: the "
    "softmax of example i normalises over its C classes, axis 1.",
    "every_column": "{name} is what you get when 1 is subtracted in every row at the column of "
    "every target (dlogits[:, t] -= 1 selects whole columns) instead of once per example: the "
    "one-hot of example i is a single 1 at (i, t[i]), so pair each row with its own target "
    "(dlogits[np.arange(B), t] -= 1).",
    "by_classes": "{name} is B/C times the right answer: it is what you get when dL/dlogits "
    "is divided by C, the number of classes (logits.shape[1]), instead of B, the number of "
    "examples (logits.shape[0]). The loss is a mean over the B examples.",
}
LOSS_HINTS = {
    "last": "{name} is the cross-entropy of the last example alone: a loop that assigns "
    "loss = ... for each example keeps only the last one. Add up every example's "
    "-log softmax(z[i])[t[i]] (loss += ...) and divide the sum by B once.",
    "last_over_B": "{name} is the cross-entropy of the last example alone, divided by B: a loop "
    "that assigns loss = ... (not loss += ...) for each example keeps only the last one. Add "
    "up every example's -log softmax(z[i])[t[i]] and divide the sum by B once.",
    "columns": "{name} is what a softmax of each column (over the batch, axis 0) gives instead "
    "of each row: the probabilities of example i are normalised over its C classes, axis 1.",
    "by_classes": "{name} is B/C times the right answer: the sum over the examples is "
    "divided by C, the number of classes, instead of B, the number of examples.",
}
SM_MISTAKES = {
    DLOGITS_HINTS["no_one_hot"].format(name="dlogits"): SM_PROBS / 3,
    DLOGITS_HINTS["columns"].format(name="dlogits"): (SM_COLUMN_PROBS - np.eye(4)[SM_TARGETS]) / 3,
    DLOGITS_HINTS["every_column"].format(name="dlogits"): (SM_PROBS - SM_EVERY_TARGET_COLUMN) / 3,
    DLOGITS_HINTS["by_classes"].format(name="dlogits"): SM_DLOGITS * 3 / 4,
}
SM_LOSS_MISTAKES = {
    LOSS_HINTS["last"].format(name="the loss"): np.log(5.0),
    LOSS_HINTS["last_over_B"].format(name="the loss"): np.log(5.0) / 3,
    LOSS_HINTS["columns"].format(name="the loss"): np.log(15.0) / 3,
    LOSS_HINTS["by_classes"].format(name="the loss"): SM_LOSS * 3 / 4,
}

# A network with B = 3, D = 5, H = 2, C = 4.
NET_X = np.array(
    [[2.0, 0.0, 0.0, 1.0, 0.0], [-1.0, 1.0, 0.0, 1.0, -1.0], [0.0, 1.0, 1.0, 1.0, 0.0]]
)
NET_TARGETS = np.array([0, 3, 2])
NET_PARAMS = {
    "W1": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0], [0.0, -1.0]]),
    "b1": np.array([1.0, -1.0]),
    "W2": np.array([[LOG3, 0.0, 0.0, 0.0], [0.0, 0.0, LOG2, 0.0]]),
    "b2": np.array([0.0, LOG2, 0.0, 0.0]),
}
# Y1 = X W1 + b1 = [[2, -1], [-1, 1], [1, 1]], so relu(Y1) = [[2, 0], [0, 1], [1, 1]] and the
# mask [Y1 > 0] = [[1, 0], [0, 1], [1, 1]]. They differ where Y1 = 2, so a relu_backward that
# multiplies by relu's output instead of the mask shows here.
# logits = relu(Y1) W2 + b2; exp(logits) = (9, 2, 1, 1), (1, 2, 2, 1), (3, 2, 2, 1).
# Targets 0, 3, 2 have probabilities 9/13, 1/6, 2/8: L = (log(13/9) + log 6 + log 4) / 3.
NET_LOSS = np.log(104.0 / 3.0) / 3
# dY2 = (probabilities - one_hot) / 3:
#   3 dY2 = [[-4/13, 2/13, 1/13, 1/13], [1/6, 1/3, 1/3, -5/6], [3/8, 1/4, -3/4, 1/8]].
# dW2 = relu(Y1)^T dY2: row 0 is 2 dY2[0] + dY2[2], row 1 is dY2[1] + dY2[2].
# dHd = dY2 W2^T: column 0 is log 3 * dY2[:, 0], column 1 is log 2 * dY2[:, 2]; the mask keeps
# rows 0, 2 of column 0 and rows 1, 2 of column 1:
#   3 dY1 = [[-4/13 log 3, 0], [0, 1/3 log 2], [3/8 log 3, -3/4 log 2]].
# dW1 = X^T dY1 (row 0 is 2 dY1[0] - dY1[1]), db1 = the column sums of dY1.
NET_GRADS = {
    "W2": np.array([[-25 / 104, 29 / 52, -31 / 52, 29 / 104], [13 / 24, 7 / 12, -5 / 12, -17 / 24]])
    / 3,
    "b2": np.array([73 / 312, 115 / 156, -53 / 156, -197 / 312]) / 3,
    "W1": np.array(
        [
            [-8 / 13 * LOG3, -1 / 3 * LOG2],
            [3 / 8 * LOG3, -5 / 12 * LOG2],
            [3 / 8 * LOG3, -3 / 4 * LOG2],
            [7 / 104 * LOG3, -5 / 12 * LOG2],
            [0.0, -1 / 3 * LOG2],
        ]
    )
    / 3,
    "b1": np.array([7 / 104 * LOG3, -5 / 12 * LOG2]) / 3,
}
# Multiplying dHd by relu's output instead of the mask doubles dY1[0, 0] (there Y1 = 2) and
# changes nothing else: 3 dY1[0, 0] gains another -4/13 log 3, so db1[0] and dW1[3, 0] gain it
# once and dW1[0, 0] twice (X[0] = (2, 0, 0, 1, 0)).
NET_RELU_OUTPUT_GRADS = {
    "W1": NET_GRADS["W1"]
    + np.array([[-8 / 13 * LOG3, 0.0], [0.0, 0.0], [0.0, 0.0], [-4 / 13 * LOG3, 0.0], [0.0, 0.0]])
    / 3,
    "b1": NET_GRADS["b1"] + np.array([-4 / 13 * LOG3, 0.0]) / 3,
}
# Skipping relu in the backward pass (dY1 = dHd, unmasked) keeps the two entries the mask
# zeroes, where Y1 = -1: 3 dHd[0, 1] = 1/13 log 2 and 3 dHd[1, 0] = 1/6 log 3. So db1 gains
# (1/6 log 3, 1/13 log 2) / 3, column 0 of dW1 gains X[1] = (-1, 1, 0, 1, -1) times
# 1/6 log 3 / 3 and column 1 gains X[0] = (2, 0, 0, 1, 0) times 1/13 log 2 / 3.
NET_UNMASKED_GRADS = {
    "W1": NET_GRADS["W1"]
    + np.array(
        [
            [-1 / 6 * LOG3, 2 / 13 * LOG2],
            [1 / 6 * LOG3, 0.0],
            [0.0, 0.0],
            [1 / 6 * LOG3, 1 / 13 * LOG2],
            [-1 / 6 * LOG3, 0.0],
        ]
    )
    / 3,
    "b1": NET_GRADS["b1"] + np.array([1 / 6 * LOG3, 1 / 13 * LOG2]) / 3,
}
# Pairing dY2 with the pre-activation Y1 instead of relu(Y1): Y1 - relu(Y1) is -1 at [0, 1]
# and [1, 0], so row 0 of dW2 loses dY2[1] and row 1 loses dY2[0].
NET_PREACTIVATION_GRADS = {
    "W2": NET_GRADS["W2"]
    - np.array([[1 / 6, 1 / 3, 1 / 3, -5 / 6], [-4 / 13, 2 / 13, 1 / 13, 1 / 13]]) / 3
}
NET_MISTAKES = {
    key: {
        f"grads['{key}'] is what you get when relu_backward multiplies by relu's output "
        "instead of the 0/1 mask [Y1 > 0].": NET_RELU_OUTPUT_GRADS[key],
        f"grads['{key}'] ignores relu: the gradient reaching the first layer must be masked "
        "by [Y1 > 0] (relu_backward) before it goes through linear_backward.": (
            NET_UNMASKED_GRADS[key]
        ),
    }
    for key in ("W1", "b1")
}
NET_MISTAKES["W2"] = {
    "grads['W2'] was computed from the pre-activation Y1 instead of the layer's actual input "
    "relu(Y1): the second layer multiplies relu(Y1), so that is what its weight gradient "
    "pairs with dY2.": NET_PREACTIVATION_GRADS["W2"]
}
# The softmax mistakes above, made in the network. Subtracting 1 in every row at every
# target's column (0, 3 and 2) changes 3 dY2 by [[0, 0, -1, -1], [-1, 0, -1, 0], [-1, 0, 0, -1]]
# (each row already had its own target's 1); through the backward pass above, 3 dY1 changes by
# [[0, 0], [0, -log 2], [-log 3, 0]], so dW1 gains -log 3 X[2] in column 0 and -log 2 X[1] in
# column 1.
NET_EVERY_COLUMN_GRADS = {
    "W2": NET_GRADS["W2"] + np.array([[-1.0, 0.0, -2.0, -3.0], [-2.0, 0.0, -1.0, -1.0]]) / 3,
    "b2": NET_GRADS["b2"] + np.array([-2.0, 0.0, -2.0, -2.0]) / 3,
    "W1": NET_GRADS["W1"] + np.column_stack([-LOG3 * NET_X[2], -LOG2 * NET_X[1]]) / 3,
    "b1": NET_GRADS["b1"] + np.array([-LOG3, -LOG2]) / 3,
}
# The softmax of each column of the logits: the columns of exp(logits) sum to (13, 6, 5, 3), so
#   3 dY2 = [[-4/13, 1/3, 1/5, 1/3], [1/13, 1/3, 2/5, -2/3], [3/13, 1/3, -3/5, 1/3]],
#   3 dY1 = [[-4/13 log 3, 0], [0, 2/5 log 2], [3/13 log 3, -3/5 log 2]],
# and the targets 0, 3, 2 get 9/13, 1/3 and 2/5: L = (log(13/9) + log 3 + log(5/2)) / 3.
NET_COLUMN_GRADS = {
    "W2": np.array([[-5 / 13, 1.0, -1 / 5, 1.0], [4 / 13, 2 / 3, -1 / 5, -1 / 3]]) / 3,
    "b2": np.array([0.0, 1.0, 0.0, 0.0]) / 3,
    "W1": np.column_stack(
        [
            LOG3 * np.array([-8 / 13, 3 / 13, 3 / 13, -1 / 13, 0.0]),
            LOG2 * np.array([-2 / 5, -1 / 5, -3 / 5, -1 / 5, -2 / 5]),
        ]
    )
    / 3,
    "b1": np.array([-1 / 13 * LOG3, -1 / 5 * LOG2]) / 3,
}
NETWORK_DLOGITS_HINTS = {
    "columns": "{name} is what you get when the softmax is taken of each column of Y2 (over the "
    "batch, axis 0) instead of each row (see the item softmax_ce).",
    "every_column": "{name} is what you get when dL/dY2 has 1 subtracted in every row at the "
    "column of every target (dY2[:, t] -= 1) instead of once per example, at (i, t[i]) (see "
    "the item softmax_ce).",
    "by_classes": "{name} is B/C times the right answer: what you get when dL/dY2 is divided "
    "by C, the number of classes, instead of B, the number of examples (see the item "
    "softmax_ce).",
}
for key in PARAMS:
    NET_MISTAKES.setdefault(key, {}).update(
        {
            NETWORK_DLOGITS_HINTS["every_column"].format(name=f"grads['{key}']"): (
                NET_EVERY_COLUMN_GRADS[key]
            ),
            NETWORK_DLOGITS_HINTS["columns"].format(name=f"grads['{key}']"): NET_COLUMN_GRADS[key],
            # Dividing by C = 4 instead of B = 3: every gradient is 3/4 of the right one.
            NETWORK_DLOGITS_HINTS["by_classes"].format(name=f"grads['{key}']"): (
                NET_GRADS[key] * 3 / 4
            ),
        }
    )
# The last example alone (target 2, probability 2/8) costs log 4.
NET_LOSS_MISTAKES = {
    LOSS_HINTS[kind].format(name="the network's loss"): wrong
    for kind, wrong in {
        "last": np.log(4.0),
        "last_over_B": np.log(4.0) / 3,
        "columns": np.log(65.0 / 6.0) / 3,
        "by_classes": NET_LOSS * 3 / 4,
    }.items()
}


# -- calling your code ---------------------------------------------------------------------------


def forward_of(submission: Any, function: str, *args: Any) -> tuple[Any, Any]:
    """``(y, cache)`` from your forward pass. The cache stays with your code (keep=(1,)), and
    every backward it is passed to gets that very object, as in plain Python."""
    result = submission.call(function, *args, keep=(1,))
    return expect_tuple(result, ("y", "cache"), function=function)


def linear(submission: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, dy: np.ndarray) -> dict:
    y, cache = forward_of(submission, "linear_forward", x, W, b)
    grads = expect_tuple(
        submission.linear_backward(dy, cache), ("dx", "dW", "db"), function="linear_backward"
    )
    return dict(zip(("y", "dx", "dW", "db"), (y, *grads), strict=True))


def relu(submission: Any, x: np.ndarray, dy: np.ndarray) -> tuple[Any, Any]:
    y, cache = forward_of(submission, "relu_forward", x)
    return y, submission.relu_backward(dy, cache)


def softmax_ce(submission: Any, logits: np.ndarray, targets: np.ndarray) -> tuple[Any, Any]:
    result = submission.softmax_cross_entropy(logits, targets)
    return expect_tuple(result, ("loss", "dlogits"), function="softmax_cross_entropy")


GRADS_FORM = "grads should be a dict with the keys W1, b1, W2, b2"


def grad_key(key: object) -> str | None:
    """The parameter a key of your grads names: W1, dW1, dw1 and grad_W1 all name W1."""
    if not isinstance(key, str):
        return None
    name = key.strip().lower()
    for prefix in ("grad_", "grad", "d_", "d"):
        if name.startswith(prefix) and name[len(prefix) :] in ("w1", "b1", "w2", "b2"):
            name = name[len(prefix) :]
            break
    return {param.lower(): param for param in PARAMS}.get(name)


def grads_by_name(grads: Any) -> dict:
    """Your gradients by parameter name. As in grading, a list of four in the order W1, b1,
    W2, b2, or a dict whose keys name the parameters another way (dW1), is checked for its
    numbers here and costs only the item shapes (test_network_shapes_and_dtypes)."""
    if isinstance(grads, dict):
        if all(key in grads for key in PARAMS):
            return grads
        named = {grad_key(key): value for key, value in grads.items()}
        if len(grads) == len(PARAMS) and set(named) == set(PARAMS):
            return named
        missing = [key for key in PARAMS if key not in grads]
        got = ", ".join(map(repr, list(grads)[:8])) or "none"
        raise WrongAnswer(f"{GRADS_FORM}; {', '.join(missing)} missing (keys given: {got}).")
    if isinstance(grads, list | tuple) and len(grads) == len(PARAMS):
        return dict(zip(PARAMS, grads, strict=True))
    raise WrongAnswer(f"{GRADS_FORM}, not {describe_type(grads)}.")


def expect_grads_form(grads: Any, where: str) -> None:
    """For shapes: grads is a dict with exactly the keys W1, b1, W2, b2."""
    if isinstance(grads, dict) and all(key in grads for key in PARAMS):
        return
    grads_by_name(grads)
    if isinstance(grads, dict):
        got, read = (
            "the keys " + ", ".join(map(str, grads)),
            "each was read as the parameter it names",
        )
    else:
        got, read = describe_type(grads), "it was read in the order W1, b1, W2, b2"
    raise WrongAnswer(
        f"{GRADS_FORM}, not {got} (for {where}).\nHint: {read}; return "
        '{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, so code that looks a gradient up by '
        "its parameter's name finds it."
    )


def raw_network(submission: Any, X: np.ndarray, targets: np.ndarray, params: dict) -> tuple:
    result = submission.mlp_loss_and_grads(X, targets, params)
    loss, grads = expect_tuple(result, ("loss", "grads"), function="mlp_loss_and_grads")
    return loss, grads


def network(submission: Any, X: np.ndarray, targets: np.ndarray, params: dict) -> tuple[Any, dict]:
    loss, grads = raw_network(submission, X, targets, params)
    return loss, grads_by_name(grads)


def number(value: Any, function: str) -> np.ndarray:
    """A loss as a 0-d float64 array, or a clear failure."""
    array = np.asarray(value) if isinstance(value, float | int | np.generic | np.ndarray) else None
    if (
        isinstance(value, bool)
        or array is None
        or array.size != 1
        or not np.issubdtype(array.dtype, np.number)
    ):
        raise WrongAnswer(
            f"{function} should return the loss as a single number, but it returned "
            f"{describe_type(value)}."
        )
    return array.reshape(()).astype(np.float64)


def array_of(value: Any, shape: tuple[int, ...], *, name: str, function: str) -> np.ndarray:
    """``value`` as a float64 array of ``shape`` (axes of length 1 forgiven), or a failure
    that says what your function returned."""
    if (
        not isinstance(value, np.ndarray)
        or not (np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer))
        or value.size != int(np.prod(shape))
    ):
        raise WrongAnswer(
            f"{name} should be a numpy array of shape {shape}, but {function} returned "
            f"{describe_type(value)}."
        )
    return value.reshape(shape).astype(np.float64)


def expect_loss(
    value: Any,
    right: float,
    *,
    function: str,
    where: str,
    batch_size: int,
    candidates: dict[str, float] | None = None,
) -> None:
    loss = number(value, function)
    if loss == 0.0:
        raise WrongAnswer(
            f"{function} returned a loss of exactly 0 (for {where}).\nHint: a cross-entropy is 0 "
            "only when every target has probability 1. Is the loss still a placeholder, or "
            "computed but not returned?"
        )
    context = {"where": where, "batch_size": batch_size, "candidates": candidates or {}}
    expect_array(loss, np.asarray(right), name="the loss", strict=False, context=context)


def expect_not_over_the_batch(loss: Any, dlogits: Any, onehot: np.ndarray, where: str) -> None:
    """With one example, a softmax over the batch axis (axis 0) gives every probability 1: a
    loss of exactly 0 and dlogits = 1 - one_hot. Say so, rather than that the loss looks like a
    placeholder."""
    if (
        number(loss, "softmax_cross_entropy") == 0.0
        and isinstance(dlogits, np.ndarray)
        and np.issubdtype(dlogits.dtype, np.number)
        and dlogits.size == onehot.size
        and np.allclose(dlogits.reshape(onehot.shape), 1.0 - onehot)
    ):
        raise WrongAnswer(
            f"softmax_cross_entropy returned a loss of exactly 0 and dlogits = 1 - one_hot (for "
            f"{where}): what a softmax of each column (over the batch, axis 0) gives with one "
            "example, whose every probability is then 1.\nHint: the softmax of example i "
            "normalises over its C classes, axis 1."
        )


def random_network(seed: int, B: int, D: int, H: int, C: int) -> tuple[np.ndarray, ...]:
    """Random inputs whose hidden pre-activations all stay well away from relu's kink at 0
    (by more than a step of the numerical checks can move them)."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((D, H)) * np.sqrt(2.0 / D)
    b1 = rng.standard_normal(H) * 0.5
    X = rng.standard_normal((B, D))
    while (np.abs(X @ W1 + b1) < 0.1).any():
        X = rng.standard_normal((B, D))
    params = {
        "W1": W1,
        "b1": b1,
        "W2": rng.standard_normal((H, C)) * np.sqrt(2.0 / H),
        "b2": rng.standard_normal(C) * 0.5,
    }
    return X, rng.integers(0, C, size=B), params


# The numerical checks differentiate by central differences. Their step is larger than the 1e-6
# of float64 practice: relu's check differentiates *your* forward pass, and with an output
# rounded to float32 (which costs only `shapes`), 1e-6 would measure rounding noise. At this
# step, a right gradient stays at least ten times below the tolerance whether the output is
# float64 or float32, and no input moves far enough to cross relu's kink.
STEP = 1e-2


def handout_loss(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """README.md's loss, (1/B) sum_i (log sum_k exp(logits[i, k]) - logits[i, targets[i]]).

    The numerical checks of dlogits and of the network's gradients differentiate this, not your
    softmax_cross_entropy: a gradient is judged against the loss it is the gradient of, so a
    wrong loss value is charged once, by the checks of the loss. Without the max shift: these
    checks give it small logits only."""
    rows = np.arange(logits.shape[0])
    return np.mean(np.log(np.exp(logits).sum(axis=1)) - logits[rows, targets])


def handout_network_loss(X: np.ndarray, targets: np.ndarray, params: dict) -> np.ndarray:
    """The loss of README.md's network: ``handout_loss`` of relu(X W1 + b1) W2 + b2."""
    hidden = np.maximum(X @ params["W1"] + params["b1"], 0.0)
    return handout_loss(hidden @ params["W2"] + params["b2"], targets)


def expect_numerical(
    f: Any,
    inputs: dict[str, np.ndarray],
    upstream: np.ndarray,
    wrt: str,
    claimed: Any,
    *,
    name: str,
    context: dict[str, Any],
    by_classes: tuple[str, int] | None = None,
) -> None:
    """``claimed`` against central differences of ``f`` with respect to ``inputs[wrt]``;
    ``by_classes``: the hint for B/C times the right answer (dL/dlogits divided by C)."""
    numerical = numerical_vjp(f, inputs, upstream, wrt, eps=STEP)
    context = {**context, "where": f"{context['where']}, against central differences"}
    if by_classes is not None:
        ratio = context["batch_size"] / by_classes[1]
        context["candidates"] = {by_classes[0].format(name=name): numerical * ratio}
    expect_array(claimed, numerical, name=name, strict=False, context=context)


def numerical_check(
    f: Any,
    inputs: dict[str, np.ndarray],
    upstream: np.ndarray,
    wrt: str,
    claimed: Any,
    *,
    name: str,
    context: dict[str, Any],
    forward_right: Any,
    forward: str,
) -> None:
    """``claimed`` against central differences of ``f`` (your own code) with respect to
    ``inputs[wrt]``. If it fails, and ``forward_right()`` says your forward pass is wrong on its
    worked example, the failure says to fix that first (a diagnosis would mislead)."""
    try:
        expect_numerical(f, inputs, upstream, wrt, claimed, name=name, context=context)
    except WrongAnswer as wrong:
        if forward_right():
            raise
        raise WrongAnswer(
            f"{str(wrong).splitlines()[0]}\nNote: this check differentiates your own {forward}, "
            "which does not give its worked example's value yet: fix that first."
        ) from None


def relu_forward_right(submission: Any) -> bool:
    try:
        expect_array(
            forward_of(submission, "relu_forward", RELU_X)[0], RELU_Y, name="y", strict=False
        )
        return True
    except WrongAnswer:
        return False


# -- linear ------------------------------------------------------------------------------------


@pytest.mark.rubric("linear")
def test_linear_worked_example(submission: Any) -> None:
    mine = linear(submission, LIN_X, LIN_W, LIN_B, LIN_DY)
    right = {"y": LIN_Y, "dx": LIN_DX, "dW": LIN_DW, "db": LIN_DB}
    for name, expected in right.items():
        context = {"where": "B=3, D=2, F=4", "batch_size": 3, "batch_sum": name == "db"}
        expect_array(mine[name], expected, name=name, strict=False, context=context)


# -- relu --------------------------------------------------------------------------------------


@pytest.mark.rubric("relu")
def test_relu_worked_example(submission: Any) -> None:
    y, dx = relu(submission, RELU_X, RELU_DY)
    where = "relu's worked example, x of shape (2, 3)"
    expect_array(y, RELU_Y, name="y", strict=False, context={"where": where})
    context = {"where": where, "candidates": RELU_MISTAKES}
    expect_array(dx, RELU_DX, name="dx", strict=False, context=context)


@pytest.mark.rubric("relu")
def test_relu_at_the_kink(submission: Any) -> None:
    x = np.array([[0.0, 1.0, -1.0, 0.0]])
    dy = np.array([[2.0, 3.0, 4.0, -5.0]])
    _, dx = relu(submission, x, dy)
    where = "x = (0, 1, -1, 0), dy = (2, 3, 4, -5)"
    dx = array_of(dx, x.shape, name="dx", function="relu_backward")
    if not np.isfinite(dx).all():
        raise WrongAnswer(
            f"dx holds NaN or infinity where x == 0 (for {where}): use the mask [x > 0]."
        )
    expect_array(
        dx[:, 1:3],
        np.array([[3.0, 0.0]]),
        name="dx away from x == 0",
        strict=False,
        context={"where": where},
    )
    # At x == 0 any subgradient s * dy with 0 <= s <= 1 is accepted; [x > 0] gives 0.
    if not all(
        min(0.0, g) <= d <= max(0.0, g) for d, g in zip(dx[0, [0, 3]], dy[0, [0, 3]], strict=True)
    ):
        raise WrongAnswer(
            f"where x == 0, dx should lie between 0 and dy (for {where}); 0 is the usual choice."
        )


@pytest.mark.rubric("relu")
def test_relu_numerical_gradient(submission: Any) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    x += 0.1 * np.sign(x)  # away from the kink
    dy = rng.standard_normal(x.shape)
    _, dx = relu(submission, x, dy)

    def forward(x: np.ndarray) -> np.ndarray:
        y = forward_of(submission, "relu_forward", x)[0]
        return array_of(y, x.shape, name="y", function="relu_forward")

    numerical_check(
        forward,
        {"x": x},
        dy,
        "x",
        dx,
        name="dx",
        context={"where": "x of shape (4, 5)"},
        forward_right=lambda: relu_forward_right(submission),
        forward="relu_forward",
    )


# -- softmax cross-entropy ---------------------------------------------------------------------


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_worked_example(submission: Any) -> None:
    loss, dlogits = softmax_ce(submission, SM_LOGITS, SM_TARGETS)
    where = "the worked example, B=3, C=4"
    expect_loss(
        loss,
        SM_LOSS,
        function="softmax_cross_entropy",
        where=where,
        batch_size=3,
        candidates=SM_LOSS_MISTAKES,
    )
    context = {"where": where, "batch_size": 3, "candidates": SM_MISTAKES}
    expect_array(dlogits, SM_DLOGITS, name="dlogits", strict=False, context=context)


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_single_example(submission: Any) -> None:
    loss, dlogits = softmax_ce(submission, SM_LOGITS[1:2], SM_TARGETS[1:2])
    where = "the second example alone, B=1, C=4"
    expect_not_over_the_batch(loss, dlogits, np.eye(4)[SM_TARGETS[1:2]], where)
    expect_loss(loss, np.log(2.0), function="softmax_cross_entropy", where=where, batch_size=1)
    # With B = 1 there is no 1/B to apply: dlogits = probabilities - one_hot. The probabilities
    # are (1/2, 1/6, 1/6, 1/6) and the target is 0, so dlogits = (1/2 - 1, 1/6, 1/6, 1/6).
    right = np.array([[1 / 2 - 1, 1 / 6, 1 / 6, 1 / 6]])
    context = {"where": where, "batch_size": 1}
    expect_array(dlogits, right, name="dlogits", strict=False, context=context)


STABILITY_HINT = (
    "subtract each row's own maximum before exponentiating (the maximum of the whole array "
    "leaves a row far below it all zeros), and compute log softmax as "
    "(z - max) - log(sum(exp(z - max))), never as np.log(p): a probability that rounded to 0 "
    "has no logarithm (see README.md)."
)


def expect_stable(loss: Any, dlogits: Any, shape: tuple[int, ...], where: str) -> tuple[Any, Any]:
    loss = number(loss, "softmax_cross_entropy")
    dlogits = array_of(dlogits, shape, name="dlogits", function="softmax_cross_entropy")
    if not (np.isfinite(loss) and np.isfinite(dlogits).all()):
        raise WrongAnswer(
            f"the loss or dlogits is NaN or infinite (for {where}).\nHint: {STABILITY_HINT}"
        )
    return loss, dlogits


def expect_worked_softmax(submission: Any, logits: np.ndarray, where: str) -> None:
    """``logits`` are the worked example's shifted row by row, which changes no probability:
    the loss and dlogits must be the worked example's, computed without overflow."""
    loss, dlogits = softmax_ce(submission, logits, SM_TARGETS)
    loss, dlogits = expect_stable(loss, dlogits, SM_LOGITS.shape, where)
    expect_loss(loss, SM_LOSS, function="softmax_cross_entropy", where=where, batch_size=3)
    context = {"where": where, "batch_size": 3}
    expect_array(dlogits, SM_DLOGITS, name="dlogits", strict=False, context=context)


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_large_logits(submission: Any) -> None:
    # Adding the same constant to every logit of a row changes no probability.
    where = "the worked example with 1000 added to every logit, B=3, C=4"
    expect_worked_softmax(submission, SM_LOGITS + 1000.0, where)


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_rows_far_apart(submission: Any) -> None:
    # The worked example with its rows moved 1000 apart: a shift by each row's own maximum
    # changes no probability, so the loss and dlogits are the worked example's.
    logits = SM_LOGITS + np.array([[1000.0], [0.0], [-1000.0]])
    where = "the worked example with 1000, 0 and -1000 added to its rows, B=3, C=4"
    expect_worked_softmax(submission, logits, where)


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_target_far_below_the_maximum(submission: Any) -> None:
    # One example, target 1: its probability is exp(-2000) / (1 + 2 exp(-1000) + ...), which
    # is 0 in float64, yet its loss is finite: -log p = 2000 + log(1 + 2 exp(-1000) + ...),
    # which is 2000 in float64. dlogits = p - one_hot = (1, -1, 0, 0), with no 1/B for B = 1.
    logits = np.array([[1000.0, -1000.0, 0.0, 0.0]])
    where = "logits (1000, -1000, 0, 0) with target 1, B=1, C=4"
    loss, dlogits = softmax_ce(submission, logits, np.array([1]))
    loss, dlogits = expect_stable(loss, dlogits, logits.shape, where)
    expect_not_over_the_batch(loss, dlogits, np.eye(4)[[1]], where)
    expect_loss(loss, 2000.0, function="softmax_cross_entropy", where=where, batch_size=1)
    context = {"where": where, "batch_size": 1}
    expect_array(
        dlogits, np.array([[1.0, -1.0, 0.0, 0.0]]), name="dlogits", strict=False, context=context
    )


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_numerical_gradient(submission: Any) -> None:
    rng = np.random.default_rng(1)
    logits, targets = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    _, dlogits = softmax_ce(submission, logits, targets)
    expect_numerical(
        lambda logits: handout_loss(logits, targets),
        {"logits": logits},
        np.array(1.0),
        "logits",
        dlogits,
        name="dlogits",
        context={"where": "B=4, C=3", "batch_size": 4},
        by_classes=(DLOGITS_HINTS["by_classes"], 3),
    )


# -- the network -------------------------------------------------------------------------------

NET_WHERE = "the worked example, B=3, D=5, H=2, C=4"


@pytest.mark.rubric("end_to_end")
def test_network_worked_example_loss(submission: Any) -> None:
    loss, _ = network(submission, NET_X, NET_TARGETS, NET_PARAMS)
    expect_loss(
        loss,
        NET_LOSS,
        function="mlp_loss_and_grads",
        where=NET_WHERE,
        batch_size=3,
        candidates=NET_LOSS_MISTAKES,
    )


@pytest.mark.rubric("end_to_end")
def test_network_worked_example_gradients(submission: Any) -> None:
    """All four gradients at once, as grading's end_to_end item checks them: a wrong one costs
    part of this item as well as its own."""
    _, grads = network(submission, NET_X, NET_TARGETS, NET_PARAMS)
    wrong = []
    for key in PARAMS:
        try:
            expect_array(grads[key], NET_GRADS[key], name=f"grads['{key}']", strict=False)
        except WrongAnswer:
            wrong.append(f"grads['{key}']")
    if wrong:
        raise WrongAnswer(
            f"the network's gradient is wrong in {', '.join(wrong)} (for {NET_WHERE}).\n"
            "Hint: the items dW2, db2, dW1 and db1 say what is wrong with each."
        )


def expect_not_swapped(grads: dict, params: dict, key: str, where: str) -> None:
    """A gradient with the shape of another parameter (and not its own) is in the wrong key."""
    shape = getattr(grads[key], "shape", None)
    others = [other for other in PARAMS if other != key and params[other].shape == shape]
    if others and shape != params[key].shape:
        raise WrongAnswer(
            f"grads['{key}'] has shape {shape}, expected {params[key].shape} (for {where}).\n"
            f"Hint: that is the shape of {others[0]}: check the keys of the grads dict (each "
            "gradient has the shape of its own parameter)."
        )


def worked_network_gradient(submission: Any, key: str) -> None:
    _, grads = network(submission, NET_X, NET_TARGETS, NET_PARAMS)
    expect_not_swapped(grads, NET_PARAMS, key, NET_WHERE)
    context = {
        "where": NET_WHERE,
        "batch_size": 3,
        "batch_sum": key in ("b1", "b2"),
        "candidates": NET_MISTAKES.get(key, {}),
    }
    expect_array(grads[key], NET_GRADS[key], name=f"grads['{key}']", strict=False, context=context)


NUMERICAL_NET = {"B": 4, "D": 3, "H": 5, "C": 6}


def numerical_network_gradient(submission: Any, key: str) -> None:
    """grads[key] against central differences of README.md's network loss (B=4, D=3, H=5,
    C=6): your loss value is checked by end_to_end, and charged there only."""
    X, targets, params = random_network(2, **NUMERICAL_NET)
    _, grads = network(submission, X, targets, params)
    expect_not_swapped(grads, params, key, "B=4, D=3, H=5, C=6")

    def loss(**changed: np.ndarray) -> np.ndarray:
        return handout_network_loss(X, targets, {**params, **changed})

    expect_numerical(
        loss,
        {key: params[key]},
        np.array(1.0),
        key,
        grads[key],
        name=f"grads['{key}']",
        context={
            "where": "B=4, D=3, H=5, C=6",
            "batch_size": 4,
            "batch_sum": key in ("b1", "b2"),
        },
        by_classes=(NETWORK_DLOGITS_HINTS["by_classes"], NUMERICAL_NET["C"]),
    )


@pytest.mark.rubric("dW2")
def test_dW2_worked_example(submission: Any) -> None:
    worked_network_gradient(submission, "W2")


@pytest.mark.rubric("dW2")
def test_dW2_numerical_gradient(submission: Any) -> None:
    numerical_network_gradient(submission, "W2")


@pytest.mark.rubric("db2")
def test_db2_worked_example(submission: Any) -> None:
    worked_network_gradient(submission, "b2")


@pytest.mark.rubric("db2")
def test_db2_numerical_gradient(submission: Any) -> None:
    numerical_network_gradient(submission, "b2")


@pytest.mark.rubric("dW1")
def test_dW1_worked_example(submission: Any) -> None:
    worked_network_gradient(submission, "W1")


@pytest.mark.rubric("dW1")
def test_dW1_numerical_gradient(submission: Any) -> None:
    numerical_network_gradient(submission, "W1")


@pytest.mark.rubric("db1")
def test_db1_worked_example(submission: Any) -> None:
    worked_network_gradient(submission, "b1")


@pytest.mark.rubric("db1")
def test_db1_numerical_gradient(submission: Any) -> None:
    numerical_network_gradient(submission, "b1")


# -- shapes ------------------------------------------------------------------------------------
# One check per output (and case), as in grading: one wrong output costs only its share.

NETWORK_OUTPUTS = ("loss", *PARAMS)


def expect_loss_layout(loss: Any, right: float | None, *, function: str, where: str) -> None:
    """The loss: one float64 number (a float, np.float64 or 0-d array), of float64 precision
    when ``right`` is given."""
    if not (isinstance(loss, float) or getattr(loss, "shape", None) == ()):
        raise WrongAnswer(
            f"the loss should be a single number, but {function} returned {describe_type(loss)} "
            f"(for {where})."
        )
    if np.asarray(loss).dtype != np.float64:
        raise WrongAnswer(
            f"the loss has dtype {np.asarray(loss).dtype}, expected float64 (for {where})."
        )
    expect_layout(
        number(loss, function),
        name="the loss",
        shape=(),
        reference=None if right is None else np.asarray(right),
        context={"where": where},
    )


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", NETWORK_OUTPUTS)
@pytest.mark.parametrize("B", [1, 3])
def test_network_shapes_and_dtypes(submission: Any, B: int, output: str) -> None:
    X, targets, params = random_network(3, B=B, D=4, H=5, C=6)
    where = f"B={B}, D=4, H=5, C=6"
    loss, grads = raw_network(submission, X, targets, params)
    if output == "loss":
        expect_loss_layout(loss, None, function="mlp_loss_and_grads", where=where)
    else:
        expect_grads_form(grads, where)
        expect_layout(
            grads[output],
            name=f"grads['{output}']",
            shape=params[output].shape,
            context={"where": where, "batch_size": B},
        )


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", ["y", "dx"])
@pytest.mark.parametrize("B", [1, 3])
def test_relu_shapes_and_dtypes(submission: Any, B: int, output: str) -> None:
    X, _, params = random_network(3, B=B, D=4, H=5, C=6)
    y, dx = relu(submission, X @ params["W1"], np.ones((B, 5)))
    actual = {"y": y, "dx": dx}[output]
    context = {"where": f"x of shape ({B}, 5)", "batch_size": B}
    expect_layout(actual, name=f"relu {output}", shape=(B, 5), context=context)


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("B", [1, 3])
def test_dlogits_shape_and_dtype(submission: Any, B: int) -> None:
    _, targets, _ = random_network(3, B=B, D=4, H=5, C=6)
    _, dlogits = softmax_ce(submission, np.zeros((B, 6)), targets)
    context = {"where": f"B={B}, C=6", "batch_size": B}
    expect_layout(dlogits, name="dlogits", shape=(B, 6), context=context)


# The worked examples' integers (and halves and quarters) are exact in float32 too, so a result
# computed through float32 and cast back to float64 would match them exactly. Divided by 10
# they are not exact: the variants below, whose right answers follow from the worked ones,
# show such a result (float64 precision is part of `shapes`, as in grading).
# The linear layer with x, b and dy divided by 10: y, dx and db are divided by 10, dW by 100.
TENTH_LINEAR = {"x": LIN_X / 10, "W": LIN_W, "b": LIN_B / 10, "dy": LIN_DY / 10}
TENTH_LINEAR_RIGHT = {"y": LIN_Y / 10, "dx": LIN_DX / 10, "dW": LIN_DW / 100, "db": LIN_DB / 10}
# The network with X and b1 divided by 10 and W2 multiplied by 10: Y1 and relu(Y1) are divided
# by 10 and the logits are unchanged, so the loss and dY2 are too; then grads['W2'] is divided
# by 10, grads['b2'] and grads['W1'] are unchanged, and grads['b1'] is multiplied by 10.
TENTH_NET_X = NET_X / 10
TENTH_NET_PARAMS = {**NET_PARAMS, "b1": NET_PARAMS["b1"] / 10, "W2": NET_PARAMS["W2"] * 10}
TENTH_NET_GRADS = {**NET_GRADS, "W2": NET_GRADS["W2"] / 10, "b1": NET_GRADS["b1"] * 10}


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", list(TENTH_LINEAR_RIGHT))
def test_linear_float64_precision(submission: Any, output: str) -> None:
    data = TENTH_LINEAR
    mine = linear(submission, data["x"], data["W"], data["b"], data["dy"])
    right = TENTH_LINEAR_RIGHT[output]
    where = (
        "the linear layer's worked example with x, b and dy divided by 10 (W as it was), so "
        "float32 cannot hold the numbers exactly, B=3, D=2, F=4"
    )
    expect_layout(
        mine[output],
        name=output,
        shape=right.shape,
        reference=right,
        context={"where": where, "batch_size": 3},
    )


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", ["y", "dx"])
def test_relu_float64_precision(submission: Any, output: str) -> None:
    y, dx = relu(submission, RELU_X / 10, RELU_DY / 10)
    actual, right = {"y": (y, RELU_Y / 10), "dx": (dx, RELU_DX / 10)}[output]
    where = {
        "where": "relu's worked example with x and dy divided by 10, so float32 cannot hold the "
        "numbers exactly"
    }
    expect_layout(actual, name=f"relu {output}", shape=right.shape, reference=right, context=where)


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", ["loss", "dlogits"])
def test_softmax_ce_float64_precision(submission: Any, output: str) -> None:
    # Its logits hold log 3 and log 2, which float32 does not hold exactly either.
    loss, dlogits = softmax_ce(submission, SM_LOGITS, SM_TARGETS)
    where = "the worked example, whose log 3 and log 2 float32 cannot hold exactly, B=3, C=4"
    if output == "loss":
        expect_loss_layout(loss, SM_LOSS, function="softmax_cross_entropy", where=where)
    else:
        expect_layout(
            dlogits,
            name="dlogits",
            shape=SM_DLOGITS.shape,
            reference=SM_DLOGITS,
            context={"where": where, "batch_size": 3},
        )


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", NETWORK_OUTPUTS)
def test_network_float64_precision(submission: Any, output: str) -> None:
    loss, grads = network(submission, TENTH_NET_X, NET_TARGETS, TENTH_NET_PARAMS)
    where = (
        "the worked network with X and b1 divided by 10 and W2 multiplied by 10 (W1 and b2 as "
        "they were; the logits are unchanged), so float32 cannot hold the numbers exactly"
    )
    if output == "loss":
        expect_loss_layout(loss, NET_LOSS, function="mlp_loss_and_grads", where=where)
    else:
        right = TENTH_NET_GRADS[output]
        expect_layout(
            grads[output],
            name=f"grads['{output}']",
            shape=right.shape,
            reference=right,
            context={"where": where, "batch_size": 3},
        )


# -- purity ------------------------------------------------------------------------------------


@pytest.mark.rubric("purity")
def test_linear_leaves_its_arguments_unchanged(submission: Any) -> None:
    result, after = submission.call(
        "linear_forward", LIN_X, LIN_W, LIN_B, echo_args=True, keep=(1,)
    )
    for name, before, now in zip(("x", "W", "b"), (LIN_X, LIN_W, LIN_B), after, strict=True):
        expect_unchanged(before, now, name=name, function="linear_forward")
    _, cache = expect_tuple(result, ("y", "cache"), function="linear_forward")
    _, after = submission.call("linear_backward", LIN_DY, cache, echo_args=True)
    expect_unchanged(LIN_DY, after[0], name="dy", function="linear_backward")


@pytest.mark.rubric("purity")
def test_relu_leaves_its_arguments_unchanged(submission: Any) -> None:
    result, after = submission.call("relu_forward", RELU_X, echo_args=True, keep=(1,))
    expect_unchanged(RELU_X, after[0], name="x", function="relu_forward")
    _, cache = expect_tuple(result, ("y", "cache"), function="relu_forward")
    _, after = submission.call("relu_backward", RELU_DY, cache, echo_args=True)
    expect_unchanged(RELU_DY, after[0], name="dy", function="relu_backward")


@pytest.mark.rubric("purity")
def test_softmax_ce_leaves_logits_unchanged(submission: Any) -> None:
    _, after = submission.call("softmax_cross_entropy", SM_LOGITS, SM_TARGETS, echo_args=True)
    expect_unchanged(SM_LOGITS, after[0], name="logits", function="softmax_cross_entropy")
    expect_unchanged(SM_TARGETS, after[1], name="targets", function="softmax_cross_entropy")


@pytest.mark.rubric("purity")
def test_network_leaves_its_arguments_unchanged(submission: Any) -> None:
    _, after = submission.call("mlp_loss_and_grads", NET_X, NET_TARGETS, NET_PARAMS, echo_args=True)
    function = "mlp_loss_and_grads"
    expect_unchanged(NET_X, after[0], name="X", function=function)
    expect_unchanged(NET_TARGETS, after[1], name="targets", function=function)
    params = after[2]
    if not isinstance(params, dict) or set(params) != set(PARAMS):
        raise WrongAnswer(
            "mlp_loss_and_grads changed the keys of its argument params.\nHint: build a new "
            "dict for the gradients; leave params as you found it."
        )
    for key in PARAMS:
        expect_unchanged(NET_PARAMS[key], params[key], name=f"params['{key}']", function=function)


@pytest.mark.rubric("purity")
def test_relu_interleaved_calls(submission: Any) -> None:
    rng = np.random.default_rng(4)
    cases = [(rng.standard_normal((3, 4)), rng.standard_normal((3, 4))) for _ in range(2)]
    alone = [relu(submission, x, dy)[1] for x, dy in cases]
    caches = [forward_of(submission, "relu_forward", x)[1] for x, _ in cases]
    for (_, dy), cache, expected in zip(cases, caches, alone, strict=True):
        expect_consistent(
            [expected],
            [submission.relu_backward(dy, cache)],
            names=["dx"],
            problem="with two relu_forward calls before the two relu_backward calls, "
            "relu_backward gave a different answer than when each forward was directly "
            "followed by its backward",
            hint="relu_backward must depend only on dy and the cache it is given: keep what "
            "it needs in the cache, not in a global variable.",
        )


BACKWARD_TWICE_HINT = (
    "{function} must depend only on dy and the cache it is given, and leave the cache as it "
    "found it: read what it needs from the cache, never remove or change it (no pop(), no "
    "del, no in-place update), since a backward pass may run more than once on one cache."
)


@pytest.mark.rubric("purity")
def test_linear_backward_twice_on_one_cache(submission: Any) -> None:
    _, cache = forward_of(submission, "linear_forward", LIN_X, LIN_W, LIN_B)
    grads = ("dx", "dW", "db")
    once = expect_tuple(
        submission.linear_backward(LIN_DY, cache), grads, function="linear_backward"
    )
    twice = expect_tuple(
        submission.linear_backward(LIN_DY, cache), grads, function="linear_backward"
    )
    expect_consistent(
        once,
        twice,
        names=grads,
        problem="calling linear_backward twice with the same dy and cache gave two answers",
        hint=BACKWARD_TWICE_HINT.format(function="linear_backward"),
    )


@pytest.mark.rubric("purity")
def test_relu_backward_twice_on_one_cache(submission: Any) -> None:
    _, cache = forward_of(submission, "relu_forward", RELU_X)
    once = submission.relu_backward(RELU_DY, cache)
    twice = submission.relu_backward(RELU_DY, cache)
    expect_consistent(
        [once],
        [twice],
        names=["dx"],
        problem="calling relu_backward twice with the same dy and cache gave two answers",
        hint=BACKWARD_TWICE_HINT.format(function="relu_backward"),
    )
