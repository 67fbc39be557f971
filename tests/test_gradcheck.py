"""Tests of autograder.gradcheck, including the measurement behind its thresholds."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from autograder.checks import PRECISION_THRESHOLD, VALUE_THRESHOLD
from autograder.gradcheck import (
    DIRECTIONAL_THRESHOLD,
    NUMERICAL_THRESHOLD,
    REL_ERROR_FLOOR,
    GradCheckResult,
    directional_check,
    gradient_check,
    numerical_vjp,
    rel_error,
)


def linear(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return x @ W + b


def linear_inputs(rng: np.random.Generator, B: int, D: int, F: int) -> dict[str, np.ndarray]:
    return {
        "x": rng.standard_normal((B, D)),
        "W": rng.standard_normal((D, F)),
        "b": rng.standard_normal(F),
    }


def true_grads(inputs: dict[str, np.ndarray], g: np.ndarray) -> dict[str, np.ndarray]:
    return {"x": g @ inputs["W"].T, "W": inputs["x"].T @ g, "b": g.sum(axis=0)}


# -- rel_error --------------------------------------------------------------------------------


def test_rel_error_is_max_difference_over_max_magnitude() -> None:
    a = np.array([1.0, 2.0, -4.0])
    b = np.array([1.0, 2.5, -4.0])
    assert rel_error(a, b) == pytest.approx(0.5 / 8.0)
    assert rel_error(a, a) == 0.0


def test_rel_error_is_not_blown_up_by_entries_near_zero() -> None:
    # Elementwise |a-b|/(|a|+|b|) would be 1/3 here; against the largest magnitude it is tiny.
    a = np.array([1.0, 1e-13])
    b = np.array([1.0, 2e-13])
    assert rel_error(a, b) < 1e-12


def test_rel_error_floor_makes_two_zero_arrays_agree() -> None:
    zeros = np.zeros(3)
    assert rel_error(zeros, zeros) == 0.0
    tiny = np.full(3, REL_ERROR_FLOOR / 1e4)
    assert rel_error(zeros, tiny) == pytest.approx(1e-4)


def test_rel_error_is_nan_for_non_finite_and_rejects_shape_mismatch() -> None:
    assert math.isnan(rel_error(np.array([np.nan]), np.array([1.0])))
    assert math.isnan(rel_error(np.array([1.0]), np.array([np.inf])))
    with pytest.raises(ValueError, match="equal shapes"):
        rel_error(np.zeros((1, 3)), np.zeros(3))
    assert rel_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_result_is_frozen_and_nan_never_passes() -> None:
    result = GradCheckResult.judge(1e-9, 1e-6)
    assert result == GradCheckResult(1e-9, 1e-6, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.passed = False  # type: ignore[misc]
    assert not GradCheckResult.judge(float("nan"), 1e-6).passed
    assert "FAILED" in str(GradCheckResult.judge(1.0, 1e-6))


# -- numerical_vjp ----------------------------------------------------------------------------


@pytest.mark.parametrize("wrt", ["x", "W", "b"])
def test_numerical_vjp_matches_the_closed_form(wrt: str) -> None:
    rng = np.random.default_rng(0)
    inputs = linear_inputs(rng, 3, 4, 5)
    g = rng.standard_normal((3, 5))
    numerical = numerical_vjp(linear, inputs, g, wrt)
    assert numerical.dtype == np.float64
    assert rel_error(numerical, true_grads(inputs, g)[wrt]) < 1e-9


def test_numerical_vjp_works_in_float64_whatever_the_input_dtype() -> None:
    rng = np.random.default_rng(1)
    inputs = {k: v.astype(np.float32) for k, v in linear_inputs(rng, 2, 3, 4).items()}
    g = rng.standard_normal((2, 4)).astype(np.float32)
    seen: list[np.dtype[np.float64]] = []

    def f(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        seen.append(x.dtype)
        return linear(x, W, b)

    numerical = numerical_vjp(f, inputs, g, "W")
    assert set(seen) == {np.dtype(np.float64)}
    as64 = {k: v.astype(np.float64) for k, v in inputs.items()}
    assert rel_error(numerical, true_grads(as64, g.astype(np.float64))["W"]) < 1e-9
    assert all(v.dtype == np.float32 for v in inputs.values())


def test_numerical_vjp_never_touches_the_callers_arrays_even_when_f_raises() -> None:
    rng = np.random.default_rng(2)
    inputs = linear_inputs(rng, 2, 3, 4)
    before = {k: v.copy() for k, v in inputs.items()}
    g = rng.standard_normal((2, 4))
    calls = 0

    def flaky(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise RuntimeError("boom")
        return linear(x, W, b)

    with pytest.raises(RuntimeError):
        numerical_vjp(flaky, inputs, g, "x")
    numerical_vjp(linear, inputs, g, "W")
    for name in inputs:
        assert np.array_equal(inputs[name], before[name])


def test_numerical_vjp_restores_the_perturbed_entry_between_calls() -> None:
    rng = np.random.default_rng(3)
    inputs = linear_inputs(rng, 2, 2, 2)
    original = inputs["W"].copy()
    perturbed: list[int] = []

    def spy(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        # Exactly one entry may differ from the original at any call.
        perturbed.append(int(np.count_nonzero(original != W)))
        return linear(x, W, b)

    numerical_vjp(spy, inputs, np.ones((2, 2)) * 0.5, "W")
    assert perturbed == [1] * 8


def test_numerical_vjp_rejects_unknown_names_and_wrong_output_shapes() -> None:
    rng = np.random.default_rng(4)
    inputs = linear_inputs(rng, 2, 3, 4)
    with pytest.raises(KeyError):
        numerical_vjp(linear, inputs, np.zeros((2, 4)), "y")
    with pytest.raises(ValueError, match="upstream"):
        numerical_vjp(linear, inputs, np.zeros((4, 2)), "x")


# -- gradient_check and directional_check -----------------------------------------------------


def test_gradient_check_passes_right_and_fails_wrong_gradients() -> None:
    rng = np.random.default_rng(5)
    inputs = linear_inputs(rng, 4, 3, 5)
    g = rng.standard_normal((4, 5))
    right = true_grads(inputs, g)
    results = gradient_check(linear, inputs, g, right)
    assert set(results) == {"x", "W", "b"}
    assert all(r.passed and r.threshold == NUMERICAL_THRESHOLD for r in results.values())
    wrong = gradient_check(linear, inputs, g, {"W": right["W"] / 4, "b": -right["b"]})
    assert not wrong["W"].passed and not wrong["b"].passed
    assert wrong["W"].rel_error == pytest.approx(0.6, rel=1e-6)  # |1 - 1/4| / (1 + 1/4)
    transposed = gradient_check(linear, inputs, g, {"W": right["W"].T})
    assert transposed["W"].rel_error == math.inf and not transposed["W"].passed


def test_directional_check_passes_right_and_fails_wrong_gradients() -> None:
    rng = np.random.default_rng(6)
    inputs = linear_inputs(rng, 6, 5, 5)
    g = rng.standard_normal((6, 5))
    right = true_grads(inputs, g)
    assert directional_check(linear, inputs, g, right, rng=rng).passed
    for wrong in (
        {"W": right["W"].T},  # square: same shape, wrong numbers
        {"W": right["W"] / 6},
        {"x": -right["x"]},
        {"b": g.mean(axis=0)},
        {"W": np.zeros_like(right["W"])},
    ):
        result = directional_check(linear, inputs, g, wrong, rng=rng)
        assert not result.passed, wrong.keys()
        assert result.rel_error > 1e-3


def test_directional_check_costs_two_calls_per_direction_whatever_the_size() -> None:
    rng = np.random.default_rng(7)
    counts = []
    for size in (3, 60):
        inputs = linear_inputs(rng, size, size, size)
        g = rng.standard_normal((size, size))
        calls = 0

        def counted(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
            nonlocal calls
            calls += 1
            return linear(x, W, b)

        directional_check(counted, inputs, g, true_grads(inputs, g), rng=rng, n_directions=3)
        counts.append(calls)
    assert counts == [6, 6]


def test_directional_check_is_robust_to_a_direction_nearly_orthogonal_to_the_gradient() -> None:
    # A "generator" whose first direction is exactly orthogonal to the gradient: <grad, v> = 0,
    # so a relative error measured against |<grad, v>| would be pure noise / 0.
    rng = np.random.default_rng(8)
    inputs = linear_inputs(rng, 3, 2, 2)
    g = rng.standard_normal((3, 2))
    dW = true_grads(inputs, g)["W"]
    orthogonal = np.array([[dW[0, 1], -dW[0, 0]], [0.0, 0.0]])

    class Fixed:
        def standard_normal(self, shape: tuple[int, ...]) -> np.ndarray:
            return orthogonal.reshape(shape)

    result = directional_check(
        linear,
        inputs,
        g,
        {"W": dW},
        rng=Fixed(),  # type: ignore[arg-type]
        n_directions=1,
    )
    assert result.passed and result.rel_error < 1e-8


def test_directional_check_leaves_inputs_alone_and_rejects_bad_gradients() -> None:
    rng = np.random.default_rng(9)
    inputs = linear_inputs(rng, 3, 4, 2)
    before = {k: v.copy() for k, v in inputs.items()}
    g = rng.standard_normal((3, 2))
    right = true_grads(inputs, g)
    directional_check(linear, inputs, g, right, rng=rng)
    assert all(np.array_equal(inputs[k], before[k]) for k in inputs)
    assert directional_check(linear, inputs, g, {"W": right["W"].T}, rng=rng).rel_error == math.inf
    nan = right["b"].copy()
    nan[0] = np.nan
    assert not directional_check(linear, inputs, g, {"b": nan}, rng=rng).passed
    with pytest.raises(KeyError):
        directional_check(linear, inputs, g, {"y": right["b"]}, rng=rng)
    with pytest.raises(ValueError):
        directional_check(linear, inputs, g, right, rng=rng, n_directions=0)


# -- the measurement behind the thresholds ----------------------------------------------------


Grads = tuple[np.ndarray, np.ndarray, np.ndarray]


def correct_styles(x: np.ndarray, W: np.ndarray, g: np.ndarray) -> dict[str, Grads]:
    """Four correct ways students compute (dx, dW, db): different summation orders."""
    B, D = x.shape
    dx, dW, db = np.zeros((B, D)), np.zeros_like(W), np.zeros(W.shape[1])
    for n in range(B):
        dx[n] = W @ g[n]
        dW += np.outer(x[n], g[n])
        db += g[n]
    return {
        "matmul": (g @ W.T, x.T @ g, g.sum(axis=0)),
        "einsum": (
            np.einsum("bj,ij->bi", g, W),
            np.einsum("bi,bj->ij", x, g),
            np.einsum("bj->j", g),
        ),
        "loops": (dx, dW, db),
        "dot": (np.dot(g, W.T), np.dot(x.T, g), np.add.reduce(g, axis=0)),
    }


def wrong_answers(x: np.ndarray, W: np.ndarray, g: np.ndarray) -> dict[str, Grads]:
    """Structural mistakes with the right shapes (so the values must catch them)."""
    B = x.shape[0]
    dx, dW, db = g @ W.T, x.T @ g, g.sum(axis=0)
    wrong = {"sign": (-dx, -dW, -db), "factor 2": (2 * dx, 2 * dW, 2 * db)}
    if B > 1:
        wrong["1/B"] = (dx / B, dW / B, db / B)
        wrong["B"] = (B * dx, B * dW, B * db)
        dropped = np.vstack([dx[:-1], np.zeros_like(dx[-1:])])
        wrong["last example dropped"] = (dropped, x[:-1].T @ g[:-1], g[:-1].sum(axis=0))
    return wrong


@dataclass
class Measurement:
    """Worst and best errors seen, by what was compared."""

    agree64: float = 0.0  # correct float64 styles against each other
    float32_min: float = math.inf  # float32 computation against float64, arrays of >= 3 entries
    float32_min_any: float = math.inf  # the same including 1- and 2-entry arrays
    float32_max: float = 0.0
    wrong_min: float = math.inf  # structural mistakes against the right answer
    elementwise_correct: float = 0.0  # correct gradients against gradient_check
    elementwise_wrong: float = math.inf
    directional_correct: float = 0.0
    directional_wrong: float = math.inf

    def update(self, field: str, value: float, worst: Callable[[float, float], float]) -> None:
        setattr(self, field, worst(getattr(self, field), value))


def measure(cases: int, max_size: int, max_elementwise: int, seed: int) -> Measurement:
    """The sweep quoted in autograder.gradcheck's docstring (there with 2,000 cases)."""
    rng = np.random.default_rng(seed)
    m = Measurement()
    for case in range(cases):
        sizes = rng.integers(1, max_size + 1, size=3)
        if case % 2:  # every other case small enough for the element-by-element check
            sizes = rng.integers(1, max_elementwise + 1, size=3)
        B, D, F = (int(n) for n in sizes)
        inputs = linear_inputs(rng, B, D, F)
        x, W = inputs["x"], inputs["W"]
        g = rng.standard_normal((B, F))
        styles = correct_styles(x, W, g)
        right = styles["matmul"]
        x32, W32, g32 = x.astype(np.float32), W.astype(np.float32), g.astype(np.float32)
        as32 = (g32 @ W32.T, x32.T @ g32, g32.sum(axis=0))
        for grads in styles.values():
            for a, r in zip(grads, right, strict=True):
                m.update("agree64", rel_error(a, r), max)
        for a, r in zip(as32, right, strict=True):
            # A handful of float32 roundings can all land near zero by luck; the hidden
            # tests' smallest output has 3 entries.
            if a.size >= 3:
                m.update("float32_min", rel_error(a, r), min)
            m.update("float32_min_any", rel_error(a, r), min)
            m.update("float32_max", rel_error(a, r), max)
        wrong = wrong_answers(x, W, g)
        for grads in wrong.values():
            m.update(
                "wrong_min", max(rel_error(a, r) for a, r in zip(grads, right, strict=True)), min
            )
        elementwise = case % 2 == 1
        for grads in styles.values():
            named = dict(zip("xWb", grads, strict=True))
            if elementwise:
                errors = [r.rel_error for r in gradient_check(linear, inputs, g, named).values()]
                m.update("elementwise_correct", max(errors), max)
            for k, v in named.items():
                result = directional_check(linear, inputs, g, {k: v}, rng=rng)
                m.update("directional_correct", result.rel_error, max)
        for grads in wrong.values():
            named = dict(zip("xWb", grads, strict=True))
            if elementwise:
                errors = [r.rel_error for r in gradient_check(linear, inputs, g, named).values()]
                m.update("elementwise_wrong", max(errors), min)
            worst = max(
                directional_check(linear, inputs, g, {k: v}, rng=rng).rel_error
                for k, v in named.items()
            )
            m.update("directional_wrong", worst, min)
    return m


def assert_thresholds_separate(m: Measurement) -> None:
    # Correct answers pass with a wide margin ...
    assert m.agree64 < PRECISION_THRESHOLD / 1000
    assert m.elementwise_correct < NUMERICAL_THRESHOLD / 10
    assert m.directional_correct < DIRECTIONAL_THRESHOLD / 10
    # ... float32 lands between the two comparison thresholds ...
    assert m.float32_min > PRECISION_THRESHOLD * 10 and m.float32_max < VALUE_THRESHOLD / 10
    # ... and every structural mistake fails every check.
    assert m.wrong_min > VALUE_THRESHOLD * 5
    assert m.elementwise_wrong > VALUE_THRESHOLD * 5
    assert m.directional_wrong > VALUE_THRESHOLD * 5


def test_threshold_measurement() -> None:
    assert_thresholds_separate(measure(cases=40, max_size=40, max_elementwise=8, seed=0))
