"""Say what a wrong answer looks like, without revealing the hidden inputs.

``diagnose(actual, expected, name="dW", batch_size=B)`` compares a student's wrong array with
the right one and recognises the classic backprop mistakes: the transpose (or its shape), a
factor of B (an extra 1/B, a mean instead of a sum, or a missing 1/B), a sum over the wrong
axis or no sum at all, a kept (1, F) axis, the wrong sign, a factor of 2, float32 precision,
all zeros, NaN or infinity. Test authors can add mistakes specific to their exercise as
``candidates``: the wrong answer each mistake would produce (computed in the grader from the
hidden inputs) and the hint to show when the student's array matches it.

Every hint names only shapes, the batch size and concepts -- never an input or expected
value -- and tries to teach: which index a sum runs over, where the 1/B of a batch-mean loss
lives. Pass ``formula`` (e.g. ``"dW[i, j] = sum_b x[b, i] * dy[b, j]"``) to have structural
hints end with the index form of the right answer.

Pure functions: no I/O, no randomness, nothing raised for odd inputs (they get no diagnosis).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from autograder.gradcheck import rel_error

# Two arrays "are the same numbers" for pattern matching when their relative error is below
# this: loose enough for a float32 result (errors up to ~2e-7 measured, see gradcheck), far
# below the ~1e-2 that separates the structural mistakes from each other.
MATCH_TOLERANCE = 1e-4
# Relative tolerance on a recognised scale factor (-1, B, 1/B, 2, 1/2).
FACTOR_TOLERANCE = 1e-3
# float32 arithmetic differs from float64 by 1.6e-9 to 5.5e-7 in these gradients (checks.py);
# up to 1e-5 is said to look like it. Up to 1e-2, an answer is "close but not the same".
FLOAT32_ERROR = 1e-5
NEARLY_ERROR = 1e-2

# Kinds whose hint should end with the index form of the right answer: the mistake is in the
# math, not in the numerics.
_STRUCTURAL = frozenset(
    {
        "transposed",
        "transposed_shape",
        "kept_axis",
        "wrong_axis",
        "not_summed",
        "summed_everything",
        "mean_instead_of_sum",
        "extra_batch_factor",
        "missing_batch_factor",
        "wrong_sign",
        "factor_two",
        "scaled",
    }
)


@dataclass(frozen=True)
class Diagnosis:
    """What a wrong answer looks like: a machine tag (``kind``) and a student-safe ``hint``."""

    kind: str
    hint: str

    def __str__(self) -> str:
        return self.hint


def _shape_rule(name: str) -> str:
    """Why a shape is what it is: for a gradient (``dW``, ``grads['W1']``) the variable's
    shape; for an output (``y``) its formula's."""
    if name.startswith(("d", "grads")):
        return "A gradient always has the shape of the variable it is taken with respect to"
    return "The shape of an output follows from its formula"


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _with_formula(diagnosis: Diagnosis | None, formula: str | None) -> Diagnosis | None:
    if diagnosis is None or formula is None or diagnosis.kind not in _STRUCTURAL:
        return diagnosis
    # The formula is the concept to revisit (which index is summed), never the code answer.
    return Diagnosis(diagnosis.kind, f"{diagnosis.hint} Think it through: {formula}.")


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    error = rel_error(a, b)
    return bool(error <= MATCH_TOLERANCE)  # NaN compares False: no match


def _as_float64(value: object) -> np.ndarray | None:
    # Only real numbers can be compared; anything else (a Handle, a string) gets no diagnosis.
    if not isinstance(value, np.ndarray | np.generic | float | int):
        return None
    array = np.asarray(value)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        return None
    return array.astype(np.float64)


def diagnose_shape(
    actual: tuple[int, ...],
    expected: tuple[int, ...],
    *,
    name: str,
    batch_size: int | None = None,
    formula: str | None = None,
) -> Diagnosis | None:
    """Explain a wrong shape from the shapes alone (``None`` if no pattern fits)."""
    actual, expected = tuple(actual), tuple(expected)
    if actual == expected:
        return None
    found: Diagnosis | None = None
    if len(actual) == 2 and actual == expected[::-1]:
        found = Diagnosis(
            "transposed_shape",
            f"{name} has the shape of the transpose of the right answer. {_shape_rule(name)}"
            "; write the index form to see which index of the result comes from which factor "
            "of the product.",
        )
    elif (1, *expected) == actual or (*expected, 1) == actual:
        # With one example, (1, n) is also what no sum over the batch at all gives.
        unsummed = batch_size == 1 and actual == (1, *expected)
        found = Diagnosis(
            "kept_axis",
            f"{name} has an extra axis of length 1: shape {_shape(actual)} instead of "
            f"{_shape(expected)}. After summing over an axis, do not keep it (no "
            "keepdims=True, no (1, n) row vectors, no np.matrix, whose results are always "
            "2-D): a gradient has exactly the shape of its variable."
            + (
                " (With a batch of one example, this is also the shape of a result that was "
                "not summed over the batch at all.)"
                if unsummed
                else ""
            ),
        )
    elif batch_size is not None and len(expected) == 1 and actual == (batch_size,) != expected:
        found = Diagnosis(
            "wrong_axis",
            f"{name} has one entry per example (shape ({batch_size},)): it was summed over the "
            "wrong axis. The sum must run over the batch index, axis 0, so the batch axis is "
            "the one that disappears.",
        )
    elif batch_size is not None and actual == (batch_size, *expected):
        found = Diagnosis(
            "not_summed",
            f"{name} still has one row per example (shape {_shape(actual)}): each example "
            "contributes to this gradient, and the contributions must be summed over the "
            "batch axis (axis 0).",
        )
    elif actual == () and expected != ():
        found = Diagnosis(
            "summed_everything",
            f"{name} is a single number, but it should have shape {_shape(expected)}: sum only "
            "over the batch axis (axis 0), not over every axis.",
        )
    return _with_formula(found, formula)


# Where the 1/B of a batch-mean loss belongs, said the same way by every diagnosis of B.
ONE_OVER_B = (
    "A batch-mean loss divides by B exactly once: in the loss and in its own gradient; the "
    "backward passes behind it get that 1/B through their upstream gradient dy."
)


def _scale_diagnosis(
    a: np.ndarray, e: np.ndarray, *, name: str, batch_size: int | None, batch_sum: bool
) -> Diagnosis | None:
    """Recognise ``a == c * e`` for a meaningful constant ``c`` (never reveals ``c`` itself)."""
    norm = float(np.sum(e * e))
    if norm == 0.0:
        return None
    c = float(np.sum(a * e)) / norm
    if not _same(a, c * e):
        return None

    def near(target: float) -> bool:
        return abs(c - target) <= FACTOR_TOLERANCE * abs(target)

    if near(-1.0):
        return Diagnosis(
            "wrong_sign",
            f"{name} has the right size but the wrong sign. The backward pass returns the "
            "derivative dL/d(input) itself; the minus sign belongs only to the gradient-descent "
            "update (param -= lr * grad).",
        )
    if batch_size == 2 and (near(2.0) or near(0.5)):
        # With B = 2 a factor of 2 and a factor of B look the same: name both.
        larger = c > 1
        # A mean where the gradient is a sum divides by B: it can explain half, never twice.
        mean = batch_sum and not larger
        batch = "a mean over the batch where the gradient is a sum, or " if mean else ""
        return Diagnosis(
            "factor_two_or_batch",
            f"{name} is {'2 times' if larger else 'half'} the right answer, and here the batch "
            f"size B is 2 as well: look for {batch}an extra "
            f"{'factor' if larger else 'division'} of 2 or of B ("
            + (
                "a term counted twice, a 2 from differentiating a square, a multiplication by B"
                if larger
                else "a 1/2 from differentiating a square, the 1/B of a batch-mean loss applied "
                "again"
            )
            + "). "
            + ONE_OVER_B,
        )
    if batch_size is not None and batch_size > 1:
        if near(1.0 / batch_size):
            if batch_sum:
                return Diagnosis(
                    "mean_instead_of_sum",
                    f"{name} is the mean over the batch where the gradient is a sum: it is "
                    f"1/B of the right answer (B = {batch_size}). Every example adds its own "
                    "contribution; if the loss is a batch mean, its 1/B is already inside the "
                    "upstream gradient dy, so averaging again divides by B twice.",
                )
            return Diagnosis(
                "extra_batch_factor",
                f"{name} is 1/B of the right answer (B = {batch_size}): there is an extra "
                "division by the batch size. If the loss is a batch mean, its 1/B already "
                "lives in the upstream gradient dy, so dividing again counts it twice.",
            )
        if near(float(batch_size)):
            return Diagnosis(
                "missing_batch_factor",
                f"{name} is B times the right answer (B = {batch_size}): a division by the "
                "batch size is missing, or a factor of it was added (a sum where the loss "
                "averages, a multiplication by B). " + ONE_OVER_B,
            )
    if e.size < 3:
        # One or two numbers (a loss, db of one feature, two logits' gradients that sum to 0)
        # are proportional to anything of their kind: no evidence of a right structure, and a
        # ratio near 2 is as likely a coincidence (a wrong loss twice the right one).
        return None
    if near(2.0) or near(0.5):
        return Diagnosis(
            "factor_two",
            f"{name} is off by a factor of 2 (too {'large' if c > 1 else 'small'}): look for a "
            "term counted twice, or a 2 (or 1/2) from differentiating a square.",
        )
    return Diagnosis(
        "scaled",
        f"{name} is proportional to the right answer but off by a constant factor: the "
        "structure is right; look for an extra or missing constant.",
    )


def diagnose(
    actual: object,
    expected: object,
    *,
    name: str,
    batch_size: int | None = None,
    batch_sum: bool = False,
    formula: str | None = None,
    candidates: Mapping[str, object] | None = None,
) -> Diagnosis | None:
    """Recognise what a wrong ``actual`` looks like next to the right ``expected``.

    ``batch_size`` enables the factor-of-B and wrong-axis patterns; ``batch_sum=True`` says
    the right answer is a plain sum over the batch (like ``db``), so 1/B reads as "a mean
    instead of a sum". ``candidates`` maps a hint to the wrong answer that mistake produces;
    they are tried before the generic patterns. Returns ``None`` when nothing fits.
    """
    a = _as_float64(actual)
    e = _as_float64(expected)
    if a is None or e is None:
        return None
    for hint, wrong in (candidates or {}).items():
        w = _as_float64(wrong)
        if w is not None and _same(a, w) and not _same(w.reshape(-1), e.reshape(-1)):
            return Diagnosis("known_mistake", hint)
    if a.shape != e.shape:
        return _with_formula(_shape_mismatch(a, e, name=name, batch_size=batch_size), formula)
    return _with_formula(
        _value_mismatch(a, e, name=name, batch_size=batch_size, batch_sum=batch_sum), formula
    )


def _shape_mismatch(
    a: np.ndarray, e: np.ndarray, *, name: str, batch_size: int | None
) -> Diagnosis | None:
    if a.ndim == 2 and a.shape == e.shape[::-1] and _same(a, e.T):
        return Diagnosis(
            "transposed",
            f"{name} is exactly the transpose of the right answer. {_shape_rule(name)}; write "
            "the index form to see which index of the result comes from which factor of the "
            "product.",
        )
    if a.size == e.size and a.squeeze().shape == e.squeeze().shape and _same(a.reshape(e.shape), e):
        shape_hint = diagnose_shape(a.shape, e.shape, name=name, batch_size=batch_size)
        if shape_hint is not None and shape_hint.kind == "kept_axis":
            return Diagnosis("kept_axis", f"The numbers are right. {shape_hint.hint}")
    return diagnose_shape(a.shape, e.shape, name=name, batch_size=batch_size)


def _value_mismatch(
    a: np.ndarray, e: np.ndarray, *, name: str, batch_size: int | None, batch_sum: bool
) -> Diagnosis | None:
    bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
    if bad:
        return Diagnosis(
            "not_finite",
            f"{name} contains NaN or infinity ({bad} of {a.size} entries). Common causes: an "
            "array made with np.empty and never filled, a division by zero, or an overflow.",
        )
    if not np.any(a) and np.any(e):
        if a.ndim == 0:  # a single number, e.g. a loss: no placeholder array to suspect
            return Diagnosis(
                "all_zeros",
                f"{name} is 0 where it should not be: is something multiplied by zero, or "
                "summed over entries that are all zero (a one-hot picking the wrong column)?",
            )
        return Diagnosis(
            "all_zeros",
            f"{name} is all zeros: is it still a placeholder (np.zeros_like), or is the "
            "result computed but never stored in it?"
            + (
                " (With one example, a loop over the batch that skips example 0, "
                "range(1, B), leaves it all zeros too.)"
                if batch_size == 1
                else ""
            ),
        )
    error = rel_error(a, e)
    if 0.0 < error <= FLOAT32_ERROR:
        return Diagnosis(
            "float32_precision",
            f"{name} agrees with the right answer only to about {_digits(error)} significant "
            f"digits (relative error {error:.0e}), which is what float32 arithmetic gives. "
            "Keep everything in float64 (numpy's default): look for np.float32 in dtype= "
            "arguments and .astype(...) calls.",
        )
    if 0.0 < error <= NEARLY_ERROR:
        return Diagnosis(
            "nearly_right",
            f"{name} is close to the right answer but not the same (relative error "
            f"{error:.0e}): something small differs, such as float16 arithmetic on the way, "
            "an added epsilon or noise, a rounded constant, or a small term left out (one "
            "example of a large batch).",
        )
    if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and _same(a, e.T):
        return Diagnosis(
            "transposed",
            f"{name} is exactly the transpose of the right answer (the shapes agree only "
            "because this matrix is square). Write the index form to see which index of the "
            "result comes from which factor of the product.",
        )
    return _scale_diagnosis(a, e, name=name, batch_size=batch_size, batch_sum=batch_sum)


def _digits(error: float) -> int:
    return max(1, int(round(-np.log10(error))))
