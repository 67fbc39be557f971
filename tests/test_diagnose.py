"""Tests of autograder.diagnose: each classic mistake is recognised, and nothing leaks."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograder.diagnose import Diagnosis, diagnose, diagnose_shape

B, D, F = 4, 3, 5


@pytest.fixture
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((B, D)), rng.standard_normal((B, F))
    return {"x": x, "g": g, "dW": x.T @ g, "db": g.sum(axis=0)}


def kind(actual: object, expected: object, **context: object) -> str | None:
    found = diagnose(actual, expected, name="dW", **context)  # type: ignore[arg-type]
    return None if found is None else found.kind


def test_transpose_of_a_non_square_gradient(data: dict[str, np.ndarray]) -> None:
    found = diagnose(data["dW"].T, data["dW"], name="dW")
    assert found is not None and found.kind == "transposed"
    assert "transpose" in found.hint and str(found) == found.hint


def test_transpose_of_a_square_gradient() -> None:
    rng = np.random.default_rng(1)
    right = rng.standard_normal((3, 3))
    assert kind(right.T, right) == "transposed"


def test_shape_of_the_transpose_with_other_numbers(data: dict[str, np.ndarray]) -> None:
    assert kind(data["dW"].T + 1.0, data["dW"]) == "transposed_shape"


@pytest.mark.parametrize(
    ("factor", "batch_sum", "expected"),
    [
        (1 / B, False, "extra_batch_factor"),
        (1 / B, True, "mean_instead_of_sum"),
        (float(B), False, "missing_batch_factor"),
        (-1.0, False, "wrong_sign"),
        (2.0, False, "factor_two"),
        (0.5, False, "factor_two"),
        (3.7, False, "scaled"),
    ],
)
def test_scale_factors(
    data: dict[str, np.ndarray], factor: float, batch_sum: bool, expected: str
) -> None:
    assert kind(factor * data["dW"], data["dW"], batch_size=B, batch_sum=batch_sum) == expected


@pytest.mark.parametrize(
    ("factor", "batch_sum"), [(2.0, False), (0.5, False), (0.5, True), (2.0, True)]
)
def test_with_a_batch_of_two_a_factor_of_two_names_both_causes(
    data: dict[str, np.ndarray], factor: float, batch_sum: bool
) -> None:
    # 2 * dW and B * dW are the same numbers when B = 2: naming only B would mislead a
    # student who doubled a term.
    found = diagnose(factor * data["dW"], data["dW"], name="dW", batch_size=2, batch_sum=batch_sum)
    assert found is not None and found.kind == "factor_two_or_batch"
    assert "of 2 or of B" in found.hint
    # A mean where a sum belongs makes the answer smaller, never 2 (or B) times larger.
    assert ("mean over the batch" in found.hint) == (batch_sum and factor < 1)


def test_mean_hint_says_where_the_one_over_b_lives(data: dict[str, np.ndarray]) -> None:
    found = diagnose(data["db"] / B, data["db"], name="db", batch_size=B, batch_sum=True)
    assert found is not None and "mean" in found.hint and "dy" in found.hint


def test_batch_factors_need_a_batch_larger_than_one(data: dict[str, np.ndarray]) -> None:
    assert kind(data["dW"] * 0.5, data["dW"], batch_size=1) == "factor_two"
    # Without the batch size a 1/B cannot be named, but the scaling is still seen.
    assert kind(data["dW"] / B, data["dW"]) == "scaled"


def test_sum_over_the_wrong_axis_and_no_sum(data: dict[str, np.ndarray]) -> None:
    g = data["g"]
    assert diagnose(g.sum(axis=1), data["db"], name="db", batch_size=B).kind == "wrong_axis"
    assert diagnose(g, data["db"], name="db", batch_size=B).kind == "not_summed"
    assert diagnose(np.float64(g.sum()), data["db"], name="db").kind == "summed_everything"


def test_kept_axis_with_right_and_wrong_numbers(data: dict[str, np.ndarray]) -> None:
    right = diagnose(data["db"][None, :], data["db"], name="db")
    assert right is not None and right.kind == "kept_axis" and "numbers are right" in right.hint
    assert "no np.matrix" in right.hint  # its sums are (1, n) whatever axis=0 says
    wrong = diagnose(2 * data["db"][None, :], data["db"], name="db")
    assert wrong is not None and wrong.kind == "kept_axis" and "numbers are right" not in wrong.hint


def test_float32_precision(data: dict[str, np.ndarray]) -> None:
    as32 = data["dW"].astype(np.float32).astype(np.float64)
    found = diagnose(as32, data["dW"], name="dW")
    assert found is not None and found.kind == "float32_precision" and "float64" in found.hint


def test_one_or_two_numbers_are_not_called_proportional() -> None:
    """A single number, or two that sum to 0, is a multiple of any other of its kind: a wrong
    class picked in a loss is no "right structure, wrong constant"."""
    assert kind(np.float64(2.31), np.float64(1.7)) is None
    assert kind(np.array([0.4]), np.array([1.3])) is None
    assert kind(np.array([0.2, -0.2]), np.array([-0.7, 0.7])) is None
    assert kind(np.array([1.0, 2.0, 4.0]) * 3.7, np.array([1.0, 2.0, 4.0])) == "scaled"
    # A named factor is still evidence, even for one number (a summed loss: B times).
    assert kind(np.float64(1.7 * 6), np.float64(1.7), batch_size=6) == "missing_batch_factor"
    assert kind(np.float64(-1.7), np.float64(1.7)) == "wrong_sign"


def test_an_extra_division_by_b_is_explained_without_claiming_a_sum(
    data: dict[str, np.ndarray],
) -> None:
    found = diagnose(data["x"] / B, data["x"], name="dx", batch_size=B)
    assert found is not None and found.kind == "extra_batch_factor"
    assert "sums the examples" not in found.hint  # dx is not a sum over the batch
    assert "its 1/B already lives in the upstream gradient dy" in found.hint


def test_all_zeros_and_non_finite(data: dict[str, np.ndarray]) -> None:
    assert kind(np.zeros_like(data["dW"]), data["dW"]) == "all_zeros"
    zeros = diagnose(np.zeros_like(data["dW"]), data["dW"], name="dW")
    assert zeros is not None and "placeholder (np.zeros_like)" in zeros.hint
    # A single number (a loss) of 0 is no placeholder array.
    loss = diagnose(np.float64(0.0), np.float64(1.7), name="loss")
    assert loss is not None and loss.kind == "all_zeros"
    one = diagnose(np.zeros((3, 2)), np.ones((3, 2)), name="dW", batch_size=1)
    assert one is not None and "skips example 0, range(1, B)" in one.hint
    assert "range(1, B)" not in zeros.hint
    assert "placeholder" not in loss.hint and "loss is 0 where it should not be" in loss.hint
    broken = data["dW"].copy()
    broken[0, 0] = np.nan
    broken[1, 1] = np.inf
    found = diagnose(broken, data["dW"], name="dW")
    assert found is not None and found.kind == "not_finite" and "2 of 15" in found.hint


def test_candidates_come_first_and_never_match_the_right_answer(
    data: dict[str, np.ndarray],
) -> None:
    hint = "dW holds the values of dx: return (dx, dW, db) in this order."
    dx = data["g"] @ np.ones((F, D))
    assert diagnose(dx, data["dW"], name="dW", candidates={hint: dx}) == Diagnosis(
        "known_mistake", hint
    )
    # A candidate that happens to equal the right answer is not a mistake.
    assert diagnose(data["dW"] / B, data["dW"], name="dW", candidates={hint: data["dW"]}) != (
        Diagnosis("known_mistake", hint)
    )


def test_formula_is_appended_to_structural_hints_only(data: dict[str, np.ndarray]) -> None:
    formula = "dW[i, j] = sum_b x[b, i] dy[b, j]"
    structural = diagnose(-data["dW"], data["dW"], name="dW", formula=formula)
    assert structural is not None and structural.hint.endswith(f"{formula}.")
    numeric = diagnose(np.zeros_like(data["dW"]), data["dW"], name="dW", formula=formula)
    assert numeric is not None and formula not in numeric.hint


def test_no_diagnosis_for_unrelated_answers_or_non_numbers(data: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(2)
    assert diagnose(rng.standard_normal((D, F)), data["dW"], name="dW", batch_size=B) is None
    assert diagnose(None, data["dW"], name="dW") is None
    assert diagnose("dW", data["dW"], name="dW") is None
    assert diagnose(np.array(["a"]), np.array([1.0]), name="dW") is None
    assert diagnose(np.zeros((7, 2)), data["dW"], name="dW") is None


def test_diagnose_shape_alone() -> None:
    assert diagnose_shape((5, 3), (3, 5), name="dW").kind == "transposed_shape"
    assert diagnose_shape((1, 5), (5,), name="db").kind == "kept_axis"
    assert diagnose_shape((5, 1), (5,), name="db").kind == "kept_axis"
    # One example: db = dy (never summed) has that shape too, and the same numbers.
    one = diagnose_shape((1, 5), (5,), name="db", batch_size=1)
    assert one is not None and "not summed over the batch at all" in one.hint
    several = diagnose_shape((1, 5), (5,), name="db", batch_size=4)
    assert several is not None and "not summed" not in several.hint
    assert diagnose_shape((4,), (5,), name="db", batch_size=4).kind == "wrong_axis"
    assert diagnose_shape((4,), (5,), name="db") is None
    assert diagnose_shape((3, 5), (3, 5), name="dW") is None
    hint = diagnose_shape((5, 3), (3, 5), name="dW", formula="dW = x.T @ dy")
    assert hint is not None and hint.hint.endswith("dW = x.T @ dy.")


def test_hints_never_contain_the_numbers_they_compare() -> None:
    # Distinctive values: if any hint quoted an input or expected entry, these digits would show.
    right = np.array([[123.456, -987.654, 55.5], [31.4159, 27.1828, -16.18]])
    wrong_answers = [
        right.T,
        -right,
        right / 2,
        right * 2,
        right / 7,
        right * 7,
        right * 3.3,
        np.zeros_like(right),
        right.astype(np.float32).astype(np.float64),
        right[None],
        right.sum(axis=1),
        right.sum(axis=0),
        right + 1.0,
    ]
    for wrong in wrong_answers:
        for batch_sum in (False, True):
            found = diagnose(wrong, right, name="dW", batch_size=7, batch_sum=batch_sum)
            if found is None:
                continue
            # Every entry above has two or more digits; single digits are axes, B or "1/2".
            text = re.sub(r"\d+(\.\d+)?e[-+]\d+|float(16|32|64)", "", found.hint)
            assert not re.search(r"\d{2,}|\d\.\d", text), (found.kind, found.hint)


def test_noise_and_float16_are_close_not_float32_or_a_constant_factor(
    data: dict[str, np.ndarray],
) -> None:
    """1e-3 noise (relative error 9e-5) was said to be "what float32 arithmetic gives", which
    keeps about 7 digits; float16 was called "proportional, off by a constant factor"."""
    right = data["dW"]
    noisy = right + 1e-3 * np.random.default_rng(1).standard_normal(right.shape)
    half = right.astype(np.float16).astype(np.float64)
    for wrong in (noisy, half):
        found = diagnose(wrong, right, name="dW", batch_size=4)
        assert found is not None and found.kind == "nearly_right", found
        assert "float32" not in found.hint and "constant factor" not in found.hint


def test_a_transposed_output_is_not_called_a_gradient(data: dict[str, np.ndarray]) -> None:
    y = data["dW"]  # any non-square matrix
    for name, word in (("y", "output"), ("dW", "gradient"), ("grads['W1']", "gradient")):
        for found in (diagnose(y.T, y, name=name), diagnose_shape(y.T.shape, y.shape, name=name)):
            assert found is not None and word in found.hint, found
            assert ("gradient" in found.hint) == (word == "gradient"), found.hint


def test_one_number_twice_the_right_one_is_no_evidence_of_a_factor_of_two() -> None:
    # A wrong loss (a sum of -log p over every class) can be 2x the right one by chance.
    assert kind(np.array(4.0), np.array(2.0)) is None
    assert kind(np.array([4.0, 2.0]), np.array([2.0, 1.0])) is None
    assert kind(np.array([4.0, 2.0, 6.0]), np.array([2.0, 1.0, 3.0])) == "factor_two"
    # The batch size is evidence of its own: a summed loss is B times the mean.
    assert kind(np.array(12.0), np.array(3.0), batch_size=4) == "missing_batch_factor"
