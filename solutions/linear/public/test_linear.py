"""Public tests for the linear layer: run ``pytest`` (or ``autograder check``) in this folder.

They mirror the rubric items the grader uses, on small examples you can check by hand and
on a numerical gradient check through *your own* ``linear_forward``. The grader's hidden
tests are stricter: more shapes (F = 1 among them; B = 1 and the largest size are checked
here too), hidden random inputs, and numerical gradients through the instructor's forward pass --
so passing these is necessary, not sufficient. If ``forward`` fails here, fix it first: the
numerical checks below differentiate your forward pass and are only meaningful once it is
right.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autograder.checks import (
    differentiable_output,
    expect_array,
    expect_consistent,
    expect_gradients,
    expect_layout,
    expect_tuple,
    expect_unchanged,
)
from autograder.errors import StudentTimeout, WrongAnswer
from autograder.gradcheck import numerical_vjp

# A batch of B = 2 examples with D = 3 features, mapped to F = 4 outputs.
X0 = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
W0 = np.array([[1.0, 0.0, -1.0, 2.0], [0.0, 1.0, 1.0, 0.0], [2.0, -1.0, 0.0, 1.0]])
BIAS0 = np.array([0.5, -1.0, 0.0, 2.0])
DY0 = np.array([[1.0, 0.0, -1.0, 2.0], [0.0, 1.0, 1.0, -1.0]])

# Worked by hand from the index forms in README.md, with its letters: n the example.
# y[n, k] = sum_j x[n, j] W[j, k] + b[k]; e.g. y[0, 0] = 1*1 + 2*0 + 0*2 + 0.5 = 1.5
Y0 = np.array([[1.5, 1.0, 1.0, 4.0], [6.5, -5.0, -1.0, 5.0]])
# dx[n, i] = sum_k dy[n, k] W[i, k]; e.g. dx[0, 0] = 1*1 + 0*0 + (-1)*(-1) + 2*2 = 6
DX0 = np.array([[6.0, -1.0, 4.0], [-3.0, 2.0, -2.0]])
# dW[i, j] = sum_n x[n, i] dy[n, j]; e.g. dW[1, 3] = 2*2 + (-1)*(-1) = 5
DW0 = np.array([[1.0, 0.0, -1.0, 2.0], [2.0, -1.0, -3.0, 5.0], [0.0, 3.0, 3.0, -3.0]])
# db[j] = sum_n dy[n, j]
DB0 = np.array([1.0, 1.0, 0.0, 1.0])

GRADS = ("dx", "dW", "db")
EXAMPLE = {"where": "the worked example, B=2, D=3, F=4", "batch_size": 2}
# Wrong answers worth recognising on the worked example, keyed by the hint to show.
NO_BIAS = {
    "y is missing the bias: it equals x @ W. The bias vector b is added to every row (every "
    "example) of x @ W; numpy broadcasting does that for you.": X0 @ W0,
}
RIGHT = {"dx": DX0, "dW": DW0, "db": DB0}


def mixups(name: str) -> dict[str, object]:
    """Another gradient in ``name``'s place: the outputs returned in the wrong order."""
    return {
        f"{name} holds the values of {other}: linear_backward must return (dx, dW, db) in "
        "exactly this order.": RIGHT[other]
        for other in GRADS
        if other != name
    }


def forward(submission: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[Any, Any]:
    # keep=(1,): the cache stays with your code, and every backward it is passed to gets that
    # very object, as in plain Python; so a backward that changes its cache shows it next time.
    result = submission.call("linear_forward", x, W, b, keep=(1,))
    return expect_tuple(result, ("y", "cache"), function="linear_forward")


def backward(submission: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray, dy: np.ndarray) -> Any:
    _, cache = forward(submission, x, W, b)
    result = submission.linear_backward(dy, cache)
    return expect_tuple(result, GRADS, function="linear_backward")


def random_inputs(seed: int, B: int, D: int, F: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((B, D)),
        "W": rng.standard_normal((D, F)),
        "b": rng.standard_normal(F),
        "dy": rng.standard_normal((B, F)),
    }


@pytest.mark.rubric("forward")
def test_forward_worked_example(submission: Any) -> None:
    y, _ = forward(submission, X0, W0, BIAS0)
    expect_array(y, Y0, name="y", strict=False, context={**EXAMPLE, "candidates": NO_BIAS})


@pytest.mark.rubric("forward")
def test_forward_single_example(submission: Any) -> None:
    y, _ = forward(submission, X0[:1], W0, BIAS0)
    expect_array(y, Y0[:1], name="y", strict=False, context={"where": "B=1, D=3, F=4"})


@pytest.mark.rubric("dx")
def test_dx_worked_example(submission: Any) -> None:
    dx, _, _ = backward(submission, X0, W0, BIAS0, DY0)
    expect_array(dx, DX0, name="dx", strict=False, context={**EXAMPLE, "candidates": mixups("dx")})


@pytest.mark.rubric("dW")
def test_dW_worked_example(submission: Any) -> None:
    _, dW, _ = backward(submission, X0, W0, BIAS0, DY0)
    expect_array(dW, DW0, name="dW", strict=False, context={**EXAMPLE, "candidates": mixups("dW")})


@pytest.mark.rubric("db")
def test_db_worked_example(submission: Any) -> None:
    _, _, db = backward(submission, X0, W0, BIAS0, DY0)
    context = {**EXAMPLE, "batch_sum": True, "candidates": mixups("db")}
    expect_array(db, DB0, name="db", strict=False, context=context)


def forward_note(submission: Any) -> str:
    """What a failed numerical check adds: it differentiates *your* linear_forward, so it
    means little until that gets the worked example's numbers right (then: nothing)."""
    try:
        expect_array(forward(submission, X0, W0, BIAS0)[0], Y0, name="y", strict=False)
        return ""
    except Exception:  # its own test says what is wrong with it
        pass
    return (
        "\nNote: this check differentiates your own linear_forward, which does not give the "
        "worked example's y yet: fix the forward pass first."
    )


# y is affine in each of x, W and b, so a central difference is exact whatever its step. A step
# of 1 (not the 1e-6 of README section 7) keeps it exact even if your linear_forward rounds to
# float32: that costs only `shapes`, which says so.
STEP = 1.0


def numerical_check(
    submission: Any, wrt: str, name: str, B: int = 4, D: int = 3, F: int = 5
) -> None:
    """``name`` against central differences of *your* forward pass: entry by entry at the
    default size, along two random directions at a large one."""
    data = random_inputs(seed=0, B=B, D=D, F=F)
    x, W, b, dy = data["x"], data["W"], data["b"], data["dy"]
    try:
        grads = dict(zip(("x", "W", "b"), backward(submission, x, W, b, dy), strict=True))
    except StudentTimeout as slow:
        if B * D * F <= 1000 or "did not return within" not in slow.message:
            raise  # a load error or a refusal: the same error for every check
        # Say at what size: the small examples ran in no time.
        raise StudentTimeout(
            f"{slow.message}, on inputs of B={B}, D={D}, F={F}", filename=slow.filename
        ) from None

    def y(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = forward(submission, x, W, b)[0]
        return differentiable_output(out, dy.shape, name=name, function="linear_forward")

    context = {
        "where": f"B={B}, D={D}, F={F}, against central differences of your linear_forward",
        "batch_size": B,
        "batch_sum": name == "db",
    }
    try:
        if B * D * F > 1000:  # two directions: 4 calls of your forward, not 2 per entry
            expect_gradients(
                y,
                {"x": x, "W": W, "b": b},
                dy,
                {wrt: grads[wrt]},
                names={wrt: name},
                strict=False,
                context=context,
                elementwise_limit=0,
                n_directions=2,
                eps=STEP,
            )
            return
        numerical = numerical_vjp(y, {"x": x, "W": W, "b": b}, dy, wrt, eps=STEP)
        expect_array(grads[wrt], numerical, name=name, strict=False, context=context)
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


SHAPES = {"B1": (1, 4, 3), "B4": (4, 3, 5)}
# The worked example with x, b and dy divided by 10 (W as it is): then y, dx and db are the
# worked answers divided by 10, and dW by 100. Unlike the worked example's integers, these
# numbers are not exact in float32, so a result computed through float32 and cast back to
# float64 shows it here: float64 precision is part of `shapes`, as in grading.
TENTH = {"x": X0 / 10, "W": W0, "b": BIAS0 / 10, "dy": DY0 / 10}
TENTH_RIGHT = {"y": Y0 / 10, "dx": DX0 / 10, "dW": DW0 / 100, "db": DB0 / 10}


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", ["y", "dx", "dW", "db"])
@pytest.mark.parametrize("shape", [*SHAPES, "float64_precision"])
def test_shape_and_dtype(submission: Any, shape: str, output: str) -> None:
    if shape == "float64_precision":
        B, D, F = 2, 3, 4
        data, right = TENTH, TENTH_RIGHT[output]
        where = (
            "the worked example with x, b and dy divided by 10 (W as it was), so float32 "
            f"cannot hold the numbers exactly, B={B}, D={D}, F={F}"
        )
    else:
        B, D, F = SHAPES[shape]
        data, right = random_inputs(seed=1, B=B, D=D, F=F), None
        where = f"B={B}, D={D}, F={F}"
    x, W, b, dy = data["x"], data["W"], data["b"], data["dy"]
    if output == "y":
        actual, _ = forward(submission, x, W, b)
    else:
        actual = dict(zip(("dx", "dW", "db"), backward(submission, x, W, b, dy), strict=True))[
            output
        ]
    expected = {"y": (B, F), "dx": (B, D), "dW": (D, F), "db": (F,)}[output]
    expect_layout(
        actual,
        name=output,
        shape=expected,
        reference=right,
        context={"where": where, "batch_size": B},
    )


@pytest.mark.rubric("purity")
def test_forward_leaves_inputs_unchanged(submission: Any) -> None:
    x, W, b = X0.copy(), W0.copy(), BIAS0.copy()
    _, after = submission.call("linear_forward", x, W, b, echo_args=True)
    for name, before, now in zip(("x", "W", "b"), (X0, W0, BIAS0), after, strict=True):
        expect_unchanged(before, now, name=name, function="linear_forward")


@pytest.mark.rubric("purity")
def test_backward_leaves_dy_unchanged(submission: Any) -> None:
    _, cache = forward(submission, X0, W0, BIAS0)
    _, after = submission.call("linear_backward", DY0.copy(), cache, echo_args=True)
    expect_unchanged(DY0, after[0], name="dy", function="linear_backward")


PURITY_HINT = (
    "linear_backward must depend only on dy and the cache it is given. Keep your own copies "
    "of x and W in the cache, do not use global variables, and do not modify the cache."
)


@pytest.mark.rubric("purity")
def test_backward_twice_on_one_cache(submission: Any) -> None:
    _, cache = forward(submission, X0, W0, BIAS0)
    once = submission.linear_backward(DY0, cache)
    twice = submission.linear_backward(DY0, cache)
    expect_consistent(
        expect_tuple(once, GRADS, function="linear_backward"),
        expect_tuple(twice, GRADS, function="linear_backward"),
        names=GRADS,
        problem="calling linear_backward twice with the same dy and cache gave two answers",
        hint=PURITY_HINT,
    )


@pytest.mark.rubric("purity")
def test_interleaved_forward_calls(submission: Any) -> None:
    data = [random_inputs(seed, B=2, D=3, F=4) for seed in (2, 3)]
    alone = [backward(submission, d["x"], d["W"], d["b"], d["dy"]) for d in data]
    caches = [forward(submission, d["x"], d["W"], d["b"])[1] for d in data]
    for d, cache, expected in zip(data, caches, alone, strict=True):
        together = submission.linear_backward(d["dy"], cache)
        expect_consistent(
            expected,
            expect_tuple(together, GRADS, function="linear_backward"),
            names=GRADS,
            problem="with two linear_forward calls before the two linear_backward calls, "
            "linear_backward gave a different answer than when each forward was directly "
            "followed by its backward",
            hint=PURITY_HINT,
        )


# Last, the largest size the hidden tests use. Each call into your code has the course's time
# limit (rubric.yml, limits:), here as in grading: code right on the small examples but too
# slow at this size (four nested Python loops for dW) fails here, not only when graded.
LARGE = {"B": 96, "D": 64, "F": 48}


@pytest.mark.rubric("dx")
def test_dx_at_the_largest_size(submission: Any) -> None:
    numerical_check(submission, "x", "dx", **LARGE)


@pytest.mark.rubric("dW")
def test_dW_at_the_largest_size(submission: Any) -> None:
    numerical_check(submission, "W", "dW", **LARGE)


@pytest.mark.rubric("db")
def test_db_at_the_largest_size(submission: Any) -> None:
    numerical_check(submission, "b", "db", **LARGE)
