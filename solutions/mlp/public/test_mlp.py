"""Public tests for the two-layer network: run ``pytest`` (or ``autograder check``) here.

They mirror the rubric items the grader uses, on small examples worked by hand below and on
numerical gradient checks through *your own* forward passes. The grader's hidden tests are
stricter: more shapes (B = 1, C = 2, a large network), hidden random inputs, and numerical
gradients through the instructor's forward pass -- so passing these is necessary, not
sufficient. Work from the top: the network is built from the pieces, so a wrong piece makes
the network's checks fail too, and a numerical check of your gradient through your own
forward pass means something only once that forward pass is right.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.checks import (
    expect_array,
    expect_gradients,
    expect_layout,
    expect_tuple,
    expect_unchanged,
)
from autograder.errors import WrongAnswer

PARAMS = ("W1", "b1", "W2", "b2")

# -- worked examples (every number below can be checked by hand) ------------------------------

# The linear layer: B = 2 examples, D = 3 features, F = 2 outputs.
LIN_X = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
LIN_W = np.array([[1.0, -1.0], [0.0, 2.0], [1.0, 0.0]])
LIN_B = np.array([0.5, -1.0])
LIN_DY = np.array([[1.0, 0.0], [2.0, -1.0]])
LIN_Y = np.array([[1.5, 2.0], [3.5, -3.0]])  # y[0, 1] = 1*(-1) + 2*2 + 0*0 - 1 = 2
LIN_DX = np.array([[1.0, 0.0, 1.0], [3.0, -2.0, 2.0]])  # dx[1, 0] = 2*1 + (-1)*(-1) = 3
LIN_DW = np.array([[1.0, 0.0], [0.0, 1.0], [6.0, -3.0]])  # dW[2, 0] = 0*1 + 3*2 = 6
LIN_DB = np.array([3.0, -1.0])

# relu on a (2, 3) array without zeros; dx keeps dy where x > 0 and is 0 elsewhere.
RELU_X = np.array([[1.5, -2.0, 0.25], [-0.5, 3.0, 2.0]])
RELU_Y = np.array([[1.5, 0.0, 0.25], [0.0, 3.0, 2.0]])
RELU_DY = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
RELU_DX = np.array([[1.0, 0.0, 3.0], [0.0, 5.0, 6.0]])

# Softmax cross-entropy, B = 2, C = 3. Row 0: equal logits, so each class has probability
# 1/3; target 2 costs -log(1/3) = log 3. Row 1: exp(logits) = (2, 1, 1), probabilities
# (1/2, 1/4, 1/4); target 0 costs log 2. The loss is the mean: (log 3 + log 2) / 2.
SM_LOGITS = np.array([[0.0, 0.0, 0.0], [np.log(2.0), 0.0, 0.0]])
SM_TARGETS = np.array([2, 0])
SM_LOSS = np.log(6.0) / 2
# dlogits = (probabilities - one_hot(target)) / B, with B = 2.
SM_DLOGITS = np.array([[1 / 6, 1 / 6, -1 / 3], [-1 / 4, 1 / 8, 1 / 8]])

# A network with B = 2, D = 2, H = 3, C = 2 and W2 = 0.
NET_X = np.array([[1.0, -1.0], [2.0, 0.5]])
NET_TARGETS = np.array([0, 1])
NET_PARAMS = {
    "W1": np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]]),
    "b1": np.array([0.0, 0.5, 0.0]),
    "W2": np.zeros((3, 2)),
    "b2": np.array([np.log(3.0), 0.0]),
}
# Y1 = X W1 + b1 = [[1, -0.5, -2], [2, 1, -1.5]], so relu(Y1) = [[1, 0, 0], [2, 1, 0]].
# W2 = 0, so every row of logits is b2 = (log 3, 0): probabilities (3/4, 1/4).
# L = (-log(3/4) - log(1/4)) / 2 = log(16/3) / 2.
NET_LOSS = np.log(16.0 / 3.0) / 2
# dY2 = (probabilities - one_hot) / 2 = [[-1/8, 1/8], [3/8, -3/8]]
# dW2 = relu(Y1)^T dY2, db2 = the column sums of dY2.
NET_GRADS = {
    "W2": np.array([[5 / 8, -5 / 8], [3 / 8, -3 / 8], [0.0, 0.0]]),
    "b2": np.array([1 / 4, -1 / 4]),
    # W2 = 0: dL/dHd = dY2 W2^T = 0, so nothing reaches the first layer.
    "W1": np.zeros((2, 3)),
    "b1": np.zeros(3),
}


# -- calling your code ---------------------------------------------------------------------------


def linear(submission: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, dy: np.ndarray) -> dict:
    y, cache = expect_tuple(
        submission.linear_forward(x, W, b), ("y", "cache"), function="linear_forward"
    )
    grads = expect_tuple(
        submission.linear_backward(dy, cache), ("dx", "dW", "db"), function="linear_backward"
    )
    return dict(zip(("y", "dx", "dW", "db"), (y, *grads), strict=True))


def relu(submission: Any, x: np.ndarray, dy: np.ndarray) -> tuple[Any, Any]:
    y, cache = expect_tuple(submission.relu_forward(x), ("y", "cache"), function="relu_forward")
    return y, submission.relu_backward(dy, cache)


def softmax_ce(submission: Any, logits: np.ndarray, targets: np.ndarray) -> tuple[Any, Any]:
    result = submission.softmax_cross_entropy(logits, targets)
    return expect_tuple(result, ("loss", "dlogits"), function="softmax_cross_entropy")


def network(submission: Any, X: np.ndarray, targets: np.ndarray, params: dict) -> tuple[Any, dict]:
    result = submission.mlp_loss_and_grads(X, targets, params)
    loss, grads = expect_tuple(result, ("loss", "grads"), function="mlp_loss_and_grads")
    if not isinstance(grads, dict):
        raise WrongAnswer(
            f"grads should be a dict with the keys W1, b1, W2, b2, not a {type(grads).__name__}."
        )
    missing = [key for key in PARAMS if key not in grads]
    if missing:
        got = ", ".join(map(repr, list(grads)[:8])) or "none"
        raise WrongAnswer(
            f"grads should be a dict with the keys W1, b1, W2, b2; {', '.join(missing)} "
            f"missing (keys given: {got})."
        )
    return loss, grads


def number(value: Any, function: str) -> np.ndarray:
    """A loss as a 0-d array, or a clear failure."""
    array = np.asarray(value) if isinstance(value, float | np.generic | np.ndarray) else None
    if array is None or array.size != 1 or not np.issubdtype(array.dtype, np.number):
        raise WrongAnswer(f"{function} should return the loss as a single number.")
    return array.reshape(()).astype(np.float64)


def random_network(seed: int, B: int, D: int, H: int, C: int) -> tuple[np.ndarray, ...]:
    """Random inputs whose hidden pre-activations all stay away from relu's kink at 0."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((D, H)) * np.sqrt(2.0 / D)
    b1 = rng.standard_normal(H) * 0.5
    X = rng.standard_normal((B, D))
    while (np.abs(X @ W1 + b1) < 1e-3).any():
        X = rng.standard_normal((B, D))
    params = {
        "W1": W1,
        "b1": b1,
        "W2": rng.standard_normal((H, C)) * np.sqrt(2.0 / H),
        "b2": rng.standard_normal(C) * 0.5,
    }
    return X, rng.integers(0, C, size=B), params


NOTE = (
    "\nNote: this check differentiates your own forward pass, so it is only meaningful once "
    "the forward (value) tests pass and everything computes in float64."
)

# -- linear ------------------------------------------------------------------------------------


@pytest.mark.rubric("linear")
def test_linear_worked_example(submission: Any) -> None:
    mine = linear(submission, LIN_X, LIN_W, LIN_B, LIN_DY)
    right = {"y": LIN_Y, "dx": LIN_DX, "dW": LIN_DW, "db": LIN_DB}
    for name, expected in right.items():
        context = {"where": "B=2, D=3", "batch_size": 2, "batch_sum": name == "db"}
        expect_array(mine[name], expected, name=name, strict=False, context=context)


# -- relu --------------------------------------------------------------------------------------


@pytest.mark.rubric("relu")
def test_relu_worked_example(submission: Any) -> None:
    y, dx = relu(submission, RELU_X, RELU_DY)
    expect_array(y, RELU_Y, name="y", strict=False)
    expect_array(dx, RELU_DX, name="dx", strict=False)


@pytest.mark.rubric("relu")
def test_relu_at_the_kink(submission: Any) -> None:
    x = np.array([[0.0, 1.0, -1.0, 0.0]])
    dy = np.array([[2.0, 3.0, 4.0, -5.0]])
    _, dx = relu(submission, x, dy)
    dx = np.asarray(dx, dtype=np.float64).reshape(x.shape)
    if not np.isfinite(dx).all():
        raise WrongAnswer("dx holds NaN or infinity where x == 0: use the mask [x > 0].")
    expect_array(dx[:, 1:3], np.array([[3.0, 0.0]]), name="dx away from x == 0", strict=False)
    # At x == 0 any subgradient s * dy with 0 <= s <= 1 is accepted; [x > 0] gives 0.
    if not all(
        min(0.0, g) <= d <= max(0.0, g) for d, g in zip(dx[0, [0, 3]], dy[0, [0, 3]], strict=True)
    ):
        raise WrongAnswer("where x == 0, dx should lie between 0 and dy (0 is the usual choice).")


@pytest.mark.rubric("relu")
def test_relu_numerical_gradient(submission: Any) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    x += 0.1 * np.sign(x)  # away from the kink
    dy = rng.standard_normal(x.shape)
    _, dx = relu(submission, x, dy)

    def forward(x: np.ndarray) -> Any:
        y = expect_tuple(submission.relu_forward(x), ("y", "cache"), function="relu_forward")[0]
        if getattr(y, "shape", None) != x.shape:
            raise WrongAnswer("relu_forward must return y of the shape of x; fix it first.")
        return y

    try:
        expect_gradients(forward, {"x": x}, dy, {"x": dx}, names={"x": "dx"}, strict=False)
    except WrongAnswer as wrong:
        raise WrongAnswer(f"{wrong}{NOTE}") from None


# -- softmax cross-entropy ---------------------------------------------------------------------


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_worked_example(submission: Any) -> None:
    loss, dlogits = softmax_ce(submission, SM_LOGITS, SM_TARGETS)
    context = {"where": "the worked example, B=2, C=3", "batch_size": 2}
    expect_array(
        number(loss, "softmax_cross_entropy"), np.asarray(SM_LOSS), name="loss", strict=False
    )
    expect_array(dlogits, SM_DLOGITS, name="dlogits", strict=False, context=context)


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_single_example(submission: Any) -> None:
    loss, dlogits = softmax_ce(submission, SM_LOGITS[1:], SM_TARGETS[1:])
    expect_array(
        number(loss, "softmax_cross_entropy"), np.asarray(np.log(2.0)), name="loss", strict=False
    )
    # With B = 1 there is no 1/B to apply: dlogits = probabilities - one_hot.
    context = {"where": "the second example alone, B=1, C=3", "batch_size": 1}
    expect_array(dlogits, 2 * SM_DLOGITS[1:], name="dlogits", strict=False, context=context)


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_large_logits(submission: Any) -> None:
    loss, dlogits = softmax_ce(submission, SM_LOGITS + 1000.0, SM_TARGETS)
    if not (np.isfinite(number(loss, "softmax_cross_entropy")) and np.isfinite(dlogits).all()):
        raise WrongAnswer(
            "with every logit near 1000 the loss or dlogits is NaN or infinite: exp(1000) "
            "overflows. Subtract each row's maximum first (see README.md)."
        )
    # Adding the same constant to every logit of a row changes no probability.
    expect_array(
        number(loss, "softmax_cross_entropy"), np.asarray(SM_LOSS), name="loss", strict=False
    )
    context = {"where": "the worked example with 1000 added to every logit, B=2, C=3"}
    expect_array(
        dlogits, SM_DLOGITS, name="dlogits", strict=False, context=context | {"batch_size": 2}
    )


@pytest.mark.rubric("softmax_ce")
def test_softmax_ce_numerical_gradient(submission: Any) -> None:
    rng = np.random.default_rng(1)
    logits, targets = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    _, dlogits = softmax_ce(submission, logits, targets)

    def loss(logits: np.ndarray) -> np.ndarray:
        return number(softmax_ce(submission, logits, targets)[0], "softmax_cross_entropy")

    try:
        expect_gradients(
            loss,
            {"logits": logits},
            np.array(1.0),
            {"logits": dlogits},
            names={"logits": "dlogits"},
            strict=False,
            context={"where": "B=4, C=3", "batch_size": 4},
        )
    except WrongAnswer as wrong:
        raise WrongAnswer(f"{wrong}{NOTE}") from None


# -- the network -------------------------------------------------------------------------------


@pytest.mark.rubric("end_to_end")
def test_network_worked_example_loss(submission: Any) -> None:
    loss, _ = network(submission, NET_X, NET_TARGETS, NET_PARAMS)
    expect_array(
        number(loss, "mlp_loss_and_grads"), np.asarray(NET_LOSS), name="loss", strict=False
    )


def worked_network_gradient(submission: Any, key: str) -> None:
    _, grads = network(submission, NET_X, NET_TARGETS, NET_PARAMS)
    context = {"where": "the worked example, B=2, D=2, H=3, C=2", "batch_size": 2}
    expect_array(grads[key], NET_GRADS[key], name=f"grads['{key}']", strict=False, context=context)


def numerical_network_gradient(submission: Any, key: str) -> None:
    """grads[key] against central differences of *your* network's loss (B=3, D=4, H=5, C=3)."""
    X, targets, params = random_network(2, B=3, D=4, H=5, C=3)
    _, grads = network(submission, X, targets, params)

    def loss(**changed: np.ndarray) -> np.ndarray:
        return number(network(submission, X, targets, {**params, **changed})[0], "network")

    try:
        expect_gradients(
            loss,
            {key: params[key]},
            np.array(1.0),
            {key: grads[key]},
            names={key: f"grads['{key}']"},
            strict=False,
            context={"where": "B=3, D=4, H=5, C=3", "batch_size": 3},
        )
    except WrongAnswer as wrong:
        raise WrongAnswer(f"{wrong}{NOTE}") from None


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


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("B", [1, 3])
def test_shapes_and_dtypes(submission: Any, B: int) -> None:
    X, targets, params = random_network(3, B=B, D=4, H=5, C=3)
    where = {"where": f"B={B}, D=4, H=5, C=3", "batch_size": B}
    loss, grads = network(submission, X, targets, params)
    if not (isinstance(loss, float) or getattr(loss, "shape", None) == ()):
        raise WrongAnswer("the loss should be a single number, not an array of shape (1,).")
    if np.asarray(loss).dtype != np.float64:
        raise WrongAnswer(f"the loss has dtype {np.asarray(loss).dtype}, expected float64.")
    for key in PARAMS:
        expect_layout(grads[key], name=f"grads['{key}']", shape=params[key].shape, context=where)
    y, dx = relu(submission, X @ params["W1"], np.ones((B, 5)))
    expect_layout(y, name="relu y", shape=(B, 5), context=where)
    expect_layout(dx, name="relu dx", shape=(B, 5), context=where)
    _, dlogits = softmax_ce(submission, np.zeros((B, 3)), targets)
    expect_layout(dlogits, name="dlogits", shape=(B, 3), context=where)


# -- purity ------------------------------------------------------------------------------------


@pytest.mark.rubric("purity")
def test_relu_backward_leaves_dy_unchanged(submission: Any) -> None:
    _, cache = expect_tuple(
        submission.relu_forward(RELU_X), ("y", "cache"), function="relu_forward"
    )
    _, after = submission.call("relu_backward", RELU_DY.copy(), cache, echo_args=True)
    expect_unchanged(RELU_DY, after[0], name="dy", function="relu_backward")


@pytest.mark.rubric("purity")
def test_softmax_ce_leaves_logits_unchanged(submission: Any) -> None:
    _, after = submission.call("softmax_cross_entropy", SM_LOGITS, SM_TARGETS, echo_args=True)
    expect_unchanged(SM_LOGITS, after[0], name="logits", function="softmax_cross_entropy")


@pytest.mark.rubric("purity")
def test_network_leaves_params_unchanged(submission: Any) -> None:
    _, after = submission.call("mlp_loss_and_grads", NET_X, NET_TARGETS, NET_PARAMS, echo_args=True)
    for key in PARAMS:
        expect_unchanged(
            NET_PARAMS[key], after[2][key], name=f"params['{key}']", function="mlp_loss_and_grads"
        )
