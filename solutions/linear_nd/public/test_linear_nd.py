"""Public tests for the linear layer over leading dimensions: run ``pytest`` here.

They mirror the rubric items the grader uses, on a small example you can check by hand and on
numerical gradient checks through *your own* ``linear_nd_forward``. The grader's hidden tests
are stricter: one, two and three leading axes, axes of length 1, hidden random inputs, a large
case, several empty batches, and numerical gradients through the instructor's forward pass --
so passing these is necessary, not sufficient.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.checks import (
    differentiable_output,
    expect_array,
    expect_consistent,
    expect_layout,
    expect_tuple,
    expect_unchanged,
)
from autograder.errors import WrongAnswer
from autograder.gradcheck import numerical_vjp

# A batch of B = 2 sequences of T = 3 steps with D = 2 features each, mapped to F = 4 outputs.
# Read as 2-D, x is the 6 rows [1, 0], [0, 1], [1, 1], [2, 0], [0, -1], [1, 2].
X0 = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[2.0, 0.0], [0.0, -1.0], [1.0, 2.0]]])
W0 = np.array([[1.0, 2.0, 0.0, -1.0], [0.0, 1.0, 1.0, 3.0]])
BIAS0 = np.array([0.0, 1.0, 0.0, -1.0])
DY0 = np.array(
    [
        [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
        [[0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]],
    ]
)

# In README.md's letters, position (s, t) is step t of sequence s.
# y[s, t, k] = sum_j x[s, t, j] W[j, k] + b[k]; e.g. y[1, 2, 3] = 1*(-1) + 2*3 - 1 = 4.
Y0 = np.array(
    [
        [[1.0, 3.0, 0.0, -2.0], [0.0, 2.0, 1.0, 2.0], [1.0, 4.0, 1.0, 1.0]],
        [[2.0, 5.0, 0.0, -3.0], [0.0, 0.0, -1.0, -4.0], [1.0, 5.0, 2.0, 4.0]],
    ]
)
# dx[s, t, i] = sum_k dy[s, t, k] W[i, k]: one 2-D product per position, shape (2, 3, 2).
# e.g. dx[1, 0] = dy[1, 0] @ W.T = (W[0, 3], W[1, 3]) = (-1, 3).
DX0 = np.array([[[1.0, 0.0], [2.0, 1.0], [0.0, 1.0]], [[-1.0, 3.0], [3.0, 1.0], [1.0, -2.0]]])
# dW[i, j] = sum over all 6 positions (s, t) of x[s, t, i] dy[s, t, j].
# e.g. dW[1, 2] = x[0, 2, 1] * 1 + x[1, 2, 1] * 1 = 1 + 2 = 3 (dy[., ., 2] is 1 at two positions).
DW0 = np.array([[1.0, 0.0, 2.0, 1.0], [-1.0, 0.0, 3.0, -2.0]])
# db[j] = sum over all 6 positions (s, t) of dy[s, t, j].
DB0 = np.array([2.0, 2.0, 2.0, 0.0])

GRADS = ("dx", "dW", "db")
EXAMPLE = {"where": "the worked example, x of shape (2, 3, 2), F=4"}


def forward(submission: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[Any, Any]:
    # keep=(1,): the cache stays with your code, and every backward it is passed to gets that
    # very object, as in plain Python; so a backward that changes its cache shows it next time.
    result = submission.call("linear_nd_forward", x, W, b, keep=(1,))
    return expect_tuple(result, ("y", "cache"), function="linear_nd_forward")


def backward(submission: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, dy: np.ndarray) -> dict:
    _, cache = forward(submission, x, W, b)
    result = submission.linear_nd_backward(dy, cache)
    return dict(zip(GRADS, expect_tuple(result, GRADS, function="linear_nd_backward"), strict=True))


def mistakes(name: str, x: np.ndarray, dy: np.ndarray, right: np.ndarray) -> dict[str, Any]:
    """Wrong answers worth recognising for ``name`` (dW or db), keyed by the hint to show."""
    if name not in ("dW", "db"):
        return {}
    positions = int(np.prod(x.shape[:-1]))
    D, F = x.shape[-1], dy.shape[-1]
    first_axis_only = {
        "dW": np.einsum("a...i,a...j->...ij", x, dy),
        "db": dy.sum(axis=0),
    }[name]
    found = {
        f"{name} was summed over the first axis only: W and b are shared by every leading "
        "position, so the sum runs over every leading axis (all but the last).": first_axis_only,
        f"{name} is the mean over the {positions} leading positions instead of the sum (1/N "
        "of the right answer, N = the number of positions). Every position adds its own "
        "contribution; if the loss averages, its 1/N is already inside dy.": right / positions,
        f"{name} is divided by the size of the first axis: the backward pass sums over every "
        "leading position and divides by nothing; a mean in the loss is already inside "
        "dy.": right / x.shape[0],
    }
    if name == "dW":
        found[
            "dW pairs the wrong numbers: x.reshape(D, -1) does not give one row per position "
            "(reshape fills row by row in memory order). Use x.reshape(-1, D), which keeps "
            "the last axis intact."
        ] = x.reshape(D, -1) @ dy.reshape(-1, F)
    return found


def expect_leading_axes(
    actual: Any, expected_shape: tuple[int, ...], *, name: str, where: str, strict: bool
) -> None:
    """Explain a ``(N, last)`` array where ``(..., last)`` was due: the leading axes flattened.

    ``strict=False`` (value checks) lets through what they forgive anyway: shapes that differ
    only by axes of length 1.
    """
    if not isinstance(actual, np.ndarray) or len(expected_shape) < 3:
        return
    flattened = (int(np.prod(expected_shape[:-1])), expected_shape[-1])
    if actual.shape != flattened:
        return
    if not strict and [n for n in flattened if n != 1] == [n for n in expected_shape if n != 1]:
        return
    raise WrongAnswer(
        f"{name} has shape {actual.shape}, expected {expected_shape} (for {where}).\nHint: "
        f"the leading axes of {name} are flattened into one. It must keep every leading axis "
        "of x: if you computed it on the 2-D view, reshape the result back to "
        "x.shape[:-1] + (its last axis,)."
    )


def random_inputs(seed: int, leading: tuple[int, ...], D: int, F: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((*leading, D)),
        "W": rng.standard_normal((D, F)),
        "b": rng.standard_normal(F),
        "dy": rng.standard_normal((*leading, F)),
    }


@pytest.mark.rubric("forward")
def test_forward_worked_example(submission: Any) -> None:
    y, _ = forward(submission, X0, W0, BIAS0)
    expect_leading_axes(y, Y0.shape, name="y", where=EXAMPLE["where"], strict=False)
    expect_array(y, Y0, name="y", strict=False, context=EXAMPLE)


@pytest.mark.rubric("forward")
def test_forward_one_leading_axis(submission: Any) -> None:
    # With one leading axis this is the layer of the first assignment.
    y, _ = forward(submission, X0.reshape(6, 2), W0, BIAS0)
    expect_array(
        y, Y0.reshape(6, 4), name="y", strict=False, context={"where": "x of shape (6, 2)"}
    )


@pytest.mark.rubric("dx")
def test_dx_worked_example(submission: Any) -> None:
    dx = backward(submission, X0, W0, BIAS0, DY0)["dx"]
    expect_leading_axes(dx, DX0.shape, name="dx", where=EXAMPLE["where"], strict=False)
    expect_array(dx, DX0, name="dx", strict=False, context=EXAMPLE)


@pytest.mark.rubric("dW")
def test_dW_worked_example(submission: Any) -> None:
    dW = backward(submission, X0, W0, BIAS0, DY0)["dW"]
    context = {**EXAMPLE, "candidates": mistakes("dW", X0, DY0, DW0)}
    expect_array(dW, DW0, name="dW", strict=False, context=context)


@pytest.mark.rubric("db")
def test_db_worked_example(submission: Any) -> None:
    db = backward(submission, X0, W0, BIAS0, DY0)["db"]
    context = {**EXAMPLE, "batch_sum": True, "candidates": mistakes("db", X0, DY0, DB0)}
    expect_array(db, DB0, name="db", strict=False, context=context)


def forward_note(submission: Any) -> str:
    """What a failed numerical check adds: it differentiates *your* linear_nd_forward, so it
    means little until that gets the worked example's numbers right (then: nothing)."""
    try:
        expect_array(forward(submission, X0, W0, BIAS0)[0], Y0, name="y", strict=False)
        return ""
    except Exception:  # its own test says what is wrong with it
        pass
    return (
        "\nNote: this check differentiates your own linear_nd_forward, which does not give the "
        "worked example's y yet: fix the forward pass first."
    )


# y is affine in each of x, W and b, so a central difference is exact whatever its step. A step
# of 1 keeps it exact even if your linear_nd_forward rounds to float32: that costs only
# `shapes`, which says so.
STEP = 1.0


def numerical_check(submission: Any, wrt: str, name: str) -> None:
    """``name`` against central differences of *your* forward pass, x of shape (3, 4, 2, 5)."""
    data = random_inputs(seed=0, leading=(3, 4, 2), D=5, F=6)
    x, W, b, dy = data["x"], data["W"], data["b"], data["dy"]
    grads = backward(submission, x, W, b, dy)

    def y(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = forward(submission, x, W, b)[0]
        return differentiable_output(out, dy.shape, name=name, function="linear_nd_forward")

    numerical = numerical_vjp(y, {"x": x, "W": W, "b": b}, dy, wrt, eps=STEP)
    context = {
        "where": "x of shape (3, 4, 2, 5), F=6, against central differences",
        "batch_sum": name == "db",
        "candidates": mistakes(name, x, dy, numerical),
    }
    try:
        expect_leading_axes(
            grads[name], numerical.shape, name=name, where=context["where"], strict=False
        )
        expect_array(grads[name], numerical, name=name, strict=False, context=context)
    except WrongAnswer as wrong:
        note = forward_note(submission)
        if note:  # a diagnosis of the difference from a wrong forward pass would mislead
            raise WrongAnswer(f"{str(wrong).splitlines()[0]}{note}") from None
        raise


@pytest.mark.rubric("dx")
def test_dx_numerical_gradient(submission: Any) -> None:
    numerical_check(submission, "x", "dx")


@pytest.mark.rubric("dW")
def test_dW_numerical_gradient(submission: Any) -> None:
    numerical_check(submission, "W", "dW")


@pytest.mark.rubric("db")
def test_db_numerical_gradient(submission: Any) -> None:
    numerical_check(submission, "b", "db")


LEADING = {"one_axis": (5,), "two_axes": (2, 3), "three_axes": (2, 3, 4)}
# The worked example with x, b and dy divided by 10 (W as it is): then y, dx and db are the
# worked answers divided by 10, and dW by 100. Unlike the worked example's integers, these
# numbers are not exact in float32, so a result computed through float32 and cast back to
# float64 shows it here: float64 precision is part of `shapes`, as in grading.
TENTH = {"x": X0 / 10, "W": W0, "b": BIAS0 / 10, "dy": DY0 / 10}
TENTH_RIGHT = {"y": Y0 / 10, "dx": DX0 / 10, "dW": DW0 / 100, "db": DB0 / 10}


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", ["y", *GRADS])
@pytest.mark.parametrize("leading", [*LEADING, "float64_precision"])
def test_shape_and_dtype(submission: Any, leading: str, output: str) -> None:
    if leading == "float64_precision":
        data, right = TENTH, TENTH_RIGHT[output]
        where = (
            "the worked example with x, b and dy divided by 10 (W as it was), so float32 "
            "cannot hold the numbers exactly, x of shape (2, 3, 2), F=4"
        )
    else:
        data, right = random_inputs(seed=1, leading=LEADING[leading], D=3, F=7), None
        where = f"x of shape {data['x'].shape}"
    x, W, b, dy = data["x"], data["W"], data["b"], data["dy"]
    if output == "y":
        actual = forward(submission, x, W, b)[0]
    else:
        actual = backward(submission, x, W, b, dy)[output]
    lead, (D, F) = x.shape[:-1], W.shape
    expected = {"y": (*lead, F), "dx": (*lead, D), "dW": (D, F), "db": (F,)}[output]
    expect_leading_axes(actual, expected, name=output, where=where, strict=True)
    candidates = mistakes(output, x, dy, right) if right is not None else {}
    expect_layout(
        actual,
        name=output,
        shape=expected,
        reference=right,
        context={"where": where, "candidates": candidates},
    )


@pytest.mark.rubric("empty")
def test_empty_batch(submission: Any) -> None:
    # No sequences at all: x has shape (0, 3, 2). There is nothing to sum, so dW and db are
    # zeros of their usual shapes, and y and dx are empty.
    x, dy = np.zeros((0, 3, 2)), np.zeros((0, 3, 4))
    y, cache = forward(submission, x, W0, BIAS0)
    where = "x of shape (0, 3, 2), F=4"
    expect_leading_axes(y, (0, 3, 4), name="y", where=where, strict=False)
    context = {"where": where}
    expect_array(y, np.zeros((0, 3, 4)), name="y", strict=False, context=context)
    result = submission.linear_nd_backward(dy, cache)
    dx, dW, db = expect_tuple(result, GRADS, function="linear_nd_backward")
    expect_leading_axes(dx, x.shape, name="dx", where=where, strict=False)
    expect_array(dx, np.zeros((0, 3, 2)), name="dx", strict=False, context=context)
    expect_array(dW, np.zeros((2, 4)), name="dW", strict=False, context=context)
    expect_array(db, np.zeros(4), name="db", strict=False, context=context)


@pytest.mark.rubric("purity")
def test_forward_leaves_inputs_unchanged(submission: Any) -> None:
    x, W, b = X0.copy(), W0.copy(), BIAS0.copy()
    _, after = submission.call("linear_nd_forward", x, W, b, echo_args=True)
    for name, before, now in zip(("x", "W", "b"), (X0, W0, BIAS0), after, strict=True):
        expect_unchanged(before, now, name=name, function="linear_nd_forward")


@pytest.mark.rubric("purity")
def test_backward_leaves_dy_unchanged(submission: Any) -> None:
    _, cache = forward(submission, X0, W0, BIAS0)
    _, after = submission.call("linear_nd_backward", DY0.copy(), cache, echo_args=True)
    expect_unchanged(DY0, after[0], name="dy", function="linear_nd_backward")


PURITY_HINT = (
    "linear_nd_backward must depend only on dy and the cache it is given. Keep your own "
    "copies of x and W in the cache, do not use global variables, and do not modify the cache."
)


@pytest.mark.rubric("purity")
def test_backward_twice_on_one_cache(submission: Any) -> None:
    _, cache = forward(submission, X0, W0, BIAS0)
    once = submission.linear_nd_backward(DY0, cache)
    twice = submission.linear_nd_backward(DY0, cache)
    expect_consistent(
        expect_tuple(once, GRADS, function="linear_nd_backward"),
        expect_tuple(twice, GRADS, function="linear_nd_backward"),
        names=GRADS,
        problem="calling linear_nd_backward twice with the same dy and cache gave two answers",
        hint=PURITY_HINT,
    )


@pytest.mark.rubric("purity")
def test_interleaved_forward_calls(submission: Any) -> None:
    data = [random_inputs(seed, leading=(4, 6), D=3, F=5) for seed in (2, 3)]
    alone = [backward(submission, d["x"], d["W"], d["b"], d["dy"]) for d in data]
    caches = [forward(submission, d["x"], d["W"], d["b"])[1] for d in data]
    for d, cache, expected in zip(data, caches, alone, strict=True):
        together = submission.linear_nd_backward(d["dy"], cache)
        expect_consistent(
            [expected[name] for name in GRADS],
            expect_tuple(together, GRADS, function="linear_nd_backward"),
            names=GRADS,
            problem="with two linear_nd_forward calls before the two linear_nd_backward calls, "
            "linear_nd_backward gave a different answer than when each forward was directly "
            "followed by its backward",
            hint=PURITY_HINT,
        )
