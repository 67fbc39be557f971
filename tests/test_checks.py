"""Tests of autograder.checks: verdicts, and messages that are safe to show a student."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import autograder
from autograder import checks
from autograder.checks import (
    ELEMENTWISE_LIMIT,
    PRECISION_THRESHOLD,
    VALUE_THRESHOLD,
    confirm_gradient,
    describe_type,
    differentiable_output,
    expect_array,
    expect_consistent,
    expect_gradients,
    expect_layout,
    expect_tuple,
    expect_unchanged,
    unit_axes_differ,
)
from autograder.errors import StudentException, WrongAnswer, exception_hint, students_failure
from autograder.gradcheck import DEFAULT_DIRECTIONS

# Distinctive numbers: a message that leaked an input or expected value would contain them.
RIGHT = np.array([[123.456, -987.654, 55.5], [31.4159, 27.1828, -16.18]])


@dataclass(frozen=True)
class FakeHandle:
    """Stands in for autograder.sandbox.Handle: an object that stayed in the worker."""

    id: int
    type_name: str


def message(excinfo: pytest.ExceptionInfo[WrongAnswer]) -> str:
    text = str(excinfo.value)
    # Relative errors are allowed; no value of RIGHT may appear.
    without_errors = re.sub(r"\d+(\.\d+)?e[-+]\d+", "", text)
    for value in RIGHT.ravel():
        assert f"{abs(value):.1f}"[:-2] not in without_errors, text
    return text


def linear(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return x @ W + b


# -- expect_array -----------------------------------------------------------------------------


def test_a_right_answer_passes_and_returns_its_relative_error() -> None:
    assert expect_array(RIGHT.copy(), RIGHT, name="dW") == 0.0
    nudged = RIGHT * (1 + 1e-13)
    assert 0 < expect_array(nudged, RIGHT, name="dW") < PRECISION_THRESHOLD


@pytest.mark.parametrize(
    ("returned", "described"),
    [
        (None, "None (is a return statement missing?)"),
        ((RIGHT, RIGHT, RIGHT), "a tuple of 3 items"),
        ([1.0, 2.0], "a list of 2 items"),
        (3.5, "a single number (float), not an array"),
        (FakeHandle(7, "LinearCache"), "an object of type LinearCache"),
        ({"dW": RIGHT}, "an object of type dict"),
    ],
)
def test_not_an_array_says_what_was_returned(returned: object, described: str) -> None:
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(returned, RIGHT, name="dW")
    first = message(excinfo).split("\nHint: ")[0]
    assert first == f"dW should be a numpy array, but your code returned {described}."


@pytest.mark.parametrize("number", [3.5, 7, np.float64(2.0), np.int64(3)])
def test_a_single_number_for_an_array_may_be_a_sum_over_every_axis(number: object) -> None:
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(number, RIGHT, name="db")
    assert "Hint: if this number comes from a sum, it was a sum over every axis" in str(
        excinfo.value
    )
    assert "db has the shape of its variable, (2, 3)" in str(excinfo.value)
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(None, RIGHT, name="db")  # not a number: no such hint
    assert "Hint" not in str(excinfo.value)


@pytest.mark.parametrize("zero", [0, 0.0])
def test_a_plain_zero_for_an_array_of_zeros_is_told_about_sums_over_nothing(zero: float) -> None:
    # sum(np.outer(x, g) for x, g in zip(rows_x, rows_dy)) over an empty batch: the int 0.
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(zero, np.zeros((2, 4)), name="dW", context={"where": "B=0"})
    assert message(excinfo).startswith("dW should be a numpy array (for B=0), but your code")
    assert (
        "Hint: the right answer here is an array of zeros, and a plain 0 is what Python's sum()"
        in (str(excinfo.value))
    )
    for returned, right in [(0, RIGHT), (1, np.zeros(3)), (0, np.zeros(0))]:
        with pytest.raises(WrongAnswer) as excinfo:
            expect_array(returned, right, name="dW")
        assert "Python's sum()" not in str(excinfo.value)  # not zeros, not 0, nothing to sum


def test_non_numeric_arrays_are_rejected() -> None:
    with pytest.raises(WrongAnswer, match="dtype <U3"):
        expect_array(np.array(["abc"]), np.array([1.0]), name="db")
    with pytest.raises(WrongAnswer, match="dtype complex128"):
        expect_array(RIGHT.astype(complex), RIGHT, name="dW")
    with pytest.raises(WrongAnswer, match="dtype bool"):
        expect_array(RIGHT > 0, RIGHT, name="dW")


def test_wrong_shape_names_both_shapes_the_case_and_the_transpose() -> None:
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(RIGHT.T, RIGHT, name="dW", context={"where": "B=4, D=2, F=3"})
    text = message(excinfo)
    assert text.startswith("dW has shape (3, 2), expected (2, 3) (for B=4, D=2, F=3).\nHint: ")
    assert "exactly the transpose" in text


def test_strict_requires_float64_and_lenient_judges_only_the_values() -> None:
    as32 = RIGHT.astype(np.float32)
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(as32, RIGHT, name="dW")
    assert message(excinfo).startswith("dW has dtype float32, expected float64.")
    assert expect_array(as32, RIGHT, name="dW", strict=False) < VALUE_THRESHOLD
    assert expect_array(np.array([1, 2]), np.array([1.0, 2.0]), name="db", strict=False) == 0.0


def test_float64_numbers_with_float32_precision_fail_only_when_strict() -> None:
    through32 = RIGHT.astype(np.float32).astype(np.float64)
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(through32, RIGHT, name="dW")
    assert "float32 arithmetic" in message(excinfo)
    expect_array(through32, RIGHT, name="dW", strict=False)


def test_lenient_forgives_a_kept_axis_but_not_a_transposed_vector() -> None:
    db = np.array([1.5, -2.0, 3.25])
    assert expect_array(db[None, :], db, name="db", strict=False) == 0.0
    with pytest.raises(WrongAnswer, match=r"shape \(1, 3\), expected \(3,\)"):
        expect_array(db[None, :], db, name="db")
    column = db[:, None]
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(column.T, column, name="dW", strict=False)
    assert "transpose" in message(excinfo)


@pytest.mark.parametrize("number", [2.5, np.float64(2.5), np.float32(2.5)])
def test_lenient_forgives_a_single_number_where_the_answer_has_one(number: object) -> None:
    """db = np.sum(dy) is right when F = 1: its numbers are db's, as a 0-d array's (whose
    dropped axis of length 1 the value check forgives) are; the layout check judges the form.
    A numpy scalar was refused as "not a numpy array" and lost db too."""
    db = np.array([2.5])
    assert expect_array(number, db, name="db", strict=False) == 0.0
    assert expect_array(np.asarray(number), db, name="db", strict=False) == 0.0
    with pytest.raises(WrongAnswer, match="db should be a numpy array"):
        expect_array(number, db, name="db")
    with pytest.raises(WrongAnswer, match="db should be a numpy array") as excinfo:
        expect_array(number, np.array([2.5, 1.0]), name="db", strict=False)
    assert "a sum over every axis" in message(excinfo)
    with pytest.raises(WrongAnswer, match="db does not match the right answer"):
        expect_array(number, np.array([-1.0]), name="db", strict=False)
    with pytest.raises(WrongAnswer):
        expect_array(True, np.array([1.0]), name="db", strict=False)
    # and so does the numerical check that follows it in a hidden test (confirm_gradient)
    rng = np.random.default_rng(5)
    inputs = {"x": rng.standard_normal((4, 2)), "b": rng.standard_normal(1)}
    upstream = rng.standard_normal((4, 1))
    assert (
        confirm_gradient(
            lambda x, b: x[:, :1] + b, inputs, upstream, "b", upstream.sum(), name="db", rng=rng
        )
        < VALUE_THRESHOLD
    )


def test_unit_axes_differ() -> None:
    assert unit_axes_differ((1, 5), (5,))
    assert unit_axes_differ((5,), (5, 1))
    assert unit_axes_differ((1, 1, 5), (1, 5))
    assert not unit_axes_differ((1, 5), (5, 1))
    assert not unit_axes_differ((5, 3), (3, 5))
    assert not unit_axes_differ((2, 5), (5,))
    assert not unit_axes_differ((5,), (5,))


def test_wrong_values_give_error_threshold_and_diagnosis() -> None:
    context = {"where": "B=7, D=2, F=3", "batch_size": 7, "formula": "dW = x.T @ dy"}
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(RIGHT / 7, RIGHT, name="dW", strict=False, context=context)
    text = message(excinfo)
    first, hint = text.split("\n")
    assert first == (
        "dW does not match the right answer (for B=7, D=2, F=3): relative error 7.5e-01 "
        "(allowed: 1e-04)."
    )
    assert hint.startswith("Hint: dW is 1/B of the right answer (B = 7)")
    assert hint.endswith("Think it through: dW = x.T @ dy.")


def test_wrong_values_without_a_recognised_pattern_have_no_hint() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(rng.standard_normal(RIGHT.shape), RIGHT, name="dW")
    assert "\n" not in message(excinfo)


def test_nan_is_reported_as_such() -> None:
    broken = RIGHT.copy()
    broken[0, 1] = np.nan
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(broken, RIGHT, name="dW", strict=False)
    assert message(excinfo).startswith("dW contains NaN or infinity.")
    assert "1 of 6 entries" in message(excinfo)


def test_explicit_threshold_and_known_mistakes() -> None:
    assert expect_array(RIGHT * 1.01, RIGHT, name="dW", threshold=0.1) > 0
    swapped = np.arange(6.0).reshape(2, 3)
    hint = "dW holds the values of dx: return (dx, dW, db) in this order."
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(swapped, RIGHT, name="dW", context={"candidates": {hint: swapped}})
    assert message(excinfo).endswith(f"Hint: {hint}")


def test_unknown_context_keys_are_a_test_author_error() -> None:
    with pytest.raises(TypeError, match="batchsize"):
        expect_array(RIGHT, RIGHT, name="dW", context={"batchsize": 4})


# -- expect_layout ----------------------------------------------------------------------------


def test_layout_passes_the_right_layout_even_with_wrong_values() -> None:
    expect_layout(RIGHT.copy(), name="dW", shape=(2, 3), reference=RIGHT)
    expect_layout(-RIGHT, name="dW", shape=(2, 3), reference=RIGHT)  # values: not its business
    expect_layout(np.zeros(3), name="db", shape=(3,))


def test_layout_fails_shape_dtype_and_precision() -> None:
    with pytest.raises(WrongAnswer) as excinfo:
        expect_layout(RIGHT[:1], name="db", shape=(3,), context={"where": "B=2, D=1, F=3"})
    assert "extra axis of length 1" in message(excinfo)
    with pytest.raises(WrongAnswer, match="dtype float32, expected float64"):
        expect_layout(RIGHT.astype(np.float32), name="dW", shape=(2, 3))
    with pytest.raises(WrongAnswer, match="dtype int64, expected float64") as excinfo:
        expect_layout(np.zeros((2, 3), dtype=np.int64), name="dW", shape=(2, 3))
    assert "integer" in str(excinfo.value)
    through32 = RIGHT.astype(np.float32).astype(np.float64)
    with pytest.raises(WrongAnswer) as excinfo:
        expect_layout(through32, name="dW", shape=(2, 3), reference=RIGHT)
    assert message(excinfo).startswith("dW has dtype float64 but not float64 precision")
    expect_layout(through32, name="dW", shape=(2, 3))  # no reference: precision not judged


def test_layout_diagnoses_shapes_from_the_batch_size() -> None:
    with pytest.raises(WrongAnswer) as excinfo:
        expect_layout(np.zeros(4), name="db", shape=(3,), context={"batch_size": 4})
    assert "wrong axis" in message(excinfo)


# -- expect_unchanged, expect_tuple, expect_consistent ----------------------------------------


def test_unchanged_inputs_pass_and_nan_equals_nan() -> None:
    before = np.array([1.0, np.nan, 3.0])
    expect_unchanged(before, before.copy(), name="x")
    expect_unchanged(np.arange(3), np.arange(3), name="idx")


def test_changed_inputs_are_counted_not_shown() -> None:
    after = RIGHT.copy()
    after[0] = 0.0
    with pytest.raises(WrongAnswer) as excinfo:
        expect_unchanged(RIGHT, after, name="x", function="linear_forward")
    text = message(excinfo)
    assert text.startswith("linear_forward modified its argument x (3 of 6 entries changed).")
    for changed in (RIGHT.reshape(3, 2), RIGHT.astype(np.float32), None):
        with pytest.raises(WrongAnswer, match="type, shape or dtype changed"):
            expect_unchanged(RIGHT, changed, name="x")


def test_expect_tuple() -> None:
    assert expect_tuple((1, 2), ("y", "cache"), function="f") == (1, 2)
    assert expect_tuple([1, 2, 3], ("dx", "dW", "db"), function="g") == (1, 2, 3)
    with pytest.raises(WrongAnswer) as excinfo:
        expect_tuple((RIGHT, RIGHT), ("dx", "dW", "db"), function="linear_backward")
    assert str(excinfo.value) == (
        "linear_backward should return a tuple (dx, dW, db), but it returned a tuple of 2 items."
    )
    with pytest.raises(WrongAnswer, match="returned a numpy array of dtype float64"):
        expect_tuple(RIGHT, ("y", "cache"), function="linear_forward")


def test_expect_consistent() -> None:
    names = ("dx", "dW")
    expect_consistent(
        [RIGHT, None], [RIGHT.copy(), FakeHandle(1, "X")], names=names, problem="p", hint="h"
    )
    with pytest.raises(WrongAnswer) as excinfo:
        expect_consistent(
            [RIGHT, RIGHT],
            [RIGHT, RIGHT + 1],
            names=names,
            problem="calling it twice gave two answers",
            hint="use only the cache",
        )
    assert message(excinfo) == (
        "calling it twice gave two answers: dW came out different.\nHint: use only the cache"
    )
    with pytest.raises(WrongAnswer, match="dx came out different"):
        expect_consistent([RIGHT, RIGHT], [None, RIGHT], names=names, problem="p", hint="h")
    with pytest.raises(WrongAnswer, match="dx came out different"):
        expect_consistent([RIGHT, RIGHT], [RIGHT.T, RIGHT], names=names, problem="p", hint="h")


def test_describe_type_of_arrays_and_numpy_scalars() -> None:
    assert describe_type(np.zeros((2,), np.float32)) == (
        "a numpy array of dtype float32 and shape (2,)"
    )
    assert describe_type(np.float64(1.0)) == "a single number (float64), not an array"


def test_an_array_that_stayed_in_the_sandbox_is_described_as_an_array() -> None:
    from autograder.sandbox.model import Handle

    # dtype=object arrays cannot cross as data: the grader holds a handle to one.
    described = describe_type(Handle(7, "ndarray"))
    assert described.startswith("a numpy ndarray that does not hold plain numbers (dtype object")
    assert describe_type(Handle(8, "Cache")) == "an object of type Cache"


# -- expect_gradients -------------------------------------------------------------------------


def small_problem(B: int = 3, D: int = 4, F: int = 2, seed: int = 0) -> tuple[dict, np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs = {
        "x": rng.standard_normal((B, D)),
        "W": rng.standard_normal((D, F)),
        "b": rng.standard_normal(F),
    }
    return inputs, rng.standard_normal((B, F))


def test_gradients_right_pass_elementwise() -> None:
    inputs, g = small_problem()
    grads = {"x": g @ inputs["W"].T, "W": inputs["x"].T @ g, "b": g.sum(axis=0)}
    errors = expect_gradients(linear, inputs, g, grads)
    assert set(errors) == {"x", "W", "b"} and max(errors.values()) < 1e-8


def test_gradients_asked_for_in_the_wrong_form_say_what_to_pass() -> None:
    inputs, g = small_problem()
    dx = g @ inputs["W"].T
    with pytest.raises(TypeError, match=r"inputs must be a dict by argument name of f \(e.g. "):
        expect_gradients(linear, (inputs["x"],), g, {"x": dx})
    with pytest.raises(TypeError, match=r"grads must be a dict .*not tuple"):
        expect_gradients(linear, inputs, g, (dx,))
    with pytest.raises(TypeError, match=r"grads for \['dx'\], which are not in inputs"):
        expect_gradients(linear, inputs, g, {"dx": dx})


def test_gradients_wrong_fail_with_diagnosis_and_student_names() -> None:
    inputs, g = small_problem()
    with pytest.raises(WrongAnswer) as excinfo:
        expect_gradients(
            linear,
            inputs,
            g,
            {"b": g.mean(axis=0)},
            names={"b": "db"},
            context={"batch_size": 3, "batch_sum": True, "where": "B=3, D=4, F=2"},
        )
    text = str(excinfo.value)
    assert text.startswith("db does not match the numerical gradient (for B=3, D=4, F=2)")
    assert "mean over the batch" in text


def test_gradients_lenient_about_dtype_and_kept_axes_strict_otherwise() -> None:
    inputs, g = small_problem()
    db = g.sum(axis=0)
    expect_gradients(linear, inputs, g, {"b": db[None, :].astype(np.float32)}, strict=False)
    with pytest.raises(WrongAnswer, match="dtype float32"):
        expect_gradients(linear, inputs, g, {"b": db.astype(np.float32)})
    with pytest.raises(WrongAnswer, match="shape"):
        expect_gradients(linear, inputs, g, {"b": db[None, :]})
    with pytest.raises(WrongAnswer, match="NaN"):
        expect_gradients(linear, inputs, g, {"b": db * np.nan})
    with pytest.raises(WrongAnswer, match="should be a numpy array"):
        expect_gradients(linear, inputs, g, {"b": list(db)})


def test_gradients_of_an_affine_function_rounded_to_float32_need_a_large_step() -> None:
    """``eps``: with the default step, rounding in ``f`` swamps the difference; a linear layer
    is affine in each input, so a step of 1 is exact and only the rounding is left."""

    def rounds(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        return linear(x, W, b).astype(np.float32).astype(np.float64)

    inputs, g = small_problem(B=8, D=10, F=9)
    grads = {"W": inputs["x"].T @ g}
    for limit, directions in ((100, 4), (0, 2)):  # entry by entry, and along directions
        kw = {"strict": False, "elementwise_limit": limit, "n_directions": directions}
        with pytest.raises(WrongAnswer, match="does not match the numerical gradient"):
            expect_gradients(rounds, inputs, g, grads, **kw)
        expect_gradients(rounds, inputs, g, grads, eps=1.0, **kw)
    with pytest.raises(ValueError, match="eps must be positive"):
        expect_gradients(linear, inputs, g, grads, eps=0.0)


class CountedLinear:
    """The linear layer's output, counting how often the check called it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.calls += 1
        return linear(x, W, b)


def test_large_gradients_use_random_directions() -> None:
    B, D, F = 60, 50, 45  # W has 2,250 entries, more than ELEMENTWISE_LIMIT
    assert D * F > ELEMENTWISE_LIMIT
    inputs, g = small_problem(B, D, F)
    counted = CountedLinear()

    rng = np.random.default_rng(1)
    dW = inputs["x"].T @ g
    assert expect_gradients(counted, inputs, g, {"W": dW}, rng=rng)["W"] < 1e-7
    assert counted.calls < 20
    with pytest.raises(WrongAnswer, match="random directions"):
        expect_gradients(linear, inputs, g, {"W": dW / B}, rng=rng)
    # Without an rng (a public check), the directions come from a fixed seed: the same verdict
    # every run, and a wrong gradient is still caught.
    assert expect_gradients(linear, inputs, g, {"W": dW})["W"] < 1e-7
    with pytest.raises(WrongAnswer, match="random directions"):
        expect_gradients(linear, inputs, g, {"W": dW / B})


def test_elementwise_limit_zero_checks_even_small_gradients_along_directions() -> None:
    inputs, g = small_problem(3, 4, 5)  # W has 20 entries: element-wise by default
    counted = CountedLinear()

    dW = inputs["x"].T @ g
    rng = np.random.default_rng(2)
    expect_gradients(counted, inputs, g, {"W": dW})
    assert counted.calls == 2 * dW.size
    counted.calls = 0
    expect_gradients(counted, inputs, g, {"W": dW}, rng=rng, elementwise_limit=0)
    assert counted.calls == 2 * DEFAULT_DIRECTIONS
    with pytest.raises(WrongAnswer, match="random directions"):
        expect_gradients(linear, inputs, g, {"W": dW * 1.01}, rng=rng, elementwise_limit=0)
    counted.calls = 0
    expect_gradients(counted, inputs, g, {"W": dW}, rng=rng, elementwise_limit=0, n_directions=2)
    assert counted.calls == 4
    with pytest.raises(WrongAnswer, match="random directions"):
        expect_gradients(
            linear,
            inputs,
            g,
            {"W": dW.T.reshape(dW.shape)},
            rng=rng,
            elementwise_limit=0,
            n_directions=2,
        )


def test_confirm_gradient_is_a_lenient_two_direction_check() -> None:
    inputs, g = small_problem(4, 3, 5)
    counted = CountedLinear()

    rng = np.random.default_rng(3)
    dW = inputs["x"].T @ g
    error = confirm_gradient(counted, inputs, g, "W", dW.astype(np.float32), name="dW", rng=rng)
    assert error < 1e-4 and counted.calls == 4  # float32 forgiven, as strict=False
    with pytest.raises(WrongAnswer, match="dW does not match"):
        confirm_gradient(linear, inputs, g, "W", dW / 4, name="dW", rng=rng)


def test_numerical_check_of_a_wrong_shaped_forward_is_the_students_mistake() -> None:
    from autograder.checks import expect_gradients

    def wrong_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (x @ W + b).T  # the student's own forward, used by a public test

    rng = np.random.default_rng(0)
    inputs = {"x": rng.normal(size=(3, 2)), "W": rng.normal(size=(2, 4)), "b": rng.normal(size=4)}
    dy = rng.normal(size=(3, 4))
    with pytest.raises(WrongAnswer, match="dW could not be checked numerically"):
        expect_gradients(wrong_forward, inputs, dy, {"W": inputs["x"].T @ dy}, names={"W": "dW"})


def test_a_function_answering_a_constant_is_not_credited_with_purity() -> None:
    from autograder.checks import expect_uses_inputs

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    expect_uses_inputs("f", [a, 0.0], [b, 0.0])  # one output that changes is enough
    with pytest.raises(WrongAnswer, match="f gave the same answer for two different inputs"):
        expect_uses_inputs("f", [np.zeros((2, 3)), 0], [np.zeros((2, 3)), 0])
    with pytest.raises(WrongAnswer, match="same answer"):
        expect_uses_inputs("f", [None, "x"], [None, "x"])  # not numbers: compared as written
    expect_uses_inputs("f", [np.zeros((2, 3))], [np.zeros((3, 2))])  # a shape that follows
    # Too large for a float (the student's plain data can be anything): compared as written.
    expect_uses_inputs("f", [10**400], [10**401])
    with pytest.raises(WrongAnswer, match="same answer"):
        expect_uses_inputs("f", [10**400], [10**400])
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    expect_uses_inputs("f", [deep], [deep])  # too deep to convert or to repr
    # Objects that stayed in the worker (a str subclass, a lazy array-like) show nothing.
    from autograder.sandbox import Handle

    with pytest.raises(WrongAnswer, match=r"not arrays or numbers \(an object of type S\)"):
        expect_uses_inputs("f", [Handle(1, "S"), Handle(2, "S")], [Handle(3, "S"), Handle(4, "S")])
    expect_uses_inputs("f", [Handle(1, "Cache"), a], [Handle(2, "Cache"), b])  # the array shows


def test_value_checks_take_the_right_numbers_as_lists_and_layout_checks_do_not() -> None:
    right = np.array([[1.0, 2.0], [3.0, 4.5]])
    assert expect_array([[1, 2.0], [3.0, 4.5]], right, name="dW", strict=False) == 0.0
    with pytest.raises(WrongAnswer, match="dW should be a numpy array"):
        expect_array(right.tolist(), right, name="dW")  # strict: the form is what is judged
    for wrong in ([[1.0, 2.0], [3.0]], [["1", "2"], ["3", "4.5"]], [[1.0, True], [3.0, 4.5]]):
        with pytest.raises(WrongAnswer, match="dW should be a numpy array"):
            expect_array(wrong, right, name="dW", strict=False)
    with pytest.raises(WrongAnswer, match="does not match"):
        expect_array([[1.0, 2.0], [3.0, 5.5]], right, name="dW", strict=False)


def test_the_graders_frames_are_hidden_from_reports_only_for_the_students_failures() -> None:
    """``__tracebackhide__`` of the check helpers and the submission proxy: a wrong answer or
    an error in student code ends at the test's line; a bug of ours keeps its frames."""
    failures: list[BaseException] = [
        WrongAnswer("dW is wrong"),
        StudentException("boom", exc_type="ValueError"),
        TypeError("a bug of ours"),
    ]
    hidden = []
    for failure in failures:
        with pytest.raises(type(failure)) as excinfo:
            raise failure
        hidden.append(students_failure(excinfo))
    assert hidden == [True, True, False]


def test_numpys_common_errors_get_a_hint_and_others_none() -> None:
    hints = [
        exception_hint("ValueError", message)
        for message in (
            "in f: matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
            "signature (n?,k),(k,m?)->(n?,m?) (size 3 is different from 4)",
            "in f: shapes (2,4) and (3,4) not aligned: 4 (dim 1) != 3 (dim 0)",
            "in f: operands could not be broadcast together with shapes (2,3) (4,)",
            "in f: cannot reshape array of size 0 into shape (0,newaxis)",
            "in f: something else",
        )
    ]
    assert [h.split(":")[0].split(" ")[:3] for h in hints[:4]] == [
        ["the", "inner", "sizes"],
        ["the", "inner", "sizes"],
        ["two", "arrays", "of"],
        ["reshape", "cannot", "work"],
    ]
    assert hints[4] == ""
    assert exception_hint("TypeError", "operands could not be broadcast together") == ""
    error = StudentException(
        "in f: operands could not be broadcast together", exc_type="ValueError"
    )
    error.hint = hints[2]
    assert (
        error.describe()
        == f"ValueError: in f: operands could not be broadcast together\nHint: {hints[2]}"
    )


def test_a_reshape_error_gets_a_reshape_hint_not_the_matmul_one() -> None:
    for message in (
        "in f: cannot reshape array of size 12 into shape (4,5)",
        "in f: cannot reshape array of size 12 into shape (5,newaxis)",
    ):
        hint = exception_hint("ValueError", message)
        assert hint.startswith("reshape keeps every number of the array"), hint
        assert ".T" not in hint and "matrix product" not in hint, hint
    # numpy's dot names the shapes it could not align; nothing else that says "shapes" does.
    assert exception_hint("ValueError", "in f: shapes (2,3,4) and (5,6) not aligned: 4 != 5")
    assert not exception_hint("ValueError", "in f: shapes (a) and (b) not aligned, see reshape")


def test_einsum_subscripts_that_fit_one_number_of_axes_get_an_einsum_hint() -> None:
    # linear_nd: subscripts written for (B, T, D) or an output without '...' that was meant
    # to sum over it; numpy's words name neither the cause nor the fix.
    errors = {}
    for subscripts, shapes in {
        "summed_ellipsis": ("...d,...f->df", [(2, 3, 4), (2, 3, 5)]),
        "too_many_letters": ("bti,btj->ij", [(2, 4), (2, 5)]),
        "too_few_letters": ("bti,btj->ij", [(2, 3, 3, 4), (2, 3, 3, 5)]),
    }.values():
        with pytest.raises(ValueError) as excinfo:
            np.einsum(subscripts, *(np.ones(shape) for shape in shapes))
        errors[subscripts + str(len(shapes[0]))] = f"in f: {excinfo.value}"
    hints = {key: exception_hint("ValueError", message) for key, message in errors.items()}
    assert hints["...d,...f->df3"].startswith("np.einsum never sums away the axes that '...'")
    for key in ("bti,btj->ij2", "bti,btj->ij4"):
        assert hints[key].startswith("np.einsum needs one letter for each axis"), hints[key]


def test_a_dtype_other_than_float64_is_named_as_it_is() -> None:
    """float16 and float128 outputs were told "float32 keeps only about 7 digits"."""
    right = np.arange(6.0).reshape(2, 3) + 0.5
    for dtype, said in (
        (np.float32, "float32 keeps only about 7 significant digits"),
        (np.float16, "float16 keeps only about 3 significant digits"),
        (np.longdouble, f"numpy's default float64 is asked for, not {np.dtype(np.longdouble)}"),
    ):
        with pytest.raises(WrongAnswer) as excinfo:
            expect_array(right.astype(dtype), right, name="dW")
        assert said in str(excinfo.value), str(excinfo.value)
        assert dtype is np.float32 or "float32" not in str(excinfo.value)


def test_wrong_values_from_an_integer_array_are_blamed_on_the_integers() -> None:
    """.astype(int) truncates: in one case all of db became 0 and the hint said "is it still a
    placeholder?", and the value items never mentioned the integers."""
    right = np.array([0.4, -0.3, 2.5])
    with pytest.raises(WrongAnswer) as excinfo:
        expect_array(right.astype(int), right, name="db", strict=False)
    text = str(excinfo.value)
    assert "Hint: db holds integers (int64), and an integer array cannot hold fractions" in text
    assert "placeholder" not in text


def test_a_forward_output_is_differentiated_as_it_is_only_when_its_rows_keep_their_order() -> None:
    y = np.arange(12.0).reshape(3, 4)
    for given in (y, y.tolist(), y.reshape(-1), y.astype(np.float32)):
        out = differentiable_output(given, (3, 4), name="dx", function="linear_forward")
        assert out.dtype == np.float64 and np.array_equal(out, y)
    for wrong in (y.T, y[:2], "y", None):
        with pytest.raises(WrongAnswer, match="dx cannot be checked numerically: your linear_fo"):
            differentiable_output(wrong, (3, 4), name="dx", function="linear_forward")


def test_a_forward_output_with_swapped_leading_axes_is_not_read_as_scrambled_rows() -> None:
    """linear_nd: a y of shape (4, 3, 2, 6) for (3, 4, 2, 6) has the right size and last axis,
    and reshaping it would scramble the rows, so a correct dx would be called wrong."""
    y = np.arange(144.0).reshape(3, 4, 2, 6)
    for given in (y, y.reshape(12, 2, 6), y.reshape(3, 8, 6), y.reshape(24, 6), y[None], y.ravel()):
        out = differentiable_output(given, y.shape, name="dx", function="linear_nd_forward")
        assert np.array_equal(out, y)
    for wrong in (y.transpose(1, 0, 2, 3), y.transpose(0, 2, 1, 3), y.reshape(4, 3, 2, 6)[::-1]):
        with pytest.raises(WrongAnswer, match="dx cannot be checked numerically"):
            differentiable_output(wrong, y.shape, name="dx", function="linear_nd_forward")


def test_every_check_helper_of_the_facade_is_in_the_readme() -> None:
    """Test authors find the helpers in the README's table, not by reading the bundled tests."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    helpers = [
        name
        for name in autograder.__all__
        if getattr(getattr(checks, name, None), "__module__", None) == checks.__name__
    ]
    assert "confirm_gradient" in helpers
    assert [name for name in helpers if f"| `{name}(" not in readme] == []
