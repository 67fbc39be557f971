"""Assertions for hidden and public tests, with feedback a student may see.

Every helper raises ``autograder.errors.WrongAnswer`` whose message is shown to the student
verbatim, so messages name types, shapes, dtypes, relative errors and a diagnosis
(``autograder.diagnose``) -- never a hidden input or an expected value.

Two questions, kept apart so that one mistake costs one rubric item:

* **Is the math right?** ``expect_array(..., strict=False)`` and
  ``expect_gradients(..., strict=False)`` compare values up to ``VALUE_THRESHOLD`` after
  forgiving what is only layout: any real dtype, and an added or dropped axis of length 1
  (a (1, F) ``db`` holds the right numbers; a transposed (1, D) for (D, 1) does not count).
* **Is the layout right?** ``expect_layout`` checks the exact shape, float64, and float64
  *precision* -- but precision only when the values are otherwise right, so a wrong formula is
  charged to its value item and not here as well.

``strict=True`` (the default) asks both at once: exact shape, float64, ``PRECISION_THRESHOLD``.

Thresholds, from the measurement described in ``autograder.gradcheck`` (2,000 random linear
layers, B, D, F up to 256): four correct float64 computations of the same gradients (matmul,
einsum, loops, ``np.dot``) differ by at most 1.7e-15; the same formulas computed in float32
differ from float64 by 1.6e-9 to 5.5e-7 (arrays of 3 or more entries; a 1- or 2-entry array
came as close as 2.6e-10); the structural mistakes (sign, factor 2, 1/B, B, one example
dropped) by at least 1.5e-3. Hence ``PRECISION_THRESHOLD = 1e-10`` (five orders of magnitude
above float64 disagreement, an order below float32 rounding) and ``VALUE_THRESHOLD = 1e-4``
(180 times the worst float32 rounding, 15 times below the subtlest structural mistake).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from autograder.diagnose import Diagnosis, diagnose, diagnose_shape
from autograder.errors import WrongAnswer, students_failure
from autograder.gradcheck import (
    DEFAULT_DIRECTIONS,
    DEFAULT_EPS,
    DIRECTIONAL_THRESHOLD,
    NUMERICAL_THRESHOLD,
    directional_check,
    numerical_vjp,
    rel_error,
)

__tracebackhide__ = students_failure  # a failed check's report ends at the test's line
PRECISION_THRESHOLD = 1e-10
VALUE_THRESHOLD = 1e-4
# Above this many gradient entries ``expect_gradients`` switches from element-by-element
# central differences (2 forward calls per entry) to random directions (a fixed handful).
# The comparison with the reference already diagnoses mistakes; the numerical check is a second,
# independent opinion, and at this size it stays a small share of grading a submission.
ELEMENTWISE_LIMIT = 64

# Context keys understood by the helpers; "where" prefixes messages (e.g. "B=4, D=3, F=5"),
# the others are passed on to ``diagnose``.
_CONTEXT_KEYS = frozenset({"where", "batch_size", "batch_sum", "formula", "candidates"})


def describe_type(value: object) -> str:
    """Name what a submission returned, in words for the student (no values)."""
    if value is None:
        return "None (is a return statement missing?)"
    if isinstance(value, np.ndarray):
        return f"a numpy array of dtype {value.dtype} and shape {_shape(value.shape)}"
    if isinstance(value, tuple | list):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return f"a {kind} of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, bool | int | float | complex | np.generic):
        return f"a single number ({type(value).__name__}), not an array"
    # Opaque objects that stayed in the worker (autograder.sandbox.Handle) carry type_name.
    type_name = getattr(value, "type_name", None) or type(value).__name__
    if type_name in ("ndarray", "MaskedArray", "matrix", "recarray"):
        # Only arrays of plain numbers leave the sandbox as data.
        return (
            f"a numpy {type_name} that does not hold plain numbers (dtype object, a structured "
            "dtype or strings); use an array of float64"
        )
    return f"an object of type {type_name}"


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _split_context(context: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    context = dict(context or {})
    unknown = set(context) - _CONTEXT_KEYS
    if unknown:
        # A typo in a hidden test must not silently drop a diagnosis.
        raise TypeError(f"unknown context keys {sorted(unknown)}; known: {sorted(_CONTEXT_KEYS)}")
    where = context.pop("where", None)
    return (f" (for {where})" if where else ""), context


def _fail(headline: str, hint: Diagnosis | str | None = None) -> WrongAnswer:
    return WrongAnswer(f"{headline}\nHint: {hint}" if hint else headline)


def _list_as_array(value: list[Any]) -> object:
    """``value`` as a float64 array if it is a rectangular (nested) list of real numbers, else
    unchanged (for ``_require_real_array`` to name)."""

    def real(item: object) -> bool:
        if isinstance(item, list):
            return all(real(x) for x in item)
        return type(item) in (int, float)

    try:
        if not real(value):
            return value
        return np.asarray(value, dtype=np.float64)
    except (ValueError, OverflowError, RecursionError):  # ragged, or too large for a float
        return value


def _require_real_array(
    actual: object,
    name: str,
    where: str,
    *,
    lists: bool = False,
    expected: np.ndarray | None = None,
) -> np.ndarray:
    if lists and isinstance(actual, list):
        # The right numbers as (nested) lists: a value check judges the numbers, and leaves
        # the form to the layout checks (strict).
        actual = _list_as_array(actual)
    elif lists and expected is not None:
        actual = _one_number_as_array(actual, expected.size)
    if not isinstance(actual, np.ndarray):
        hint = None
        if _empty_python_sum(actual, expected):
            hint = _EMPTY_SUM_HINT
        elif _real_number(actual) and expected is not None and expected.ndim > 0:
            hint = (
                "if this number comes from a sum, it was a sum over every axis (np.sum, or "
                f".sum() without axis=): {name} has the shape of its variable, "
                f"{_shape(expected.shape)}, so sum over the other axes only."
            )
        raise _fail(
            f"{name} should be a numpy array{where}, but your code returned "
            f"{describe_type(actual)}.",
            hint,
        )
    if not (np.issubdtype(actual.dtype, np.floating) or np.issubdtype(actual.dtype, np.integer)):
        raise _fail(
            f"{name} has dtype {actual.dtype}{where}; it should be an array of real "
            "numbers (float64)."
        )
    return actual


def _one_number_as_array(actual: object, size: int) -> object:
    """One number where the answer has one (np.sum(dy) for a db of shape (1,)) as a 0-d array,
    whose dropped axis of length 1 a value check forgives; anything else as it is."""
    return np.asarray(actual) if size == 1 and _real_number(actual) else actual


_EMPTY_SUM_HINT = (
    "the right answer here is an array of zeros, and a plain 0 is what Python's sum(), or a "
    "loop that starts from 0, gives when there is nothing to add up (no rows, as in an empty "
    "batch). Sum with numpy instead (a matrix product, or np.sum over the right axes), which "
    "gives zeros of the right shape."
)


def _real_number(value: object) -> bool:
    """A Python or numpy real number (not a bool)."""
    if isinstance(value, np.generic):
        return bool(np.issubdtype(value.dtype, np.number)) and not np.iscomplexobj(value)
    return type(value) in (int, float)


def _empty_python_sum(actual: object, expected: np.ndarray | None) -> bool:
    """``actual`` is a plain 0 where the answer is an array of zeros: what ``sum()`` over no
    rows gives (``sum(np.outer(x, g) for ...)`` on an empty batch)."""
    return (
        type(actual) in (int, float)
        and actual == 0
        and expected is not None
        and expected.size > 0
        and not np.any(expected)
    )


def _dtype_hint(dtype: np.dtype[Any]) -> str:
    if np.issubdtype(dtype, np.integer):
        return (
            "an integer array cannot hold fractions: create arrays with np.zeros(shape) "
            "(float64 by default), not dtype=int, and look for .astype(int) or int(...)."
        )
    if dtype in (np.float32, np.float16):
        digits = {np.float32: 7, np.float16: 3}[dtype.type]
        return (
            f"{dtype} keeps only about {digits} significant digits, too few for gradient "
            f"checks: look for np.{dtype} in dtype= arguments and .astype(...) calls; numpy "
            "computes in float64 by default."
        )
    return (
        f"numpy's default float64 is asked for, not {dtype}: look for dtype= arguments and "
        ".astype(...) calls."
    )


def unit_axes_differ(actual: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    """True when the shapes differ only by added or dropped axes of length 1 (keepdims).

    ``(1, F)`` against ``(F,)`` qualifies: the numbers are in the right order. ``(1, D)``
    against ``(D, 1)`` does not: that is a transpose, the mistake the value check must catch.
    """
    if len(actual) == len(expected):
        return False
    longer, shorter = (actual, expected) if len(actual) > len(expected) else (expected, actual)
    matched = 0
    for n in longer:
        if matched < len(shorter) and n == shorter[matched]:
            matched += 1
        elif n != 1:
            return False
    return matched == len(shorter)


def _conform(
    actual: np.ndarray,
    expected_shape: tuple[int, ...],
    *,
    name: str,
    where: str,
    strict: bool,
    expected: np.ndarray | None,
    diagnosis: Mapping[str, Any],
) -> np.ndarray:
    """``actual`` in the expected shape, or a WrongAnswer explaining the shape."""
    if actual.shape == expected_shape:
        return actual
    if not strict and unit_axes_differ(actual.shape, expected_shape):
        return actual.reshape(expected_shape)
    if expected is not None:
        hint = diagnose(actual, expected, name=name, **diagnosis)
    else:
        shape_context = {k: v for k, v in diagnosis.items() if k in ("batch_size", "formula")}
        hint = diagnose_shape(actual.shape, expected_shape, name=name, **shape_context)
    raise _fail(
        f"{name} has shape {_shape(actual.shape)}, expected {_shape(expected_shape)}{where}.", hint
    )


def expect_array(
    actual: object,
    expected: np.ndarray,
    *,
    name: str,
    context: Mapping[str, Any] | None = None,
    threshold: float | None = None,
    strict: bool = True,
) -> float:
    """Check ``actual`` against the trusted ``expected``; return the relative error.

    Raises ``WrongAnswer`` if ``actual`` is not a real numeric array, has the wrong shape
    (with ``strict=False``, an added or dropped axis of length 1 is forgiven: see
    ``unit_axes_differ``, and so is a nested list of numbers, or a single number where
    ``expected`` holds one), is not float64 (only when
    ``strict``), holds NaN/inf, or differs
    by more than ``threshold`` (default ``PRECISION_THRESHOLD`` when strict, else
    ``VALUE_THRESHOLD``) in ``gradcheck.rel_error``. ``context`` may hold
    ``where`` (a description of the case, e.g. ``"B=4, D=3, F=5"``) and the keyword
    arguments of ``diagnose`` (``batch_size``, ``batch_sum``, ``formula``, ``candidates``).
    """
    where, diagnosis = _split_context(context)
    expected = np.asarray(expected, dtype=np.float64)
    array = _require_real_array(actual, name, where, lists=not strict, expected=expected)
    array = _conform(
        array,
        expected.shape,
        name=name,
        where=where,
        strict=strict,
        expected=expected,
        diagnosis=diagnosis,
    )
    if strict and array.dtype != np.float64:
        raise _fail(
            f"{name} has dtype {array.dtype}, expected float64{where}.", _dtype_hint(array.dtype)
        )
    limit = (
        threshold if threshold is not None else (PRECISION_THRESHOLD if strict else VALUE_THRESHOLD)
    )
    return _compare(
        array,
        expected,
        name=name,
        where=where,
        limit=limit,
        diagnosis=diagnosis,
        against="the right answer",
    )


def _compare(
    array: np.ndarray,
    expected: np.ndarray,
    *,
    name: str,
    where: str,
    limit: float,
    diagnosis: Mapping[str, Any],
    against: str,
) -> float:
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise _fail(
            f"{name} contains NaN or infinity{where}.",
            diagnose(values, expected, name=name, **diagnosis),
        )
    error = rel_error(values, expected)
    if not error <= limit:
        hint: Diagnosis | str | None = diagnose(values, expected, name=name, **diagnosis)
        if np.issubdtype(array.dtype, np.integer) and not np.array_equal(
            expected, np.round(expected)
        ):
            # Whatever else the numbers look like (all zeros in one case), this is the cause.
            hint = f"{name} holds integers ({array.dtype}), and " + _dtype_hint(array.dtype)
        raise _fail(
            f"{name} does not match {against}{where}: relative error {error:.1e} "
            f"(allowed: {limit:.0e}).",
            hint,
        )
    return error


def expect_layout(
    actual: object,
    *,
    name: str,
    shape: tuple[int, ...],
    reference: np.ndarray | None = None,
    context: Mapping[str, Any] | None = None,
) -> None:
    """Check the exact ``shape``, dtype float64 and, given ``reference``, float64 precision.

    Precision fails only when ``actual`` agrees with ``reference`` to within
    ``VALUE_THRESHOLD`` but not ``PRECISION_THRESHOLD`` -- float64 numbers computed through
    float32. Values that are simply wrong are left to the value checks.
    """
    where, diagnosis = _split_context(context)
    array = _require_real_array(actual, name, where)
    expected = None if reference is None else np.asarray(reference, dtype=np.float64)
    _conform(
        array,
        tuple(shape),
        name=name,
        where=where,
        strict=True,
        expected=expected,
        diagnosis=diagnosis,
    )
    if array.dtype != np.float64:
        raise _fail(
            f"{name} has dtype {array.dtype}, expected float64{where}.", _dtype_hint(array.dtype)
        )
    if expected is None:
        return
    error = rel_error(array, expected)
    if PRECISION_THRESHOLD < error <= VALUE_THRESHOLD:
        raise _fail(
            f"{name} has dtype float64 but not float64 precision{where}: relative error "
            f"{error:.0e} (allowed: {PRECISION_THRESHOLD:.0e}).",
            diagnose(array, expected, name=name, **diagnosis),
        )


def expect_unchanged(
    before: np.ndarray, after: object, *, name: str, function: str | None = None
) -> None:
    """Check that an argument is exactly as it was before the call (NaN equals NaN)."""
    who = function or "your function"
    if (
        not isinstance(after, np.ndarray)
        or after.shape != before.shape
        or (after.dtype != before.dtype)
    ):
        detail = "its type, shape or dtype changed"
    else:
        same = after == before
        if np.issubdtype(before.dtype, np.inexact):
            same |= np.isnan(after) & np.isnan(before)
        count = int(np.size(same) - np.count_nonzero(same))
        if count == 0:
            return
        detail = f"{count} of {before.size} entries changed"
    raise _fail(
        f"{who} modified its argument {name} ({detail}).",
        "a function must leave its inputs as it found them; the caller still needs them. "
        "Build new arrays (y = x @ W + b, g = g * 2) instead of updating in place "
        "(x += ..., x[...] = ..., out=x).",
    )


def expect_consistent(
    first: Sequence[object],
    second: Sequence[object],
    *,
    names: Sequence[str],
    problem: str,
    hint: str,
) -> None:
    """Check that two runs of the submission that should agree do agree.

    For purity checks that compare a submission with *itself* (the same call repeated, calls
    interleaved), so a wrong formula is not charged twice. Arrays must match in shape and to
    ``PRECISION_THRESHOLD`` (NaN equals NaN); other results only in type. ``problem`` says
    what was done ("calling linear_backward twice ..."), ``hint`` what to fix.
    """
    for name, a, b in zip(names, first, second, strict=True):
        if isinstance(a, np.ndarray) != isinstance(b, np.ndarray):
            same = False
        elif isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            same = a.shape == b.shape and (
                not (_is_real(a) and _is_real(b))
                or bool(np.allclose(a, b, rtol=PRECISION_THRESHOLD, atol=0.0, equal_nan=True))
            )
        else:
            continue  # neither is an array: the value checks judge those
        if not same:
            raise _fail(f"{problem}: {name} came out different.", hint)


def expect_uses_inputs(function: str, first: Sequence[object], second: Sequence[object]) -> None:
    """Check that ``function`` gave different answers (``first``, ``second``: its outputs) for
    two different inputs.

    For purity items: purity means something only for code that computes from its inputs, so
    a function that answers a constant (``return 0, None``, zeros of a fixed shape) earns no
    purity points for being trivially free of side effects.
    """

    def same(a: object, b: object) -> bool:
        # Objects that stayed in the worker tell nothing about what they hold: two of them are
        # no evidence of computing from the inputs (a str subclass, a lazy array-like).
        if getattr(a, "type_name", None) and getattr(b, "type_name", None):
            return True
        # The answers are the student's plain data: huge integers, deep nests, anything. What
        # cannot be compared is taken as different (the other purity checks still apply).
        try:
            left, right = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        except Exception:
            try:
                return type(a) is type(b) and repr(a) == repr(b)
            except Exception:
                return False
        return left.shape == right.shape and bool(np.array_equal(left, right, equal_nan=True))

    if all(same(a, b) for a, b in zip(first, second, strict=True)):
        if all(getattr(a, "type_name", None) for a in first):
            raise _fail(
                f"{function} answered with objects that are not arrays or numbers "
                f"({describe_type(first[0])}), so whether it computes from its inputs, and "
                "is free of side effects, cannot be judged."
            )
        raise _fail(
            f"{function} gave the same answer for two different inputs: it does not compute "
            "from them yet, so whether it is free of side effects cannot be judged."
        )


def _is_real(array: np.ndarray) -> bool:
    return bool(np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer))


def expect_tuple(value: object, names: Sequence[str], *, function: str) -> tuple[Any, ...]:
    """``value`` as a tuple of ``len(names)`` items (a list is accepted), else WrongAnswer."""
    if isinstance(value, tuple | list) and len(value) == len(names):
        return tuple(value)
    expected = f"({', '.join(names)})"
    raise _fail(
        f"{function} should return a tuple {expected}, but it returned {describe_type(value)}."
    )


def _numerically(label: str, where: str, check: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Run a numerical check whose function may be the student's own (public tests).

    A forward pass that returns the wrong shape makes the check impossible; that is the
    student's mistake to hear about, not an error in the grader's test.
    """
    try:
        return check(*args, **kw)
    except ValueError as exc:
        raise _fail(f"{label} could not be checked numerically{where}: {exc}.") from None


def _rows_in_order(values: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Whether ``values`` (of ``shape``'s size) holds ``shape``'s rows in their order: flat, or
    with the last axis kept and the leading axes as they are or some neighbours merged, so
    ``(12, 6)`` or ``(3, 8, 6)`` for ``(3, 4, 2, 6)``, but not ``(4, 3, 2, 6)`` (swapped)."""
    if values.ndim <= 1:
        return True
    if values.shape[-1] != shape[-1]:
        return False
    bounds = {1, *np.cumprod(shape[:-1], dtype=np.int64).tolist()}
    return all(int(n) in bounds for n in np.cumprod(values.shape[:-1], dtype=np.int64))


def differentiable_output(
    value: object, shape: tuple[int, ...], *, name: str, function: str
) -> np.ndarray:
    """A student's forward output as float64 of ``shape``, for a numerical check of ``name``
    that differentiates their own forward pass (public tests).

    A list, or the rows flattened or merged along neighbouring leading axes, is differentiated
    as it is: its numbers are in their order, and the forward's own checks charge its form, as
    in grading. Anything else (a transposed ``y``, or one with two leading axes swapped, would
    be scrambled by a reshape) raises ``WrongAnswer``: ``name`` cannot be checked until the
    forward pass is fixed.
    """
    try:
        values = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        values = None
    if values is None or values.size != int(np.prod(shape)) or not _rows_in_order(values, shape):
        raise WrongAnswer(
            f"{name} cannot be checked numerically: your {function} returns y as "
            f"{describe_type(value)}, not an array of shape {shape}. Fix it first."
        )
    return values.reshape(shape)


def expect_gradients(
    f: Callable[..., object],
    inputs: Mapping[str, np.ndarray],
    upstream: np.ndarray,
    grads: Mapping[str, object],
    *,
    names: Mapping[str, str] | None = None,
    rng: np.random.Generator | None = None,
    strict: bool = True,
    context: Mapping[str, Any] | None = None,
    elementwise_limit: int = ELEMENTWISE_LIMIT,
    n_directions: int = DEFAULT_DIRECTIONS,
    eps: float = DEFAULT_EPS,
) -> dict[str, float]:
    """Check claimed gradients against central differences of the trusted function ``f``.

    ``grads`` maps an input name of ``f`` to the claimed ``dL/d input`` for
    ``L = sum(f(**inputs) * upstream)``; ``names`` gives the names students know them by
    (``{"W": "dW"}``). Up to ``elementwise_limit`` entries per gradient (default
    ``ELEMENTWISE_LIMIT``) are checked one by one (and diagnosed like ``expect_array``), at
    2 calls of ``f`` per entry; larger ones along ``n_directions`` random directions drawn from
    ``rng`` (default: a fixed seed, the same directions every run, which is fine for public
    checks; hidden tests pass their per-student ``rng``), at 2 calls each whatever the size.
    Hidden tests that have already compared (and
    diagnosed) a gradient against the reference pass ``elementwise_limit=0`` and
    ``n_directions=2``: the numerical check only confirms it there, and a wrong gradient still
    passes two directions with probability about ``(threshold * sqrt(size))**2``.
    ``strict`` is as for ``expect_array`` (shape and dtype forgiveness; the threshold is the
    larger of the gradcheck threshold and ``VALUE_THRESHOLD`` when lenient). ``eps`` is the
    step of the differences: a function affine in the input (a linear layer in ``x``, ``W``
    or ``b``) is differentiated exactly by any step, and a step of 1 keeps it exact even when
    ``f`` rounds to float32 on the way.
    Returns ``{input name: relative error}``.
    """
    if not eps > 0:
        raise ValueError(f"expect_gradients: eps must be positive, not {eps}")
    # The instructor's own mistakes, said in words rather than as an AttributeError deep in.
    for what, value in (("inputs", inputs), ("grads", grads)):
        if not isinstance(value, Mapping):
            raise TypeError(
                f"expect_gradients: {what} must be a dict by argument name of f (e.g. "
                f"{{'x': {'x' if what == 'inputs' else 'dx'}}}), not {type(value).__name__}"
            )
    if unknown := sorted(set(grads) - set(inputs)):
        raise TypeError(f"expect_gradients: grads for {unknown}, which are not in inputs")
    where, diagnosis = _split_context(context)
    names = dict(names or {})
    errors: dict[str, float] = {}
    for wrt, claimed in grads.items():
        label = names.get(wrt, f"d{wrt}")
        target = np.asarray(inputs[wrt])
        if not strict:
            claimed = _one_number_as_array(claimed, target.size)
        array = _require_real_array(claimed, label, where, lists=not strict)
        array = _conform(
            array,
            target.shape,
            name=label,
            where=where,
            strict=strict,
            expected=None,
            diagnosis=diagnosis,
        )
        if strict and array.dtype != np.float64:
            raise _fail(
                f"{label} has dtype {array.dtype}, expected float64{where}.",
                _dtype_hint(array.dtype),
            )
        array = array.astype(np.float64)
        if not np.isfinite(array).all():
            raise _fail(f"{label} contains NaN or infinity{where}.")
        if array.size <= elementwise_limit:
            limit = NUMERICAL_THRESHOLD if strict else max(NUMERICAL_THRESHOLD, VALUE_THRESHOLD)
            numerical = _numerically(label, where, numerical_vjp, f, inputs, upstream, wrt, eps=eps)
            errors[wrt] = _compare(
                array,
                numerical,
                name=label,
                where=where,
                limit=limit,
                diagnosis=diagnosis,
                against="the numerical gradient",
            )
            continue
        if rng is None:  # the same directions every run: fine where the inputs are public
            rng = np.random.default_rng(0)
        limit = DIRECTIONAL_THRESHOLD if strict else max(DIRECTIONAL_THRESHOLD, VALUE_THRESHOLD)
        result = _numerically(
            label,
            where,
            directional_check,
            f,
            inputs,
            upstream,
            {wrt: array},
            rng=rng,
            n_directions=n_directions,
            eps=eps,
            threshold=limit,
        )
        if not result.passed:
            raise _fail(
                f"{label} does not match the numerical gradient along random directions{where}: "
                f"relative error {result.rel_error:.1e} (allowed: {limit:.0e}).",
            )
        errors[wrt] = result.rel_error
    return errors


def confirm_gradient(
    f: Callable[..., object],
    inputs: Mapping[str, np.ndarray],
    upstream: np.ndarray,
    wrt: str,
    claimed: object,
    *,
    name: str,
    rng: np.random.Generator,
    context: Mapping[str, Any] | None = None,
) -> float:
    """Confirm a gradient already compared with the reference against central differences.

    For hidden tests: after ``expect_array(claimed, right, strict=False)`` has judged (and
    diagnosed) the values entry by entry, this checks ``claimed`` as ``d/d inputs[wrt]`` of
    ``sum(f(**inputs) * upstream)`` along two random directions, with the same forgiveness of
    dtype and length-1 axes (``expect_gradients(..., strict=False, elementwise_limit=0,
    n_directions=2)``). Returns the relative error; WrongAnswer if it does not match.
    """
    errors = expect_gradients(
        f,
        inputs,
        upstream,
        {wrt: claimed},
        names={wrt: name},
        rng=rng,
        strict=False,
        context=context,
        elementwise_limit=0,
        n_directions=2,
    )
    return errors[wrt]
