"""Numerical gradient checks for any assignment: central differences in float64.

Three tools, from most to least expensive:

* ``numerical_vjp`` -- the full vector-Jacobian product ``dL/d(wrt)`` of
  ``L = sum(f(**inputs) * upstream)`` by central differences, one input element at a time
  (2 calls of ``f`` per element). It is CS231n's ``eval_numerical_gradient_array`` with its
  gaps closed: float64 always, the caller's arrays are never touched, the perturbed element is
  restored in ``finally``.
* ``gradient_check`` -- compares claimed gradients with ``numerical_vjp`` element by element.
* ``directional_check`` -- compares ``<grad, v>`` with ``(L(x + eps v) - L(x - eps v)) / 2 eps``
  along a few random unit directions ``v`` (the random-projection idea of JAX's
  ``check_grads`` and torch's fast ``gradcheck``), so its cost is ``2 * n_directions`` calls of
  ``f`` however many parameters there are.

The upstream gradient should be random and not all ones: with ``upstream = 1`` and square
shapes, summing over the wrong axis can give the right numbers.

Error measures and thresholds
-----------------------------
``rel_error(a, b) = max|a - b| / max(REL_ERROR_FLOOR, max(|a| + |b|))``: the largest
difference measured against the largest magnitude, not element by element, so an entry that
happens to be near zero cannot blow the error up (the elementwise form does exactly that for
correct gradients). ``REL_ERROR_FLOOR`` only matters when both arrays are entirely
below it, i.e. "both essentially zero"; gradients of O(1) random inputs never are.

A directional check cannot divide by ``|<grad, v>|`` because a random ``v`` can make that
inner product cancel to almost nothing; it divides by ``||grad|| ||v|| + |numerical|`` (the size
the inner product *could* have), see ``directional_check``.

The thresholds come from a measurement, rerun by ``tests/test_gradcheck.py``
(``test_threshold_measurement``; the full sweep with ``AUTOGRADER_SLOW=1``): 2,000 random
linear layers ``y = x @ W + b`` with B, D, F drawn from 1..256 (1..16 for every other case,
where the element-by-element check is affordable), standard normal inputs and upstream
gradients, ``eps = 1e-6``. Correct gradients were computed four ways (matmul, einsum,
explicit loops, ``np.dot``); the wrong ones are the sign, a factor of 2, 1/B, B, and the last
example of the batch dropped (the subtlest: one of up to 256 contributions missing).

=================================  ======================  ============================
check                              correct: largest error  wrong: smallest error
=================================  ======================  ============================
``gradient_check`` (elementwise)   6.2e-9                  1.5e-3
``directional_check`` (4 dirs)     1.0e-8                  1.2e-3
=================================  ======================  ============================

So ``NUMERICAL_THRESHOLD = DIRECTIONAL_THRESHOLD = 1e-6``: over 100 times the largest error
of a correct gradient, over 1,000 times below the smallest error of a wrong one; no false
failure in the sweep. Gradients computed in float32 land in between (up to 5.5e-7 against
float64), so a gradient check is not a precision check: ``autograder.checks`` compares with
the reference for that. Wrong answers come closer only when the mistake barely changes the
numbers -- in a separate sweep with square shapes, the transpose of a nearly symmetric 2x2
``dW`` was off by just 8.7e-5 -- which is why tests should use shapes with B, D, F all
different. Nonlinear functions add a truncation error of order ``eps**2`` times the third
derivative; pass a larger ``threshold`` for those rather than shrinking ``eps``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

# "Both essentially zero" below this magnitude (CS231n's floor); see the module docstring.
REL_ERROR_FLOOR = 1e-8
# Central-difference step. For the bilinear functions of this course the truncation error is
# exactly zero, so the error is pure round-off ~ 1e-16 * |L| / eps; 1e-6 keeps that ~1e-10.
DEFAULT_EPS = 1e-6
NUMERICAL_THRESHOLD = 1e-6
DIRECTIONAL_THRESHOLD = 1e-6
DEFAULT_DIRECTIONS = 4

Function = Callable[..., object]


@dataclass(frozen=True)
class GradCheckResult:
    """The outcome of one gradient comparison: ``passed`` means ``rel_error <= threshold``."""

    rel_error: float
    threshold: float
    passed: bool

    @classmethod
    def judge(cls, rel_error: float, threshold: float) -> GradCheckResult:
        """A result for ``rel_error`` against ``threshold`` (NaN never passes)."""
        return cls(float(rel_error), float(threshold), bool(rel_error <= threshold))

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return f"relative error {self.rel_error:.1e} (threshold {self.threshold:.0e}): {verdict}"


def rel_error(a: object, b: object, *, floor: float = REL_ERROR_FLOOR) -> float:
    """``max|a - b| / max(floor, max(|a| + |b|))`` in float64; 0.0 for two empty arrays.

    Shapes must match exactly (no broadcasting: a (1, F) array is not an (F,) array here).
    Returns NaN when either array holds NaN or infinity.
    """
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error needs equal shapes, got {x.shape} and {y.shape}")
    if x.size == 0:
        return 0.0
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return float("nan")
    scale = max(floor, float(np.max(np.abs(x) + np.abs(y))))
    return float(np.max(np.abs(x - y))) / scale


def _float64_copies(inputs: Mapping[str, object]) -> dict[str, np.ndarray]:
    # Always copy: the checks perturb these in place and the caller's arrays must not change.
    return {name: np.array(value, dtype=np.float64, copy=True) for name, value in inputs.items()}


def _loss(f: Function, inputs: Mapping[str, np.ndarray], upstream: np.ndarray) -> float:
    out = np.asarray(f(**inputs), dtype=np.float64)
    if out.shape != upstream.shape:
        raise ValueError(f"f returned shape {out.shape} but upstream has shape {upstream.shape}")
    # math.fsum-like accuracy is not needed: round-off here is what DEFAULT_EPS is sized for.
    return float(np.vdot(out, upstream))


def numerical_vjp(
    f: Function,
    inputs: Mapping[str, object],
    upstream: object,
    wrt: str,
    eps: float = DEFAULT_EPS,
) -> np.ndarray:
    """``d/d inputs[wrt]`` of ``sum(f(**inputs) * upstream)`` by central differences.

    ``f`` is called with float64 copies of ``inputs`` as keyword arguments and must return an
    array of ``upstream``'s shape. Cost: ``2 * inputs[wrt].size`` calls of ``f``. The caller's
    arrays are never modified, even if ``f`` raises.
    """
    work = _float64_copies(inputs)
    if wrt not in work:
        raise KeyError(f"no input named {wrt!r} (inputs: {', '.join(work)})")
    g = np.asarray(upstream, dtype=np.float64)
    x = work[wrt]
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        try:
            flat_x[i] = original + eps
            plus = _loss(f, work, g)
            flat_x[i] = original - eps
            minus = _loss(f, work, g)
        finally:
            flat_x[i] = original
        flat_grad[i] = (plus - minus) / (2 * eps)
    return grad


def gradient_check(
    f: Function,
    inputs: Mapping[str, object],
    upstream: object,
    grads: Mapping[str, object],
    *,
    eps: float = DEFAULT_EPS,
    threshold: float = NUMERICAL_THRESHOLD,
) -> dict[str, GradCheckResult]:
    """Check each claimed gradient ``grads[name]`` against ``numerical_vjp`` for ``name``.

    Cost grows with the number of elements; use ``directional_check`` for large inputs.
    A gradient whose shape differs from its input's fails with an infinite error.
    """
    results: dict[str, GradCheckResult] = {}
    for name, claimed in grads.items():
        numerical = numerical_vjp(f, inputs, upstream, name, eps)
        analytic = np.asarray(claimed, dtype=np.float64)
        if analytic.shape != numerical.shape:
            results[name] = GradCheckResult(float("inf"), threshold, False)
            continue
        results[name] = GradCheckResult.judge(rel_error(analytic, numerical), threshold)
    return results


def directional_check(
    f: Function,
    inputs: Mapping[str, object],
    upstream: object,
    grads: Mapping[str, object],
    *,
    rng: np.random.Generator,
    n_directions: int = DEFAULT_DIRECTIONS,
    eps: float = DEFAULT_EPS,
    threshold: float = DIRECTIONAL_THRESHOLD,
) -> GradCheckResult:
    """Check the gradients in ``grads`` jointly along ``n_directions`` random directions.

    For each direction ``v`` (standard normal over every input named in ``grads``, scaled to
    unit length) it compares the claimed directional derivative ``a = sum_k <grads[k], v_k>``
    with ``n = (L(x + eps v) - L(x - eps v)) / (2 eps)``, where ``L = sum(f(**x) * upstream)``.
    The error of one direction is ``|a - n| / max(floor, ||grads|| + |n|)``: dividing by
    ``|a|`` would make a correct gradient fail whenever ``v`` happens to be nearly orthogonal to
    it. A wrong gradient passes one direction only if ``<error, v>`` vanishes by chance, which
    for a Gaussian ``v`` has probability about ``threshold * sqrt(size)``; the reported error
    is the largest over the directions, so all of them would have to be unlucky.

    Cost: ``2 * n_directions`` calls of ``f``, independent of the number of parameters.
    Check one input at a time (``grads={"W": dW}``) to know which gradient is wrong.
    """
    if n_directions < 1:
        raise ValueError("n_directions must be at least 1")
    base = _float64_copies(inputs)
    g = np.asarray(upstream, dtype=np.float64)
    claimed: dict[str, np.ndarray] = {}
    for name, value in grads.items():
        if name not in base:
            raise KeyError(f"no input named {name!r} (inputs: {', '.join(base)})")
        grad = np.asarray(value, dtype=np.float64)
        if grad.shape != base[name].shape:
            return GradCheckResult(float("inf"), threshold, False)
        claimed[name] = grad
    if not all(np.isfinite(grad).all() for grad in claimed.values()):
        return GradCheckResult(float("nan"), threshold, False)
    # (np.vdot: the same sums as np.sum(a * b), without a temporary or numpy's reduction
    # wrapper; these checks run a few dozen times per submission)
    grad_norm = float(np.sqrt(sum(np.vdot(grad, grad) for grad in claimed.values())))
    worst = 0.0
    for _ in range(n_directions):
        direction = {name: rng.standard_normal(base[name].shape) for name in claimed}
        length = float(np.sqrt(sum(np.vdot(v, v) for v in direction.values())))
        if length == 0.0:  # every input is empty: nothing to check
            continue
        direction = {name: v / length for name, v in direction.items()}
        plus = dict(base)
        minus = dict(base)
        for name, v in direction.items():
            plus[name] = base[name] + eps * v
            minus[name] = base[name] - eps * v
        numerical = (_loss(f, plus, g) - _loss(f, minus, g)) / (2 * eps)
        analytic = float(sum(np.vdot(claimed[name], v) for name, v in direction.items()))
        scale = max(REL_ERROR_FLOOR, grad_norm + abs(numerical))
        worst = max(worst, abs(analytic - numerical) / scale)
    return GradCheckResult.judge(worst, threshold)
