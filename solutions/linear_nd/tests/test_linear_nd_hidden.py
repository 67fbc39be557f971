"""Hidden tests for the ``linear_nd`` assignment (never released to students).

Inputs are standard normal draws from the ``rng`` fixture, seeded per (course secret,
student, test). Inputs have one, two and three leading axes, with every size distinct from
D and F and from each other (so a sum over the wrong axes cannot pass by luck), plus leading
axes of length 1, a random case and a large one. Upstream gradients are random.

Which item a mistake costs:

* ``forward``/``dx``/``dW``/``db`` judge only the numbers of their own output against the
  reference *and* against central differences through the reference forward, forgiving dtype
  and axes of length 1 (``strict=False``).
* ``shapes`` judges only layout: exact shape, float64 and float64 precision, one test per
  output and case.
* ``empty`` runs both passes with a leading axis of length 0: nothing may raise or be NaN,
  y and dx must be empty, dW and db zeros (shapes up to axes of length 1, as for the values).
* ``purity`` compares the submission with itself, so a wrong formula does not cost it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from autograder.checks import (
    confirm_gradient,
    describe_type,
    expect_array,
    expect_consistent,
    expect_layout,
    expect_tuple,
    expect_unchanged,
    expect_uses_inputs,
)
from autograder.errors import WrongAnswer

# name: (leading shape, D, F); "random" draws one to three leading axes from the test's rng.
CASES: dict[str, tuple[tuple[int, ...], int, int] | None] = {
    "1lead": ((7,), 3, 4),
    "2lead": ((4, 6), 3, 5),
    "3lead": ((2, 3, 4), 5, 6),
    "batch1": ((1, 5), 4, 3),
    "time1": ((3, 1), 4, 2),
    "random": None,
    "large": ((6, 10, 8), 16, 12),
}
VALUE_CASES = list(CASES)
LAYOUT_CASES = ["1lead", "2lead", "3lead", "batch1"]
EMPTY_CASES: dict[str, tuple[tuple[int, ...], int, int]] = {
    "no_rows": ((0,), 3, 4),
    "no_sequences": ((0, 5), 3, 4),
    "empty_sequences": ((2, 0), 3, 4),
    "empty_middle": ((2, 0, 3), 4, 5),
}

FORMULAS = {
    "y": "y[..., j] = sum_i x[..., i] W[i, j] + b[j], shape (..., F)",
    "dx": "dx[..., i] = sum_j dy[..., j] W[i, j], i.e. dy @ W.T, shape (..., D)",
    "dW": "dW[i, j] = sum over every leading index n of x[n, i] dy[n, j], i.e. "
    "x.reshape(-1, D).T @ dy.reshape(-1, F), shape (D, F)",
    "db": "db[j] = sum over every leading index n of dy[n, j], shape (F,)",
}
INPUT_OF = {"dx": "x", "dW": "W", "db": "b"}
GRADS = ("dx", "dW", "db")


@dataclass(frozen=True)
class Case:
    """One set of hidden inputs: ``y = x @ W + b`` with upstream gradient ``dy``."""

    x: np.ndarray
    W: np.ndarray
    b: np.ndarray
    dy: np.ndarray

    @property
    def leading(self) -> tuple[int, ...]:
        return self.x.shape[:-1]

    @property
    def rows(self) -> int:
        """N, the number of leading positions (every one a row through the layer)."""
        return int(np.prod(self.leading))

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        return {"x": self.x, "W": self.W, "b": self.b}

    @property
    def where(self) -> str:
        D, F = self.W.shape
        return f"x of shape {self.x.shape}, D={D}, F={F}"

    def context(self, name: str, candidates: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
        """What the check helpers may tell the student about this case: shapes only."""
        return {
            "where": self.where,
            "batch_sum": name == "db",
            "formula": FORMULAS[name],
            "candidates": candidates or {},
        }


def case_sizes(rng: np.random.Generator, name: str) -> tuple[tuple[int, ...], int, int]:
    sizes = CASES[name] if name in CASES else EMPTY_CASES[name]
    if sizes is not None:
        return sizes
    # Leading sizes from 2..7 and D, F from 8..16: no size can stand in for another.
    n_leading = int(rng.integers(1, 4))
    leading = tuple(int(n) for n in rng.choice(np.arange(2, 8), size=n_leading, replace=False))
    D, F = (int(n) for n in rng.choice(np.arange(8, 17), size=2, replace=False))
    return leading, D, F


def make_case(rng: np.random.Generator, name: str) -> Case:
    leading, D, F = case_sizes(rng, name)
    return Case(
        x=rng.standard_normal((*leading, D)),
        W=rng.standard_normal((D, F)),
        b=rng.standard_normal(F),
        dy=rng.standard_normal((*leading, F)),
    )


# -- calling the submission ---------------------------------------------------------------------


def student_forward(submission: Any, case: Case) -> tuple[Any, Any]:
    """The student's ``(y, cache)``; the cache is opaque and only ever passed back (it stays
    in the worker: each backward gets the forward's own object, as in plain Python)."""
    result = submission.call("linear_nd_forward", case.x, case.W, case.b, keep=(1,))
    y, cache = expect_tuple(result, ("y", "cache"), function="linear_nd_forward")
    return y, cache


def call_backward(submission: Any, dy: np.ndarray, cache: Any) -> dict[str, Any]:
    result = submission.linear_nd_backward(dy, cache)
    grads = expect_tuple(result, GRADS, function="linear_nd_backward")
    return dict(zip(GRADS, grads, strict=True))


def student_backward(submission: Any, case: Case) -> dict[str, Any]:
    """The student's gradients for ``case``, after their own forward pass."""
    _, cache = student_forward(submission, case)
    return call_backward(submission, case.dy, cache)


def reference_gradients(reference: ModuleType, case: Case) -> dict[str, np.ndarray]:
    _, cache = reference.linear_nd_forward(case.x, case.W, case.b)
    return dict(zip(GRADS, reference.linear_nd_backward(case.dy, cache), strict=True))


def reference_output(reference: ModuleType) -> Callable[..., np.ndarray]:
    """The trusted function whose numerical derivatives the gradients must match."""

    def y(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        return reference.linear_nd_forward(x, W, b)[0]

    return y


def known_mistakes(name: str, case: Case, right: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Wrong answers worth recognising for ``name``, keyed by the hint to show."""
    D, F = case.W.shape
    mistakes: dict[str, np.ndarray] = {}
    if name == "y":
        mistakes[
            "y is missing the bias: b is added at every leading position (broadcasting does "
            "that over any number of leading axes)."
        ] = case.x @ case.W
    if name in ("dW", "db") and len(case.leading) > 1:
        first_only = {
            "dW": np.einsum("a...i,a...j->...ij", case.x, case.dy),
            "db": case.dy.sum(axis=0),
        }[name]
        mistakes[
            f"{name} was summed over the first axis only: W and b are shared by every "
            "leading position, so the sum runs over every leading axis (all but the last)."
        ] = first_only
    if name in ("dW", "db") and case.rows > 1:
        mistakes[
            f"{name} is the mean over the {case.rows} leading positions instead of the sum "
            "(1/N of the right answer, N = the number of positions). Every position adds its "
            "own contribution; if the loss averages, its 1/N is already inside dy."
        ] = right[name] / case.rows
        if len(case.leading) > 1 and case.leading[0] > 1:
            mistakes[
                f"{name} is divided by the size of the first axis: the backward pass sums "
                "over every leading position and divides by nothing; a mean in the loss is "
                "already inside dy."
            ] = right[name] / case.leading[0]
    if name == "dW" and len(case.leading) > 1 and case.rows > 0:
        mistakes[
            "dW pairs the wrong numbers: on more than two axes x.T reverses every axis, so "
            "x.T.reshape(D, -1) lists the positions in another order than dy.reshape(-1, F) "
            "does. Use x.reshape(-1, D).T, which keeps each position's row intact."
        ] = case.x.T.reshape(D, -1) @ case.dy.reshape(-1, F)
    if name == "dW" and case.rows > 0:
        mistakes[
            "dW pairs the wrong numbers: x.reshape(D, -1) does not give one row per position "
            "(reshape fills row by row in memory order). Use x.reshape(-1, D), which keeps "
            "the last axis intact."
        ] = case.x.reshape(D, -1) @ case.dy.reshape(-1, F)
    return mistakes


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


# -- forward ------------------------------------------------------------------------------------


@pytest.mark.rubric("forward")
@pytest.mark.parametrize("case_name", VALUE_CASES)
def test_forward(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    case_name: str,
    record_property: Callable[[str, object], None],
) -> None:
    case = make_case(rng, case_name)
    y, _ = student_forward(submission, case)
    right, _ = reference.linear_nd_forward(case.x, case.W, case.b)
    expect_leading_axes(y, right.shape, name="y", where=case.where, strict=False)
    context = case.context("y", known_mistakes("y", case, {"y": right}))
    error = expect_array(y, right, name="y", strict=False, context=context)
    record_property("rel_error", error)


# -- dx, dW, db ---------------------------------------------------------------------------------


def check_gradient(
    name: str,
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    case_name: str,
    record_property: Callable[[str, object], None],
) -> None:
    """``name`` against the reference backward, then against central differences."""
    case = make_case(rng, case_name)
    grads = student_backward(submission, case)
    right = reference_gradients(reference, case)
    expect_leading_axes(grads[name], right[name].shape, name=name, where=case.where, strict=False)
    context = case.context(name, known_mistakes(name, case, right))
    error = expect_array(grads[name], right[name], name=name, strict=False, context=context)
    record_property("rel_error", error)
    wrt = INPUT_OF[name]
    numerical = confirm_gradient(
        reference_output(reference),
        case.inputs,
        case.dy,
        wrt,
        grads[name],
        name=name,
        rng=rng,
        context=context,
    )
    record_property("numerical_rel_error", numerical)


@pytest.mark.rubric("dx")
@pytest.mark.parametrize("case_name", VALUE_CASES)
def test_dx(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    case_name: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_gradient("dx", submission, reference, rng, case_name, record_property)


@pytest.mark.rubric("dW")
@pytest.mark.parametrize("case_name", VALUE_CASES)
def test_dW(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    case_name: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_gradient("dW", submission, reference, rng, case_name, record_property)


@pytest.mark.rubric("db")
@pytest.mark.parametrize("case_name", VALUE_CASES)
def test_db(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    case_name: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_gradient("db", submission, reference, rng, case_name, record_property)


# -- shapes -------------------------------------------------------------------------------------


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", ["y", *GRADS])
@pytest.mark.parametrize("case_name", LAYOUT_CASES)
def test_shape_dtype_precision(
    submission: Any, reference: ModuleType, rng: np.random.Generator, case_name: str, output: str
) -> None:
    case = make_case(rng, case_name)
    D, F = case.W.shape
    expected_shape = {
        "y": (*case.leading, F),
        "dx": case.x.shape,
        "dW": (D, F),
        "db": (F,),
    }[output]
    if output == "y":
        actual, _ = student_forward(submission, case)
        right, _ = reference.linear_nd_forward(case.x, case.W, case.b)
    else:
        actual = student_backward(submission, case)[output]
        right = reference_gradients(reference, case)[output]
    expect_leading_axes(actual, expected_shape, name=output, where=case.where, strict=True)
    expect_layout(
        actual,
        name=output,
        shape=expected_shape,
        reference=right,
        context=case.context(output, known_mistakes(output, case, {output: right})),
    )


# -- empty batches ------------------------------------------------------------------------------

EMPTY_HINT = (
    "with a leading axis of length 0 there are no positions at all, so nothing flows into W "
    "and b: dW and db are sums over zero terms, i.e. zeros of their usual shapes. "
    "x.reshape(-1, D) works for an empty x, reshape(N, -1) does not (numpy cannot infer -1 "
    "from 0 elements); a mean over zero positions is NaN; Python's sum() of nothing is the "
    "integer 0, not an array."
)


@pytest.mark.rubric("empty")
@pytest.mark.parametrize("case_name", list(EMPTY_CASES))
def test_empty_batch(
    submission: Any, reference: ModuleType, rng: np.random.Generator, case_name: str
) -> None:
    case = make_case(rng, case_name)
    y, cache = student_forward(submission, case)
    grads = call_backward(submission, case.dy, cache)
    right_y, _ = reference.linear_nd_forward(case.x, case.W, case.b)
    right = {"y": right_y, **reference_gradients(reference, case)}
    for name, actual in (("y", y), *grads.items()):
        if not isinstance(actual, np.ndarray):
            raise WrongAnswer(
                f"{name} should be a numpy array (for {case.where}), but your code returned "
                f"{describe_type(actual)}.\nHint: {EMPTY_HINT}"
            )
        if np.issubdtype(actual.dtype, np.number) and not np.isfinite(actual).all():
            raise WrongAnswer(
                f"{name} contains NaN or infinity (for {case.where}).\nHint: {EMPTY_HINT}"
            )
        expect_leading_axes(actual, right[name].shape, name=name, where=case.where, strict=False)
        expect_array(
            actual,
            right[name],
            name=name,
            strict=False,
            context=case.context(name, known_mistakes(name, case, right)),
        )


# -- purity -------------------------------------------------------------------------------------

PURITY_HINT = (
    "linear_nd_backward must depend only on dy and the cache it is given. Keep your own "
    "copies of x and W in the cache, do not use global variables, and do not modify the cache."
)


def expect_same_answers(first: dict[str, Any], second: dict[str, Any], *, problem: str) -> None:
    """The submission must agree with itself; its correctness is judged elsewhere."""
    expect_consistent(
        [first[name] for name in GRADS],
        [second[name] for name in GRADS],
        names=GRADS,
        problem=problem,
        hint=PURITY_HINT,
    )


@pytest.mark.rubric("purity")
def test_forward_leaves_inputs_unchanged(submission: Any, rng: np.random.Generator) -> None:
    case = make_case(rng, "3lead")
    _, after = submission.call("linear_nd_forward", case.x, case.W, case.b, echo_args=True)
    for name, before, now in zip(("x", "W", "b"), (case.x, case.W, case.b), after, strict=True):
        expect_unchanged(before, now, name=name, function="linear_nd_forward")


@pytest.mark.rubric("purity")
def test_backward_leaves_dy_unchanged(submission: Any, rng: np.random.Generator) -> None:
    case = make_case(rng, "2lead")
    _, cache = student_forward(submission, case)
    _, after = submission.call("linear_nd_backward", case.dy, cache, echo_args=True)
    expect_unchanged(case.dy, after[0], name="dy", function="linear_nd_backward")


@pytest.mark.rubric("purity")
def test_backward_twice_on_one_cache(submission: Any, rng: np.random.Generator) -> None:
    case = make_case(rng, "3lead")
    _, cache = student_forward(submission, case)
    once = call_backward(submission, case.dy, cache)
    twice = call_backward(submission, case.dy, cache)
    expect_same_answers(
        once,
        twice,
        problem="calling linear_nd_backward twice with the same dy and cache gave two answers",
    )


@pytest.mark.rubric("purity")
def test_interleaved_forward_calls(submission: Any, rng: np.random.Generator) -> None:
    first, second = make_case(rng, "2lead"), make_case(rng, "2lead")
    alone = [student_backward(submission, case) for case in (first, second)]
    outputs = [student_forward(submission, case) for case in (first, second)]
    expect_uses_inputs("linear_nd_forward", [outputs[0][0]], [outputs[1][0]])
    expect_uses_inputs("linear_nd_backward", list(alone[0].values()), list(alone[1].values()))
    caches = [cache for _, cache in outputs]
    for case, cache, expected in zip((first, second), caches, alone, strict=True):
        expect_same_answers(
            expected,
            call_backward(submission, case.dy, cache),
            problem="with two linear_nd_forward calls before the two linear_nd_backward calls, "
            "linear_nd_backward gave a different answer than when each forward was directly "
            "followed by its backward",
        )
