from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder.mutate import OPERATORS, generate

REFERENCE = """\
import numpy as np


def linear_forward(x, W, b):
    ### BEGIN SOLUTION
    y = x @ W + b
    cache = (x.copy(), W.copy())
    ### END SOLUTION
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    ### BEGIN SOLUTION
    dx = dy @ W.T
    dW = x.T @ dy
    db = dy.sum(axis=0)
    ### END SOLUTION
    return dx, dW, db
"""


def load(source: str) -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(compile(source, "mutant.py", "exec"), namespace)  # trusted test-local source
    return namespace


def outputs(namespace: dict[str, object]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
    y, cache = namespace["linear_forward"](x, W, b)  # type: ignore[operator]
    dy = rng.normal(size=y.shape)
    return [y, *namespace["linear_backward"](dy, cache)]  # type: ignore[operator]


def test_every_operator_applies_to_the_linear_reference() -> None:
    operators = {m.operator for m in generate(REFERENCE, Path("linear.py"))}
    assert operators == set(OPERATORS)


def test_a_line_marked_equivalent_gets_no_mutant_of_that_operator() -> None:
    """tanh's dx = dy * (1 - y**2) with y negated is the same dx: no test can catch it."""
    marked = REFERENCE.replace("dW = x.T @ dy\n", "dW = x.T @ dy  # equivalent: negate, float32\n")
    before = {(m.operator, m.line) for m in generate(REFERENCE, Path("linear.py"))}
    after = {(m.operator, m.line) for m in generate(marked, Path("linear.py"))}
    assert before - after == {("negate", 16), ("float32", 16)}
    assert ("transpose", 16) in after and ("negate", 15) in after
    from autograder.errors import ConfigError

    with pytest.raises(ConfigError, match="names negat; the operators are transpose") as info:
        generate(
            REFERENCE.replace("dW = x.T @ dy\n", "dW = x.T @ dy  # equivalent: negat\n"),
            Path("l.py"),
        )
    assert info.value.line == 16


def test_each_mutant_says_what_it_changed() -> None:
    """verify names a surviving mutant by its change: its source has lost the reference's
    comments and line numbers, so the instructor could not see what was changed otherwise."""
    changes = {m.name: m.change for m in generate(REFERENCE, Path("linear.py"))}
    assert changes["sum_to_mean@17"] == "`dy.sum(axis=0)` becomes `dy.mean(axis=0)`"
    assert changes["divide_by_batch@6"] == "`y = x @ W + b` becomes `y = (x @ W + b) / len(x)`"
    assert changes["negate@16"] == "`dW = x.T @ dy` becomes `dW = -(x.T @ dy)`"


def test_mutants_only_touch_solution_regions() -> None:
    for mutant in generate(REFERENCE, Path("linear.py")):
        assert mutant.line in {6, 7, 15, 16, 17}, mutant.name
        assert "x, W = cache" in mutant.source  # outside the regions: untouched


def test_every_mutant_changes_behaviour() -> None:
    """No equivalent mutants on the reference: each changes a value, shape or dtype."""
    expected = outputs(load(REFERENCE))
    for mutant in generate(REFERENCE, Path("linear.py")):
        try:
            got = outputs(load(mutant.source))
        except Exception:
            continue  # a crash is a change too
        same = all(
            g.shape == e.shape and g.dtype == e.dtype and np.allclose(g, e)
            for g, e in zip(got, expected, strict=True)
        )
        assert not same, mutant.name


@pytest.mark.parametrize(
    ("operator", "needle"),
    [
        ("transpose", "dW = (x.T @ dy).T"),
        ("divide_by_batch", "dW = x.T @ dy / len(dy)"),
        ("sum_to_mean", "db = dy.mean(axis=0)"),
        ("flip_axis", "db = dy.sum(axis=-1)"),
        ("keepdims", "db = dy.sum(axis=0, keepdims=True)"),
        ("drop_term", "y = x @ W\n"),
        ("drop_transpose", "dx = dy @ W\n"),
    ],
)
def test_operator_produces_the_classic_mistake(operator: str, needle: str) -> None:
    sources = [m.source for m in generate(REFERENCE, Path("linear.py")) if m.operator == operator]
    assert any(needle in s for s in sources), sources
