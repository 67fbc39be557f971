"""Hidden tests for the ``mlp`` assignment (never released to students).

Inputs come from the ``rng`` fixture, seeded per (course secret, student, test):
unpredictable, identical on regrade. Networks have B, D, H and C all different (so a
transpose or a sum over the wrong axis cannot pass by luck), plus B = 1, C = 2, a random
shape and a large one. Targets are random integers. Weights are scaled so the logits are of
order one (the softmax is neither flat nor saturated), and every hidden pre-activation is
kept at least ``KINK_MARGIN`` away from relu's kink, so central differences never straddle it.

What each item judges:

* ``linear``, ``relu``, ``softmax_ce``: each piece on its own, values against the reference
  and, for the gradients, against central differences through the reference forward.
* ``dW2``, ``db2``, ``dW1``, ``db1``: one entry of ``grads`` from ``mlp_loss_and_grads`` each,
  against the reference and against a directional (random-projection) numerical derivative of
  the reference network's loss, so the cost does not grow with the parameter count.
* ``end_to_end``: the network's loss, and all four gradients at once along random directions
  on a large network, on B = 1 and on a random shape.
* ``shapes``: exact shape, float64 and float64 precision of every output (the loss is a single
  number), one test per output and shape.
* ``purity``: the submission compared with itself (arguments before and after, interleaved
  calls, a backward twice on one cache), so a wrong formula does not cost purity too.

Value checks forgive dtype and axes of length 1 (``strict=False``); ``shapes`` charges those.
The pieces are composed by the student's own ``mlp_loss_and_grads``, so a wrong piece is also
charged to the network gradients it feeds -- the network really is wrong -- and the mutants'
``# loses:`` lines spell out exactly which items each mistake costs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from autograder.checks import (
    VALUE_THRESHOLD,
    confirm_gradient,
    describe_type,
    expect_array,
    expect_consistent,
    expect_layout,
    expect_tuple,
    expect_unchanged,
    expect_uses_inputs,
)
from autograder.errors import StudentError, WrongAnswer
from autograder.gradcheck import DIRECTIONAL_THRESHOLD, directional_check

# Central differences move a pre-activation by at most ~1e-5 here, so 1e-3 keeps every
# perturbed network on the same side of every relu kink.
KINK_MARGIN = 1e-3
# Lenient like the value checks: float32 arithmetic passes, every structural mistake fails.
GRADIENT_THRESHOLD = max(DIRECTIONAL_THRESHOLD, VALUE_THRESHOLD)
PARAMS = ("W1", "b1", "W2", "b2")
ONE = np.array(1.0)  # dL/dL: the upstream gradient of a scalar loss

# -- cases ------------------------------------------------------------------------------------

# (B, D, H, C); "random" draws four distinct sizes from the test's rng.
NETWORKS: dict[str, tuple[int, int, int, int] | None] = {
    "B1": (1, 5, 7, 3),
    "small": (4, 3, 6, 5),
    "tall": (12, 4, 5, 3),
    "wide": (3, 8, 10, 6),
    "C2": (6, 4, 9, 2),
    "random": None,
    "large": (64, 48, 40, 10),
}
PARAM_SHAPES = ["B1", "small", "tall", "wide", "C2", "random"]
LAYOUT_SHAPES = ["B1", "small"]


@dataclass(frozen=True)
class Net:
    """One hidden network: inputs ``X``, integer ``targets`` and ``params``."""

    X: np.ndarray
    targets: np.ndarray
    params: dict[str, np.ndarray]

    @property
    def sizes(self) -> tuple[int, int, int, int]:
        B, D = self.X.shape
        H, C = self.params["W2"].shape
        return B, D, H, C

    @property
    def where(self) -> str:
        B, D, H, C = self.sizes
        return f"B={B}, D={D}, H={H}, C={C}"

    def context(self, key: str, candidates: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
        """What the check helpers may tell the student about this case: sizes only."""
        return {
            "where": self.where,
            "batch_size": self.sizes[0],
            "batch_sum": key in ("b1", "b2"),
            "formula": FORMULAS[key],
            "candidates": candidates or {},
        }


FORMULAS = {
    "W2": "dW2[j, c] = sum_i relu(Y1)[i, j] dY2[i, c], i.e. relu(Y1).T @ dY2, shape (H, C), "
    "where dY2 = (softmax(Y2) - onehot(t)) / B already holds the 1/B",
    "b2": "db2[c] = sum_i dY2[i, c], shape (C,), where dY2 already holds the 1/B",
    "W1": "dW1[d, j] = sum_i X[i, d] dY1[i, j], i.e. X.T @ dY1, shape (D, H), "
    "where dY1 = (dY2 @ W2.T) * [Y1 > 0]",
    "b1": "db1[j] = sum_i dY1[i, j], shape (H,), where dY1 = (dY2 @ W2.T) * [Y1 > 0]",
}


def network_sizes(rng: np.random.Generator, shape: str) -> tuple[int, int, int, int]:
    sizes = NETWORKS[shape]
    if sizes is None:
        B, D, H, C = (int(n) for n in rng.choice(np.arange(2, 21), size=4, replace=False))
        return B, D, H, C
    return sizes


def make_net(rng: np.random.Generator, shape: str) -> Net:
    B, D, H, C = network_sizes(rng, shape)
    params = {
        "W1": rng.standard_normal((D, H)) * np.sqrt(2.0 / D),
        "b1": rng.standard_normal(H) * 0.5,
        "W2": rng.standard_normal((H, C)) * np.sqrt(2.0 / H),
        "b2": rng.standard_normal(C) * 0.5,
    }
    X = away_from_kinks(rng, rng.standard_normal((B, D)), params["W1"], params["b1"])
    return Net(X=X, targets=rng.integers(0, C, size=B), params=params)


def away_from_kinks(
    rng: np.random.Generator, X: np.ndarray, W1: np.ndarray, b1: np.ndarray
) -> np.ndarray:
    """``X`` with every example whose pre-activation touches a relu kink redrawn."""
    X = X.copy()
    for _ in range(1000):
        close = (np.abs(X @ W1 + b1) < KINK_MARGIN).any(axis=1)
        if not close.any():
            return X
        X[close] = rng.standard_normal((int(close.sum()), X.shape[1]))
    raise AssertionError("could not draw inputs away from the relu kinks")


def nonzero(rng: np.random.Generator, shape: tuple[int, ...], margin: float = 0.1) -> np.ndarray:
    """Standard normal entries pushed at least ``margin`` away from zero."""
    x = rng.standard_normal(shape)
    return x + margin * np.where(x >= 0, 1.0, -1.0)


# -- calling the submission --------------------------------------------------------------------


def as_number(value: Any, *, name: str, function: str) -> np.ndarray:
    """A returned scalar as a 0-d array (any real dtype, any size-1 shape), else WrongAnswer."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.generic | np.ndarray):
        raise WrongAnswer(
            f"{function} should return {name} as a single number, but it returned "
            f"{describe_type(value)}."
        )
    array = np.asarray(value)
    real = np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    if not real or array.size != 1:
        raise WrongAnswer(
            f"{function} should return {name} as a single number, but it returned "
            f"{describe_type(value)}."
        )
    return array.reshape(())


GRADS_FORM = (
    "mlp_loss_and_grads should return (loss, grads) with grads a dict holding the keys "
    "W1, b1, W2, b2 (one gradient per parameter)"
)


def grad_key(key: object) -> str | None:
    """The parameter a key of the student's grads names: ``W1``, ``dW1``, ``dw1``, ``grad_W1``
    all name W1; ``None`` for anything else."""
    if not isinstance(key, str):
        return None
    name = key.strip().lower()
    for prefix in ("grad_", "grad", "d_", "d"):
        if name.startswith(prefix) and name[len(prefix) :] in ("w1", "b1", "w2", "b2"):
            name = name[len(prefix) :]
            break
    return {param.lower(): param for param in PARAMS}.get(name)


def grads_by_name(value: Any) -> dict[str, Any]:
    """The student's gradients by parameter name, else WrongAnswer.

    The form is judged by ``shapes`` alone (``expect_grads_form``): a list or tuple of four in
    the order of ``params`` (W1, b1, W2, b2), or a dict whose keys name the four parameters
    another way (``dW1``, ``w1``), is read for its numbers, as a float32 gradient is."""
    if isinstance(value, dict):
        if all(key in value for key in PARAMS):
            return value
        named = {grad_key(key): item for key, item in value.items()}
        if len(value) == len(PARAMS) and set(named) == set(PARAMS):
            return named
    elif isinstance(value, list | tuple) and len(value) == len(PARAMS):
        return dict(zip(PARAMS, value, strict=True))
    have = sorted(map(str, value)) if isinstance(value, dict) else describe_type(value)
    raise WrongAnswer(f"{GRADS_FORM}; got {have}.")


def expect_grads_form(value: Any, *, where: str) -> None:
    """For ``shapes``: grads is a dict with exactly the keys W1, b1, W2, b2."""
    if isinstance(value, dict) and all(key in value for key in PARAMS):
        return
    grads_by_name(value)  # the WrongAnswer for a form that cannot be read at all
    if isinstance(value, dict):
        got = "the keys " + ", ".join(map(str, value))
        read = "each was read as the parameter it names"
    else:
        got = describe_type(value)
        read = "it was read in the order W1, b1, W2, b2, so only this item is charged"
    raise WrongAnswer(
        f"{GRADS_FORM}; got {got} (for {where}).\nHint: {read}; return "
        '{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, so code that looks a gradient up by '
        "its parameter's name finds it."
    )


def student_network(submission: Any, net: Net) -> tuple[Any, dict[str, Any]]:
    """The student's ``(loss, grads)`` for ``net``, grads by parameter name (its form is left to
    ``expect_grads_form``); the loss is returned unchecked."""
    loss, grads = raw_student_network(submission, net)
    return loss, grads_by_name(grads)


def raw_student_network(submission: Any, net: Net) -> tuple[Any, Any]:
    result = submission.mlp_loss_and_grads(net.X, net.targets, net.params)
    loss, grads = expect_tuple(result, ("loss", "grads"), function="mlp_loss_and_grads")
    return loss, grads


def reference_network(reference: ModuleType, net: Net) -> tuple[float, dict[str, np.ndarray]]:
    return reference.mlp_loss_and_grads(net.X, net.targets, net.params)


def network_loss(reference: ModuleType, net: Net) -> Callable[..., np.ndarray]:
    """The trusted loss as a function of the four parameters."""

    def loss(W1: np.ndarray, b1: np.ndarray, W2: np.ndarray, b2: np.ndarray) -> np.ndarray:
        params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        return np.asarray(reference.mlp_loss_and_grads(net.X, net.targets, params)[0])

    return loss


def conformed(claimed: Any, shape: tuple[int, ...], *, name: str, where: str) -> np.ndarray:
    """``claimed`` reshaped to ``shape`` when only axes of length 1 differ, else WrongAnswer.

    A (nested) list of numbers is read as an array, as ``expect_array(strict=False)`` reads
    it: its form is for ``shapes`` to judge."""
    if isinstance(claimed, list):
        with contextlib.suppress(ValueError, TypeError, OverflowError):
            claimed = np.asarray(claimed, dtype=np.float64)
    if not isinstance(claimed, np.ndarray) or not (
        np.issubdtype(claimed.dtype, np.floating) or np.issubdtype(claimed.dtype, np.integer)
    ):
        raise WrongAnswer(f"{name} should be a numpy array, but it is {describe_type(claimed)}.")
    squeezed = tuple(n for n in claimed.shape if n != 1)
    if claimed.size != int(np.prod(shape)) or squeezed != tuple(n for n in shape if n != 1):
        raise WrongAnswer(
            f"{name} has shape {claimed.shape}, expected {shape} (for {where}): a gradient has "
            "exactly the shape of its parameter."
        )
    return claimed.reshape(shape).astype(np.float64)


def expect_directional(
    f: Callable[..., np.ndarray],
    inputs: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    *,
    rng: np.random.Generator,
    what: str,
    where: str,
    hint: str,
) -> float:
    """``grads`` against central differences of ``f`` along random directions."""
    result = directional_check(f, inputs, ONE, grads, rng=rng, threshold=GRADIENT_THRESHOLD)
    if not result.passed:
        raise WrongAnswer(
            f"{what} does not match the numerical derivative of the network's loss along "
            f"random directions (for {where}): relative error {result.rel_error:.1e} "
            f"(allowed: {GRADIENT_THRESHOLD:.0e}).\nHint: {hint}"
        )
    return result.rel_error


# -- linear (the first assignment, reused) ----------------------------------------------------

LINEAR_SHAPES = {"B1": (1, 4, 3), "small": (2, 3, 5), "tall": (9, 2, 4)}
LINEAR_FORMULAS = {
    "y": "y = x @ W + b, shape (B, F)",
    "dx": "dx[b, i] = sum_j dy[b, j] W[i, j], i.e. dy @ W.T, shape (B, D)",
    "dW": "dW[i, j] = sum_b x[b, i] dy[b, j], i.e. x.T @ dy, shape (D, F)",
    "db": "db[j] = sum_b dy[b, j], shape (F,)",
}


def linear_case(rng: np.random.Generator, shape: str) -> dict[str, np.ndarray]:
    B, D, F = LINEAR_SHAPES[shape]
    return {
        "x": rng.standard_normal((B, D)),
        "W": rng.standard_normal((D, F)),
        "b": rng.standard_normal(F),
        "dy": rng.standard_normal((B, F)),
    }


def forward_of(module: Any, function: str, *args: Any) -> Any:
    """``module.function(*args)``; for the student's, the cache (item 1) stays in the worker,
    so each backward gets the forward's own object, as in plain Python."""
    if isinstance(module, ModuleType):  # the reference, imported here
        return getattr(module, function)(*args)
    return module.call(function, *args, keep=(1,))


def linear_outputs(module: Any, case: dict[str, np.ndarray]) -> dict[str, Any]:
    """``{"y", "dx", "dW", "db"}`` from ``module``'s linear layer (student or reference)."""
    forward = forward_of(module, "linear_forward", case["x"], case["W"], case["b"])
    y, cache = expect_tuple(forward, ("y", "cache"), function="linear_forward")
    backward = module.linear_backward(case["dy"], cache)
    grads = expect_tuple(backward, ("dx", "dW", "db"), function="linear_backward")
    return dict(zip(("y", "dx", "dW", "db"), (y, *grads), strict=True))


def linear_context(case: dict[str, np.ndarray], name: str) -> dict[str, Any]:
    B, D = case["x"].shape
    return {
        "where": f"the linear layer with B={B}, D={D}, F={case['W'].shape[1]}",
        "batch_size": B,
        "batch_sum": name == "db",
        "formula": LINEAR_FORMULAS[name],
    }


@pytest.mark.rubric("linear")
@pytest.mark.parametrize("shape", list(LINEAR_SHAPES))
def test_linear_layer(
    submission: Any, reference: ModuleType, rng: np.random.Generator, shape: str
) -> None:
    case = linear_case(rng, shape)
    mine = linear_outputs(submission, case)
    right = linear_outputs(reference, case)
    for name in ("y", "dx", "dW", "db"):
        expect_array(
            mine[name], right[name], name=name, strict=False, context=linear_context(case, name)
        )


# -- relu --------------------------------------------------------------------------------------

RELU_SHAPES = {"B1": (1, 7), "small": (4, 6), "tall": (15, 3), "wide": (3, 11)}


def student_relu(submission: Any, x: np.ndarray, dy: np.ndarray) -> tuple[Any, Any]:
    """The student's ``(y, dx)`` through their own forward and backward."""
    forward = forward_of(submission, "relu_forward", x)
    y, cache = expect_tuple(forward, ("y", "cache"), function="relu_forward")
    return y, submission.relu_backward(dy, cache)


def relu_where(x: np.ndarray) -> str:
    return f"relu on an array of shape {x.shape}"


@pytest.mark.rubric("relu")
@pytest.mark.parametrize("shape", list(RELU_SHAPES))
def test_relu_forward(
    submission: Any, reference: ModuleType, rng: np.random.Generator, shape: str
) -> None:
    x = rng.standard_normal(RELU_SHAPES[shape])
    x[rng.random(x.shape) < 0.2] = 0.0
    y, _ = expect_tuple(submission.relu_forward(x), ("y", "cache"), function="relu_forward")
    right, _ = reference.relu_forward(x)
    expect_array(
        y,
        right,
        name="y",
        strict=False,
        context={"where": relu_where(x), "formula": "y[i, j] = max(x[i, j], 0)"},
    )


@pytest.mark.rubric("relu")
@pytest.mark.parametrize("shape", list(RELU_SHAPES))
def test_relu_backward(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    x = nonzero(rng, RELU_SHAPES[shape])
    dy = rng.standard_normal(x.shape)
    _, dx = student_relu(submission, x, dy)
    _, cache = reference.relu_forward(x)
    right = reference.relu_backward(dy, cache)
    y = np.maximum(x, 0.0)
    context = {
        "where": relu_where(x),
        "formula": "dx[i, j] = dy[i, j] if x[i, j] > 0 else 0, i.e. dy times the 0/1 mask",
        "candidates": {
            "dx is dy multiplied by relu's output y instead of by the 0/1 mask [x > 0]: the "
            "derivative of max(x, 0) is 1 where x > 0 (whatever the size of x) and 0 "
            "elsewhere.": dy * y,
            "dx is dy unchanged: relu's backward pass must stop the gradient wherever x was "
            "negative (the 0/1 mask [x > 0]).": dy,
            "dx is dy masked where x < 0 instead of where x > 0: the gradient flows through "
            "the units that were active (positive).": dy * (x < 0),
        },
    }
    error = expect_array(dx, right, name="dx", strict=False, context=context)
    record_property("rel_error", error)

    def relu(x: np.ndarray) -> np.ndarray:
        return reference.relu_forward(x)[0]

    numerical = confirm_gradient(relu, {"x": x}, dy, "x", dx, name="dx", rng=rng, context=context)
    record_property("numerical_rel_error", numerical)


@pytest.mark.rubric("relu")
def test_relu_backward_at_the_kink(submission: Any, rng: np.random.Generator) -> None:
    x = nonzero(rng, (6, 8))
    at_kink = rng.random(x.shape) < 0.3
    x[at_kink] = 0.0
    dy = rng.standard_normal(x.shape)
    _, dx = student_relu(submission, x, dy)
    dx = conformed(dx, x.shape, name="dx", where=relu_where(x))
    if not np.isfinite(dx).all():
        raise WrongAnswer(
            f"dx contains NaN or infinity where x == 0 (for {relu_where(x)}).\nHint: relu has "
            "no derivative at exactly 0, but the backward pass must still return a number "
            "there: use the mask [x > 0] (subgradient 0). Dividing y by x to get the mask "
            "fails at x == 0."
        )
    away = ~at_kink
    expect_array(
        dx[away],
        np.where(x[away] > 0, dy[away], 0.0),
        name="dx away from x == 0",
        strict=False,
        context={"where": relu_where(x)},
    )
    # Any subgradient is accepted at the kink: s * dy with s in [0, 1], entry by entry.
    tolerance = VALUE_THRESHOLD * (np.abs(dy[at_kink]) + 1.0)
    between = dx[at_kink] * (dx[at_kink] - dy[at_kink]) <= tolerance * np.abs(dy[at_kink])
    if not between.all():
        raise WrongAnswer(
            f"where x == 0, dx is not between 0 and dy (for {relu_where(x)}).\nHint: at the "
            "kink any slope between relu's two slopes, 0 and 1, is a valid subgradient; the "
            "usual choice is 0, from the mask [x > 0]."
        )


# -- softmax cross-entropy ---------------------------------------------------------------------

# (B, C)
SOFTMAX_SHAPES: dict[str, tuple[int, int] | None] = {
    "B1": (1, 4),
    "small": (3, 5),
    "tall": (16, 3),
    "C2": (7, 2),
    "random": None,
    "large": (64, 10),
}
SOFTMAX_FORMULA = "dlogits[i, c] = (softmax(logits[i])[c] - [c == t[i]]) / B, shape (B, C)"


def softmax_case(rng: np.random.Generator, shape: str) -> tuple[np.ndarray, np.ndarray]:
    sizes = SOFTMAX_SHAPES[shape]
    if sizes is None:
        B, C = (int(n) for n in rng.choice(np.arange(2, 25), size=2, replace=False))
    else:
        B, C = sizes
    return rng.standard_normal((B, C)) * 2.0, rng.integers(0, C, size=B)


def student_softmax(submission: Any, logits: np.ndarray, targets: np.ndarray) -> tuple[Any, Any]:
    result = submission.softmax_cross_entropy(logits, targets)
    loss, dlogits = expect_tuple(result, ("loss", "dlogits"), function="softmax_cross_entropy")
    return loss, dlogits


def softmax_where(logits: np.ndarray) -> str:
    B, C = logits.shape
    return f"B={B}, C={C}"


def softmax_of_rows(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)


def softmax_of_columns(logits: np.ndarray) -> np.ndarray:
    """The softmax of each column, over the batch (axis 0): a classic wrong axis."""
    shifted = logits - logits.max(axis=0, keepdims=True)
    return np.exp(shifted) / np.exp(shifted).sum(axis=0, keepdims=True)


def classes_told_apart(B: int, C: int) -> bool:
    """Whether a division by C where B belongs (a factor B/C) differs from the generic scale
    mistakes: not when B/C is 1, 2 or 1/2 (a factor of 2), nor when C = B * B (an extra 1/B)."""
    return B != C and B != 2 * C and 2 * B != C and C != B * B


def wrong_dlogits(logits: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """dL/dlogits as each classic softmax mistake computes it, by the mistake's name."""
    B, C = logits.shape
    probs = softmax_of_rows(logits)
    onehot = np.zeros_like(probs)
    onehot[np.arange(B), targets] = 1.0
    every_column = probs.copy()
    every_column[:, targets] -= 1.0  # the fancy-indexing slip: a 1 off at (i, t[j]) for all i, j
    wrong = {
        "no_one_hot": probs / B,
        "columns": (softmax_of_columns(logits) - onehot) / B,
        "every_column": every_column / B,
    }
    if classes_told_apart(B, C):
        wrong["by_classes"] = (probs - onehot) / C
    return wrong


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


def wrong_losses(logits: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """The batch-mean cross-entropy as each classic softmax mistake computes it."""
    B, C = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    costs = -log_probs[np.arange(B), targets]
    last = float(costs[-1])
    wrong = {"last": last, "last_over_B": last / B}
    if B > 1:  # with one example, every column's softmax is 1: a loss of 0, as a placeholder's
        wrong["columns"] = float(-np.log(softmax_of_columns(logits)[np.arange(B), targets]).mean())
    if classes_told_apart(B, C):
        wrong["by_classes"] = float(costs.sum() / C)
    return wrong


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


def softmax_mistakes(logits: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """Wrong dlogits worth recognising, keyed by the hint to show."""
    return {
        DLOGITS_HINTS[kind].format(name="dlogits"): wrong
        for kind, wrong in wrong_dlogits(logits, targets).items()
    }


def loss_mistakes(
    logits: np.ndarray, targets: np.ndarray, name: str = "the loss"
) -> dict[str, np.ndarray]:
    """Wrong losses worth recognising, keyed by the hint to show (``name`` is the loss's)."""
    return {
        LOSS_HINTS[kind].format(name=name): np.asarray(wrong)
        for kind, wrong in wrong_losses(logits, targets).items()
    }


@pytest.mark.rubric("softmax_ce")
@pytest.mark.parametrize("shape", list(SOFTMAX_SHAPES))
def test_softmax_ce_loss(
    submission: Any, reference: ModuleType, rng: np.random.Generator, shape: str
) -> None:
    logits, targets = softmax_case(rng, shape)
    loss, _ = student_softmax(submission, logits, targets)
    loss = as_number(loss, name="loss", function="softmax_cross_entropy")
    right, _ = reference.softmax_cross_entropy(logits, targets)
    expect_array(
        loss,
        np.asarray(right),
        name="the loss",
        strict=False,
        context={
            "where": softmax_where(logits),
            "formula": "L = (1/B) sum_i -log softmax(logits[i])[t[i]], a mean over the batch",
            "batch_size": logits.shape[0],  # a sum instead of the mean is B times the loss
            "candidates": loss_mistakes(logits, targets),
        },
    )


@pytest.mark.rubric("softmax_ce")
@pytest.mark.parametrize("shape", list(SOFTMAX_SHAPES))
def test_softmax_ce_gradient(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    logits, targets = softmax_case(rng, shape)
    _, dlogits = student_softmax(submission, logits, targets)
    _, right = reference.softmax_cross_entropy(logits, targets)
    context = {
        "where": softmax_where(logits),
        "batch_size": logits.shape[0],
        "formula": SOFTMAX_FORMULA,
        "candidates": softmax_mistakes(logits, targets),
    }
    error = expect_array(dlogits, right, name="dlogits", strict=False, context=context)
    record_property("rel_error", error)

    def loss(logits: np.ndarray) -> np.ndarray:
        return np.asarray(reference.softmax_cross_entropy(logits, targets)[0])

    numerical = confirm_gradient(
        loss, {"logits": logits}, ONE, "logits", dlogits, name="dlogits", rng=rng, context=context
    )
    record_property("numerical_rel_error", numerical)


STABILITY_HINT = (
    "exp overflows for logits in the hundreds (exp(710) is already infinite in float64) and "
    "underflows to 0 for large negative ones. softmax(z) = softmax(z - max(z)): subtract each "
    "row's own maximum before exponentiating (the maximum of the whole array leaves a row far "
    "below it all zeros), and compute log softmax as (z - max) - log(sum(exp(z - max))), never "
    "as np.log(p): a probability that rounded to 0 has no logarithm."
)
LARGE_LOGITS = ["large_positive", "large_negative", "wide_rows", "rows_far_apart"]
LARGE_WHERE = {
    "large_positive": "logits near +1000",
    "large_negative": "logits near -1000",
    "wide_rows": "rows spanning -1000 to +1000, most targets at a row's minimum",
    "rows_far_apart": "rows near +1000, +500, 0, -500 and -1000",
}


def large_logits(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(B=5, C=4) logits in the thousands that only a softmax stable row by row survives."""
    B, C = 5, 4
    noise = 5.0 * rng.standard_normal((B, C))
    targets = rng.integers(0, C, size=B)
    if kind == "large_positive":
        return 1000.0 + noise, targets
    if kind == "large_negative":
        return -1000.0 + noise, targets
    if kind == "wide_rows":
        # Each row holds +1000, -1000 and two values between, in a random order; for three rows
        # the target is the -1000 (its probability, exp(-2000), is 0 in float64, so np.log(p)
        # is -inf; the right loss for it is about 2000).
        logits = np.empty((B, C))
        for i in range(B):
            row = np.array([1000.0, -1000.0, *rng.uniform(-900.0, 900.0, size=C - 2)])
            order = rng.permutation(C)
            logits[i, order] = row
            if i < 3:
                targets[i] = order[1]
        return logits + 0.01 * noise, targets
    # rows_far_apart: every row near its own offset, hundreds from the others' (in a random
    # order), so shifting by the maximum of the whole array leaves every row but the highest
    # below exp's range: all zeros.
    offsets = rng.permutation(np.array([1000.0, 500.0, 0.0, -500.0, -1000.0]))
    return offsets[:, None] + noise, targets


@pytest.mark.rubric("softmax_ce")
@pytest.mark.parametrize("kind", LARGE_LOGITS)
def test_softmax_ce_large_logits(
    submission: Any, reference: ModuleType, rng: np.random.Generator, kind: str
) -> None:
    logits, targets = large_logits(rng, kind)
    loss, dlogits = student_softmax(submission, logits, targets)
    loss = as_number(loss, name="loss", function="softmax_cross_entropy")
    where = f"{LARGE_WHERE[kind]}, B=5, C=4"
    finite = np.isfinite(loss) and (
        not isinstance(dlogits, np.ndarray)
        or not np.issubdtype(dlogits.dtype, np.number)
        or np.isfinite(dlogits).all()
    )
    if not finite:
        raise WrongAnswer(
            f"the loss or dlogits contains NaN or infinity (for {where}).\nHint: {STABILITY_HINT}"
        )
    right_loss, right_grad = reference.softmax_cross_entropy(logits, targets)
    context = {"where": where, "batch_size": 5, "formula": SOFTMAX_FORMULA}
    try:
        expect_array(loss, np.asarray(right_loss), name="the loss", strict=False, context=context)
        expect_array(dlogits, right_grad, name="dlogits", strict=False, context=context)
    except WrongAnswer as wrong:
        if "\nHint:" in str(wrong) or not right_on_ordinary_logits(submission, reference, rng):
            raise  # wrong on ordinary logits too: the other checks of the item say how
        # Finite but wrong only here (a clipped np.log(p + eps)): most likely a stability problem.
        raise WrongAnswer(f"{wrong}\nHint: {STABILITY_HINT}") from None


def right_on_ordinary_logits(
    submission: Any, reference: ModuleType, rng: np.random.Generator
) -> bool:
    """Whether the submission's softmax cross-entropy is right on logits of a few units (B=5,
    C=4): only then is a wrong answer on large logits a stability problem."""
    logits, targets = 3.0 * rng.standard_normal((5, 4)), rng.integers(0, 4, size=5)
    right_loss, right_grad = reference.softmax_cross_entropy(logits, targets)
    try:
        loss, dlogits = student_softmax(submission, logits, targets)
        loss = as_number(loss, name="the loss", function="softmax_cross_entropy")
        expect_array(loss, np.asarray(right_loss), name="the loss", strict=False)
        expect_array(dlogits, right_grad, name="dlogits", strict=False)
    except (WrongAnswer, StudentError):
        return False
    return True


# -- the network's gradients, one parameter at a time ------------------------------------------


NETWORK_DLOGITS_HINTS = {
    "no_one_hot": "{name} is what you get when dL/dY2 is softmax / B without the one-hot of the "
    "target subtracted (see the item softmax_ce).",
    "columns": "{name} is what you get when the softmax is taken of each column of Y2 (over the "
    "batch, axis 0) instead of each row (see the item softmax_ce).",
    "every_column": "{name} is what you get when dL/dY2 has 1 subtracted in every row at the "
    "column of every target (dY2[:, t] -= 1) instead of once per example, at (i, t[i]) (see "
    "the item softmax_ce).",
    "by_classes": "{name} is B/C times the right answer: what you get when dL/dY2 is divided "
    "by C, the number of classes, instead of B, the number of examples (see the item "
    "softmax_ce).",
}


def network_mistakes(key: str, net: Net, right: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Wrong answers worth recognising for ``grads[key]``, keyed by the hint to show."""
    X, p = net.X, net.params
    B = X.shape[0]
    Y1 = X @ p["W1"] + p["b1"]
    Hd = np.maximum(Y1, 0.0)
    Y2 = Hd @ p["W2"] + p["b2"]
    probs = softmax_of_rows(Y2)
    onehot = np.zeros_like(probs)
    onehot[np.arange(B), net.targets] = 1.0

    def backward(dY2: np.ndarray, local: np.ndarray, first_input: np.ndarray) -> np.ndarray:
        """``grads[key]`` from a given dY2, relu derivative ``local`` and layer-2 input."""
        dY1 = (dY2 @ p["W2"].T) * local
        return {
            "W2": first_input.T @ dY2,
            "b2": dY2.sum(axis=0),
            "W1": X.T @ dY1,
            "b1": dY1.sum(axis=0),
        }[key]

    mask = (Y1 > 0).astype(np.float64)
    dY2 = (probs - onehot) / B
    mistakes: dict[str, np.ndarray] = {}
    # Another parameter's gradient, of its own shape or (by chance) of this one's: W1 and W2
    # swapped shows as a wrong shape, and that shape is the other parameter's.
    for other in PARAMS:
        if other != key:
            mistakes[f"grads['{key}'] holds the gradient of {other}: check the dict's keys."] = (
                right[other]
            )
    for kind, wrong_dY2 in wrong_dlogits(Y2, net.targets).items():
        hint = NETWORK_DLOGITS_HINTS[kind].format(name=f"grads['{key}']")
        mistakes[hint] = backward(wrong_dY2, mask, Hd)
    if key == "W2":
        mistakes[
            "grads['W2'] was computed from the pre-activation Y1 instead of the layer's actual "
            "input relu(Y1): the second layer multiplies relu(Y1), so that is what its weight "
            "gradient pairs with dY2."
        ] = backward(dY2, mask, Y1)
    if key in ("W1", "b1"):
        mistakes[
            f"grads['{key}'] ignores relu: the gradient reaching the first layer must be "
            "masked by [Y1 > 0] (relu_backward) before it goes through linear_backward."
        ] = backward(dY2, np.ones_like(mask), Hd)
        mistakes[
            f"grads['{key}'] is what you get when relu_backward multiplies by relu's output "
            "instead of the 0/1 mask [Y1 > 0]."
        ] = backward(dY2, Hd, Hd)
        mistakes[
            f"grads['{key}'] is what you get when relu_backward masks where Y1 < 0 instead of "
            "where Y1 > 0: the gradient flows through the units that were active (see the item "
            "relu)."
        ] = backward(dY2, 1.0 - mask, Hd)
    return mistakes


def check_parameter(
    key: str,
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    """``grads[key]`` against the reference, then along random directions numerically."""
    net = make_net(rng, shape)
    _, grads = student_network(submission, net)
    _, right = reference_network(reference, net)
    name = f"grads['{key}']"
    context = net.context(key, network_mistakes(key, net, right))
    error = expect_array(grads[key], right[key], name=name, strict=False, context=context)
    record_property("rel_error", error)
    claimed = conformed(grads[key], net.params[key].shape, name=name, where=net.where)
    numerical = expect_directional(
        network_loss(reference, net),
        net.params,
        {key: claimed},
        rng=rng,
        what=name,
        where=net.where,
        hint=f"the right answer: {FORMULAS[key]}.",
    )
    record_property("numerical_rel_error", numerical)


@pytest.mark.rubric("dW2")
@pytest.mark.parametrize("shape", PARAM_SHAPES)
def test_dW2(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_parameter("W2", submission, reference, rng, shape, record_property)


@pytest.mark.rubric("db2")
@pytest.mark.parametrize("shape", PARAM_SHAPES)
def test_db2(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_parameter("b2", submission, reference, rng, shape, record_property)


@pytest.mark.rubric("dW1")
@pytest.mark.parametrize("shape", PARAM_SHAPES)
def test_dW1(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_parameter("W1", submission, reference, rng, shape, record_property)


@pytest.mark.rubric("db1")
@pytest.mark.parametrize("shape", PARAM_SHAPES)
def test_db1(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_parameter("b1", submission, reference, rng, shape, record_property)


def network_logits(net: Net) -> np.ndarray:
    """Y2 of the right forward pass: what the softmax of the network's loss receives."""
    p = net.params
    return np.maximum(net.X @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]


# -- end to end --------------------------------------------------------------------------------


@pytest.mark.rubric("end_to_end")
@pytest.mark.parametrize("shape", list(NETWORKS))
def test_network_loss(
    submission: Any, reference: ModuleType, rng: np.random.Generator, shape: str
) -> None:
    net = make_net(rng, shape)
    loss, _ = student_network(submission, net)
    loss = as_number(loss, name="loss", function="mlp_loss_and_grads")
    right, _ = reference_network(reference, net)
    expect_array(
        loss,
        np.asarray(right),
        name="the network's loss",
        strict=False,
        context={
            "where": net.where,
            "formula": "L = (1/B) sum_i -log softmax(Y2[i])[t[i]] with "
            "Y2 = relu(X @ W1 + b1) @ W2 + b2",
            "batch_size": net.sizes[0],
            "candidates": loss_mistakes(network_logits(net), net.targets, "the network's loss"),
        },
    )


@pytest.mark.rubric("end_to_end")
@pytest.mark.parametrize("shape", ["large", "B1", "random"])
def test_whole_network_gradient(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    net = make_net(rng, shape)
    _, grads = student_network(submission, net)
    claimed = {
        key: conformed(grads[key], net.params[key].shape, name=f"grads['{key}']", where=net.where)
        for key in PARAMS
    }
    error = expect_directional(
        network_loss(reference, net),
        net.params,
        claimed,
        rng=rng,
        what="the gradient of the whole network (all four parameters together)",
        where=net.where,
        hint="the items dW2, db2, dW1 and db1 check each parameter on its own and say which "
        "one is wrong.",
    )
    record_property("numerical_rel_error", error)


# -- shapes ------------------------------------------------------------------------------------

OUTPUTS = (
    "linear y",
    "linear dx",
    "linear dW",
    "linear db",
    "relu y",
    "relu dx",
    "softmax loss",
    "softmax dlogits",
    "network loss",
    "grads W1",
    "grads b1",
    "grads W2",
    "grads b2",
)


def expect_number_layout(value: Any, right: float, *, name: str, function: str, where: str) -> None:
    """A loss must be one float64 number (a float, np.float64 or 0-d array) of float64 precision."""
    if isinstance(value, np.ndarray) and value.shape != ():
        raise WrongAnswer(
            f"{function} returned {name} as {describe_type(value)} (for {where}); it should be a "
            "single number.\nHint: .mean() or .sum() without axis= and without keepdims gives "
            "a single number."
        )
    number = as_number(value, name=name, function=function)
    if not isinstance(value, float) and number.dtype != np.float64:
        raise WrongAnswer(
            f"{name} has dtype {number.dtype}, expected float64 (for {where}).\nHint: keep "
            "everything in float64 (numpy's default); look for np.float32 and .astype(...)."
        )
    expect_layout(
        number, name=name, shape=(), reference=np.asarray(right), context={"where": where}
    )


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("shape", LAYOUT_SHAPES)
def test_shape_dtype_precision(
    submission: Any, reference: ModuleType, rng: np.random.Generator, shape: str, output: str
) -> None:
    net = make_net(rng, shape)
    B, D, H, C = net.sizes
    where = net.where
    piece, name = output.split()
    if piece == "linear":
        case = {
            "x": net.X,
            "W": net.params["W1"],
            "b": net.params["b1"],
            "dy": rng.standard_normal((B, H)),
        }
        actual = linear_outputs(submission, case)[name]
        right = linear_outputs(reference, case)[name]
        expected_shape = {"y": (B, H), "dx": (B, D), "dW": (D, H), "db": (H,)}[name]
    elif piece == "relu":
        x, dy = nonzero(rng, (B, H)), rng.standard_normal((B, H))
        actual = dict(zip(("y", "dx"), student_relu(submission, x, dy), strict=True))[name]
        y, cache = reference.relu_forward(x)
        right = {"y": y, "dx": reference.relu_backward(dy, cache)}[name]
        expected_shape = (B, H)
    elif piece == "softmax":
        logits = rng.standard_normal((B, C))
        mine = student_softmax(submission, logits, net.targets)
        ref = reference.softmax_cross_entropy(logits, net.targets)
        if name == "loss":
            expect_number_layout(
                mine[0], ref[0], name="loss", function="softmax_cross_entropy", where=where
            )
            return
        actual, right, expected_shape = mine[1], ref[1], (B, C)
    else:
        loss, grads = raw_student_network(submission, net)
        right_loss, right_grads = reference_network(reference, net)
        if name == "loss":
            expect_number_layout(
                loss, right_loss, name="loss", function="mlp_loss_and_grads", where=where
            )
            return
        expect_grads_form(grads, where=where)
        actual, right = grads[name], right_grads[name]
        name = f"grads['{name}']"
        expected_shape = right.shape
    expect_layout(
        actual,
        name=name,
        shape=expected_shape,
        reference=right,
        context={"where": where, "batch_size": B},
    )


# -- purity ------------------------------------------------------------------------------------


@pytest.mark.rubric("purity")
def test_linear_leaves_its_arguments_unchanged(submission: Any, rng: np.random.Generator) -> None:
    case = linear_case(rng, "tall")
    result, after = submission.call(
        "linear_forward", case["x"], case["W"], case["b"], echo_args=True, keep=(1,)
    )
    _, cache = expect_tuple(result, ("y", "cache"), function="linear_forward")
    for name, now in zip(("x", "W", "b"), after, strict=True):
        expect_unchanged(case[name], now, name=name, function="linear_forward")
    _, after = submission.call("linear_backward", case["dy"], cache, echo_args=True)
    expect_unchanged(case["dy"], after[0], name="dy", function="linear_backward")


@pytest.mark.rubric("purity")
def test_relu_leaves_its_arguments_unchanged(submission: Any, rng: np.random.Generator) -> None:
    x, dy = nonzero(rng, (5, 6)), rng.standard_normal((5, 6))
    result, after = submission.call("relu_forward", x, echo_args=True, keep=(1,))
    expect_unchanged(x, after[0], name="x", function="relu_forward")
    _, cache = expect_tuple(result, ("y", "cache"), function="relu_forward")
    _, after = submission.call("relu_backward", dy, cache, echo_args=True)
    expect_unchanged(dy, after[0], name="dy", function="relu_backward")


@pytest.mark.rubric("purity")
def test_softmax_ce_leaves_its_arguments_unchanged(
    submission: Any, rng: np.random.Generator
) -> None:
    logits, targets = softmax_case(rng, "small")
    _, after = submission.call("softmax_cross_entropy", logits, targets, echo_args=True)
    expect_unchanged(logits, after[0], name="logits", function="softmax_cross_entropy")
    expect_unchanged(targets, after[1], name="targets", function="softmax_cross_entropy")


@pytest.mark.rubric("purity")
def test_network_leaves_its_arguments_unchanged(submission: Any, rng: np.random.Generator) -> None:
    net = make_net(rng, "small")
    _, after = submission.call("mlp_loss_and_grads", net.X, net.targets, net.params, echo_args=True)
    function = "mlp_loss_and_grads"
    expect_unchanged(net.X, after[0], name="X", function=function)
    expect_unchanged(net.targets, after[1], name="targets", function=function)
    params = after[2]
    if not isinstance(params, dict) or set(params) != set(net.params):
        raise WrongAnswer(
            "mlp_loss_and_grads changed the keys of its argument params.\nHint: build a new "
            "dict for the gradients; leave params as you found it."
        )
    for key in PARAMS:
        expect_unchanged(net.params[key], params[key], name=f"params['{key}']", function=function)


@pytest.mark.rubric("purity")
def test_the_network_computes_from_its_inputs(submission: Any, rng: np.random.Generator) -> None:
    # Purity is credited only to code that computes from its inputs, not to a constant.
    answers = []
    for _ in range(2):
        net = make_net(rng, "small")
        result = submission.mlp_loss_and_grads(net.X, net.targets, net.params)
        loss, grads = expect_tuple(result, ("loss", "grads"), function="mlp_loss_and_grads")
        values = [grads.get(key) for key in PARAMS] if isinstance(grads, dict) else [grads]
        answers.append([loss, *values])
    expect_uses_inputs("mlp_loss_and_grads", answers[0], answers[1])


@pytest.mark.rubric("purity")
def test_relu_interleaved_calls(submission: Any, rng: np.random.Generator) -> None:
    cases = [(nonzero(rng, (3, 4)), rng.standard_normal((3, 4))) for _ in range(2)]
    alone = [student_relu(submission, x, dy)[1] for x, dy in cases]
    caches = [
        expect_tuple(
            forward_of(submission, "relu_forward", x), ("y", "cache"), function="relu_forward"
        )[1]
        for x, _ in cases
    ]
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
def test_linear_backward_twice_on_one_cache(submission: Any, rng: np.random.Generator) -> None:
    case = linear_case(rng, "tall")
    forward = forward_of(submission, "linear_forward", case["x"], case["W"], case["b"])
    _, cache = expect_tuple(forward, ("y", "cache"), function="linear_forward")
    grads = ("dx", "dW", "db")
    once, twice = (
        expect_tuple(
            submission.linear_backward(case["dy"], cache), grads, function="linear_backward"
        )
        for _ in range(2)
    )
    expect_consistent(
        once,
        twice,
        names=grads,
        problem="calling linear_backward twice with the same dy and cache gave two answers",
        hint=BACKWARD_TWICE_HINT.format(function="linear_backward"),
    )


@pytest.mark.rubric("purity")
def test_relu_backward_twice_on_one_cache(submission: Any, rng: np.random.Generator) -> None:
    x, dy = nonzero(rng, (5, 6)), rng.standard_normal((5, 6))
    forward = forward_of(submission, "relu_forward", x)
    _, cache = expect_tuple(forward, ("y", "cache"), function="relu_forward")
    once = submission.relu_backward(dy, cache)
    twice = submission.relu_backward(dy, cache)
    expect_consistent(
        [once],
        [twice],
        names=["dx"],
        problem="calling relu_backward twice with the same dy and cache gave two answers",
        hint=BACKWARD_TWICE_HINT.format(function="relu_backward"),
    )
