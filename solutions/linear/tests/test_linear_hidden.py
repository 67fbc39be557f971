"""Hidden tests for the ``linear`` assignment (never released to students).

Inputs are standard normal draws seeded per (course secret, student, case) through
``rng_for``: unpredictable, identical on regrade. Each case's forward and backward run once
per submission, one right after the other, all of them in one batch of calls
(``submission.batch``, one round trip to the worker) that serves the forward, dx, dW, db and
shapes tests and, through the echoed arguments and one shared case, the purity tests. With
the two purity batches and one last call: 23 calls into the student's code in 4 round trips.
Shapes have B, D and F all different (so a transpose or a sum over the wrong axis can never
pass by luck), plus B = 1 and F = 1 edge cases, a random shape and a large one. Upstream
gradients are random, never all ones.

Which item a mistake costs -- one mistake, one item, as a careful instructor would grade:

* ``forward``/``dx``/``dW``/``db`` judge only the math of their own output: values against
  the reference *and* against central differences through the reference forward, forgiving
  any real dtype and an added or dropped axis of length 1 (``strict=False``). A float32 or
  (1, F) ``db`` with the right numbers keeps ``db``; a wrong ``db`` never costs ``dW``; a
  transposed ``dW`` costs ``dW`` (and its share of ``shapes``).
* ``shapes`` judges only layout: exact shape, float64 dtype and float64 precision of each
  output, one test per output and shape, so one bad output costs only its share.
* ``purity`` compares the submission with *itself* (inputs before/after, the same backward
  call repeated, interleaved forward calls), so a wrong formula does not cost purity too.

Only a crash costs everything downstream of it: a backward that raises cannot be judged.
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
    expect_array,
    expect_consistent,
    expect_layout,
    expect_tuple,
    expect_unchanged,
    expect_uses_inputs,
)
from autograder.sandbox.model import Ref, Step, StepResult

# (B, D, F); "random" draws distinct sizes from the test's rng.
SHAPES: dict[str, tuple[int, int, int] | None] = {
    "B1": (1, 4, 3),
    "small": (2, 3, 5),
    "tall": (9, 2, 4),
    "wide": (3, 7, 6),
    "F1": (5, 3, 1),
    "random": None,
    "large": (96, 64, 48),
}
VALUE_SHAPES = list(SHAPES)
LAYOUT_SHAPES = ["B1", "small", "tall", "F1"]

# What feedback may remind a student of: the concept (which index is summed, which shape a
# gradient has), never the line of code that answers the task.
FORMULAS = {
    "y": "each y[b, j] is row b of x times column j of W, plus the bias b[j] shared by all B rows",
    "dx": "x[b, i] reaches every output y[b, j] of its own example through W[i, j], so the output "
    "index j is summed away and dx has the shape of x, (B, D)",
    "dW": "W[i, j] reaches y[b, j] of every example b through x[b, i], so the batch index b is "
    "summed away and dW has the shape of W, (D, F)",
    "db": "b[j] is added to y[b, j] of every example b, so the batch index is summed away and db "
    "has the shape of b, (F,)",
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
    def sizes(self) -> tuple[int, int, int]:
        return self.x.shape[0], self.x.shape[1], self.W.shape[1]

    @property
    def inputs(self) -> dict[str, np.ndarray]:
        return {"x": self.x, "W": self.W, "b": self.b}

    def context(self, name: str, candidates: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
        """What the check helpers may tell the student about this case: shapes only."""
        B, D, F = self.sizes
        return {
            "where": f"B={B}, D={D}, F={F}",
            "batch_size": B,
            "batch_sum": name == "db",
            "formula": FORMULAS[name],
            "candidates": candidates or {},
        }


def make_case(rng: np.random.Generator, shape: str) -> Case:
    sizes = SHAPES[shape]
    if sizes is None:
        B, D, F = (int(n) for n in rng.choice(np.arange(2, 25), size=3, replace=False))
    else:
        B, D, F = sizes
    return Case(
        x=rng.standard_normal((B, D)),
        W=rng.standard_normal((D, F)),
        b=rng.standard_normal(F),
        dy=rng.standard_normal((B, F)),
    )


def case_for(submission: Any, rng_for: Callable[[str], np.random.Generator], shape: str) -> Case:
    """The inputs for ``shape``: the same for every test of one student (seeded by label)."""
    return submission.memo(("case", shape), lambda: make_case(rng_for(f"case:{shape}"), shape))


# The case whose calls echo their arguments back, for the purity tests (echoing costs a copy
# of every argument, so the other cases do not).
ECHO_SHAPE = "tall"


def forward_step(case: Case, *, echo: bool = False, requires: tuple[Any, ...] = ()) -> Step:
    # The cache stays in the worker, whatever it is: each backward gets the forward's own
    # object, as in plain Python, so one that changes its cache shows it on the next call.
    return Step("linear_forward", (case.x, case.W, case.b), echo=echo, requires=requires, keep=(1,))


def backward_step(
    case: Case, forward: int, *, echo: bool = False, requires: tuple[Any, ...] = ()
) -> Step:
    """``linear_backward(case.dy, cache)`` with the cache returned by step ``forward``."""
    return Step("linear_backward", (case.dy, Ref(forward, 1, 2)), echo=echo, requires=requires)


def forward_result(result: StepResult) -> tuple[Any, Any]:
    """``(y, cache)`` from a forward step, or what went wrong (as the test would raise it)."""
    if result.error is not None:
        raise result.error
    y, cache = expect_tuple(result.value, ("y", "cache"), function="linear_forward")
    return y, cache


def backward_result(result: StepResult) -> dict[str, Any]:
    """``{"dx": ..., "dW": ..., "db": ...}`` from a backward step, or what went wrong."""
    assert not result.skipped, "a backward runs whenever its forward gave (y, cache)"
    if result.error is not None:
        raise result.error
    grads = expect_tuple(result.value, GRADS, function="linear_backward")
    return dict(zip(GRADS, grads, strict=True))


@dataclass(frozen=True)
class CaseRun:
    """What the student's code did on one case: a forward, then at once its backward.

    On ``ECHO_SHAPE`` both calls echo their arguments as they were afterwards, so the purity
    tests can check that nothing was modified without calling again. A backward that failed
    is kept as its error: the forward's results still count.
    """

    y: Any
    cache: Any
    grads: dict[str, Any] | None
    backward_error: Exception | None
    inputs_after: tuple[Any, ...] = ()
    dy_after: Any = None


def runs_of(
    submission: Any, rng_for: Callable[[str], np.random.Generator]
) -> dict[str, tuple[StepResult, StepResult]]:
    """The student's forward and, right after it, backward on every case: one batch of calls
    per submission (``submission.batch``), shared by every test.

    Each backward runs right after its own forward (not many calls later): depending on what
    happened in between is a purity mistake, and only the purity item may charge it.
    """

    def run() -> dict[str, tuple[StepResult, StepResult]]:
        steps = []
        for shape in VALUE_SHAPES:
            case, echo = case_for(submission, rng_for, shape), shape == ECHO_SHAPE
            steps += [forward_step(case, echo=echo), backward_step(case, len(steps), echo=echo)]
        results = submission.batch(steps)
        return {shape: (results[2 * i], results[2 * i + 1]) for i, shape in enumerate(VALUE_SHAPES)}

    return submission.memo("runs", run)


def run_of(submission: Any, rng_for: Callable[[str], np.random.Generator], shape: str) -> CaseRun:
    """The student's forward and backward on the case for ``shape`` (see ``runs_of``)."""

    def run() -> CaseRun:
        forward, backward = runs_of(submission, rng_for)[shape]
        inputs_after: tuple[Any, ...] = ()
        dy_after = None
        if shape == ECHO_SHAPE:  # (value, the arguments as they were after the call)
            if forward.ok:
                value, inputs_after = forward.value
                forward = StepResult(value)
            if backward.ok:
                value, (dy_after, _) = backward.value
                backward = StepResult(value)
        y, cache = forward_result(forward)
        try:
            grads = backward_result(backward)
        except Exception as exc:  # judged by the tests that need the gradients
            return CaseRun(y, cache, None, exc, inputs_after)
        return CaseRun(y, cache, grads, None, inputs_after, dy_after)

    return submission.memo(("run", shape), run)


def forward_of(
    submission: Any, rng_for: Callable[[str], np.random.Generator], shape: str
) -> tuple[Any, Any]:
    """The student's ``(y, cache)`` on the case for ``shape``, computed once per submission."""
    run = run_of(submission, rng_for, shape)
    return run.y, run.cache


def backward_of(
    submission: Any, rng_for: Callable[[str], np.random.Generator], shape: str
) -> dict[str, Any]:
    """The student's gradients on the case for ``shape`` (right after its forward)."""
    run = run_of(submission, rng_for, shape)
    if run.backward_error is not None:
        raise run.backward_error
    assert run.grads is not None
    return run.grads


def reference_answers(
    submission: Any, reference: ModuleType, shape: str, case: Case
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The reference's ``y`` and gradients on the case for ``shape``, computed once."""

    def compute() -> tuple[np.ndarray, dict[str, np.ndarray]]:
        y, cache = reference.linear_forward(case.x, case.W, case.b)
        return y, dict(zip(GRADS, reference.linear_backward(case.dy, cache), strict=True))

    return submission.memo(("reference", shape), compute)


def reference_output(reference: ModuleType) -> Callable[..., np.ndarray]:
    """The trusted function whose numerical derivatives the gradients must match."""

    def y(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        return reference.linear_forward(x, W, b)[0]

    return y


def known_mistakes(name: str, case: Case, right: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Wrong answers worth recognising for ``name``, keyed by the hint to show."""
    mistakes: dict[str, np.ndarray] = {}
    for other in GRADS:
        if other != name:
            mistakes[
                f"{name} holds the values of {other}: linear_backward must return "
                "(dx, dW, db) in exactly this order."
            ] = right[other]
    if name == "db":
        mistakes[
            "db was summed over the feature axis (axis 1). The bias index j survives and the "
            "batch index b is summed away: sum dy over axis 0."
        ] = case.dy.sum(axis=1)
    return mistakes


# -- forward ----------------------------------------------------------------------------------


@pytest.mark.rubric("forward")
@pytest.mark.parametrize("shape", VALUE_SHAPES)
def test_forward_matches_reference(
    submission: Any,
    reference: ModuleType,
    rng_for: Callable[[str], np.random.Generator],
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    case = case_for(submission, rng_for, shape)
    y, _ = forward_of(submission, rng_for, shape)
    right, _ = reference_answers(submission, reference, shape, case)
    no_bias = {
        "y is missing the bias: it equals x @ W. The bias vector b is added to every row "
        "(every example) of x @ W; numpy broadcasting does that for you.": case.x @ case.W,
    }
    error = expect_array(y, right, name="y", strict=False, context=case.context("y", no_bias))
    record_property("rel_error", error)


# -- dx, dW, db -------------------------------------------------------------------------------


def check_gradient(
    name: str,
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    rng_for: Callable[[str], np.random.Generator],
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    """``name`` against the reference backward, then against central differences."""
    case = case_for(submission, rng_for, shape)
    grads = backward_of(submission, rng_for, shape)
    _, right = reference_answers(submission, reference, shape, case)
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
@pytest.mark.parametrize("shape", VALUE_SHAPES)
def test_dx(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    rng_for: Callable[[str], np.random.Generator],
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_gradient("dx", submission, reference, rng, rng_for, shape, record_property)


@pytest.mark.rubric("dW")
@pytest.mark.parametrize("shape", VALUE_SHAPES)
def test_dW(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    rng_for: Callable[[str], np.random.Generator],
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_gradient("dW", submission, reference, rng, rng_for, shape, record_property)


@pytest.mark.rubric("db")
@pytest.mark.parametrize("shape", VALUE_SHAPES)
def test_db(
    submission: Any,
    reference: ModuleType,
    rng: np.random.Generator,
    rng_for: Callable[[str], np.random.Generator],
    shape: str,
    record_property: Callable[[str, object], None],
) -> None:
    check_gradient("db", submission, reference, rng, rng_for, shape, record_property)


# -- shapes -----------------------------------------------------------------------------------


@pytest.mark.rubric("shapes")
@pytest.mark.parametrize("output", ["y", *GRADS])
@pytest.mark.parametrize("shape", LAYOUT_SHAPES)
def test_shape_dtype_precision(
    submission: Any,
    reference: ModuleType,
    rng_for: Callable[[str], np.random.Generator],
    shape: str,
    output: str,
) -> None:
    case = case_for(submission, rng_for, shape)
    B, D, F = case.sizes
    expected_shape = {"y": (B, F), "dx": (B, D), "dW": (D, F), "db": (F,)}[output]
    if output == "y":
        actual, _ = forward_of(submission, rng_for, shape)
        right, _ = reference_answers(submission, reference, shape, case)
    else:
        actual = backward_of(submission, rng_for, shape)[output]
        right = reference_answers(submission, reference, shape, case)[1][output]
    expect_layout(
        actual, name=output, shape=expected_shape, reference=right, context=case.context(output)
    )


# -- purity -----------------------------------------------------------------------------------


PURITY_HINT = (
    "linear_backward must depend only on dy and the cache it is given. Keep your own copies "
    "of x and W in the cache, do not use global variables, and do not modify the cache."
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
def test_forward_leaves_inputs_unchanged(
    submission: Any, rng_for: Callable[[str], np.random.Generator]
) -> None:
    case = case_for(submission, rng_for, ECHO_SHAPE)
    after = run_of(submission, rng_for, ECHO_SHAPE).inputs_after
    for name, before, now in zip(("x", "W", "b"), (case.x, case.W, case.b), after, strict=True):
        expect_unchanged(before, now, name=name, function="linear_forward")


@pytest.mark.rubric("purity")
def test_backward_leaves_dy_unchanged(
    submission: Any, rng_for: Callable[[str], np.random.Generator]
) -> None:
    case = case_for(submission, rng_for, ECHO_SHAPE)
    backward_of(submission, rng_for, ECHO_SHAPE)  # re-raises why the backward could not run
    after = run_of(submission, rng_for, ECHO_SHAPE).dy_after
    expect_unchanged(case.dy, after, name="dy", function="linear_backward")


@pytest.mark.rubric("purity")
def test_backward_twice_on_one_cache(submission: Any, rng: np.random.Generator) -> None:
    case = make_case(rng, "wide")
    # forward; backward; backward again if the first gave (dx, dW, db): one round trip
    forward, once, twice = submission.batch(
        [
            forward_step(case),
            backward_step(case, 0),
            backward_step(case, 0, requires=((1, len(GRADS)),)),
        ]
    )
    forward_result(forward)
    expect_same_answers(
        backward_result(once),
        backward_result(twice),
        problem="calling linear_backward twice with the same dy and cache gave two answers",
    )


@pytest.mark.rubric("purity")
def test_interleaved_forward_calls(
    submission: Any, rng: np.random.Generator, rng_for: Callable[[str], np.random.Generator]
) -> None:
    # Two inputs of one shape; the first is the shared "small" case, whose forward was
    # directly followed by its backward already.
    first, second = case_for(submission, rng_for, "small"), make_case(rng, "small")
    first_alone = backward_of(submission, rng_for, "small")
    # The second case alone; then both forwards, then the backward of the first. Each call
    # only if everything before it answered in the right form, as one call after the other.
    grads_ok = (1, len(GRADS))
    results = submission.batch(
        [
            forward_step(second),
            backward_step(second, 0),
            forward_step(first, requires=(grads_ok,)),
            forward_step(second, requires=(grads_ok, (2, 2))),
            backward_step(first, 2, requires=(grads_ok, (3, 2))),
        ]
    )
    second_y, _ = forward_result(results[0])
    second_alone = backward_result(results[1])
    first_y, _ = forward_of(submission, rng_for, "small")
    expect_uses_inputs("linear_forward", [first_y], [second_y])
    expect_uses_inputs(
        "linear_backward", [first_alone[g] for g in GRADS], [second_alone[g] for g in GRADS]
    )
    forward_result(results[2])
    _, second_cache = forward_result(results[3])
    problem = (
        "with two linear_forward calls before the two linear_backward calls, linear_backward "
        "gave a different answer than when each forward was directly followed by its backward"
    )
    # First in, first out: a global "last cache" or a stack of caches both give themselves away.
    expect_same_answers(first_alone, backward_result(results[4]), problem=problem)
    second_again = submission.call("linear_backward", second.dy, second_cache)
    expect_same_answers(second_alone, backward_result(StepResult(second_again)), problem=problem)
