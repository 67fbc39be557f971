"""The same ``linear`` assignment as an nbgrader course, to time ``nbgrader autograde`` on it.

``build_course`` writes an nbgrader course folder: ``nbgrader_config.py`` and
``source/linear/linear.ipynb`` with one solution cell (the reference, between solution markers)
and six autograder test cells, one per rubric item with the rubric's points (forward 4, dx 4,
dW 4, db 3, shapes 3, purity 2). The tests are hidden (``### BEGIN HIDDEN TESTS``) and compute
the reference answers inline, on the hidden tests' shapes: values of y, dx, dW and db, a
central-difference directional check of each gradient through the reference forward, exact
shapes and float64 of every output, and the purity checks (inputs unchanged, backward twice on
one cache, interleaved forward calls). nbgrader scores a test cell all or nothing, where our
rubric is proportional per item; the work per submission is the same.

``generate`` runs ``nbgrader generate_assignment``; ``submit`` puts each student's ``linear.py``
into the released notebook's solution cell as ``submitted/<id>/linear/linear.ipynb``; the
benchmark then times ``nbgrader autograde linear`` and reads the scores with ``scores``.

Pitfalls: nbgrader shells out to ``alembic``, so the venv's ``bin`` must be first on PATH;
``Execute.timeout`` is per cell (a hanging submission costs it once per test cell), so
infinite loops are left out of the nbgrader class by the caller.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ASSIGNMENT = "linear"
EXECUTE_TIMEOUT = 10  # seconds per cell (nbgrader's default: 30)

_CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "throughput-bench"
c.CourseDirectory.root = {root!r}
c.Execute.timeout = {timeout}
"""

_SOLUTION = '''\
import numpy as np


def linear_forward(x, W, b):
    """y = x @ W + b; the cache holds copies of x and W."""
    ### BEGIN SOLUTION
    y = x @ W + b
    cache = (x.copy(), W.copy())
    ### END SOLUTION
    return y, cache


def linear_backward(dy, cache):
    """(dx, dW, db) from the upstream gradient dy and the forward pass's cache."""
    ### BEGIN SOLUTION
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy
    db = dy.sum(axis=0)
    ### END SOLUTION
    return dx, dW, db
'''

# Shared by every hidden test cell, so each cell stands alone (a failing cell costs only itself).
_PRELUDE = """\
import numpy as _np

_VALUE_SHAPES = [(1, 4, 3), (2, 3, 5), (9, 2, 4), (3, 7, 6), (5, 3, 1), (11, 17, 13), (96, 64, 48)]
_LAYOUT_SHAPES = [(1, 4, 3), (2, 3, 5), (9, 2, 4), (5, 3, 1)]


def _cases(seed, shapes):
    rng = _np.random.default_rng(seed)
    for B, D, F in shapes:
        yield (rng.standard_normal((B, D)), rng.standard_normal((D, F)),
               rng.standard_normal(F), rng.standard_normal((B, F)))


def _close(actual, expected):
    actual = _np.asarray(actual, dtype=_np.float64)
    assert actual.size == expected.size, f"size {actual.size}, expected {expected.size}"
    return _np.allclose(actual.reshape(expected.shape), expected, rtol=1e-7, atol=1e-10)
"""

_FORWARD = """\
for x, W, b, dy in _cases(1, _VALUE_SHAPES):
    y, _ = linear_forward(x, W, b)
    assert _close(y, x @ W + b), "y is wrong"
"""

_GRADIENT = """\
_WRT = {wrt!r}
_rng = _np.random.default_rng({seed})
for x, W, b, dy in _cases({seed}, _VALUE_SHAPES):
    _, cache = linear_forward(x, W, b)
    grads = dict(zip(("dx", "dW", "db"), linear_backward(dy, cache)))
    right = {{"dx": dy @ W.T, "dW": x.T @ dy, "db": dy.sum(axis=0)}}[{name!r}]
    assert _close(grads[{name!r}], right), "{name} is wrong"
    # central differences along a random direction, through the reference forward
    inputs = {{"x": x, "W": W, "b": b}}
    v = _rng.standard_normal(inputs[_WRT].shape)
    h = 1e-5
    plus, minus = dict(inputs), dict(inputs)
    plus[_WRT], minus[_WRT] = inputs[_WRT] + h * v, inputs[_WRT] - h * v
    numeric = (_np.sum((plus["x"] @ plus["W"] + plus["b"]) * dy)
               - _np.sum((minus["x"] @ minus["W"] + minus["b"]) * dy)) / (2 * h)
    analytic = _np.sum(_np.asarray(grads[{name!r}], dtype=_np.float64).reshape(v.shape) * v)
    assert abs(numeric - analytic) <= 1e-6 * max(1.0, abs(numeric)), "{name}: gradient check"
"""

_SHAPES = """\
for x, W, b, dy in _cases(5, _LAYOUT_SHAPES):
    B, D = x.shape
    F = W.shape[1]
    y, cache = linear_forward(x, W, b)
    dx, dW, db = linear_backward(dy, cache)
    for name, value, shape in (("y", y, (B, F)), ("dx", dx, (B, D)), ("dW", dW, (D, F)),
                               ("db", db, (F,))):
        assert isinstance(value, _np.ndarray), f"{name} is not a numpy array"
        assert value.shape == shape, f"{name} has shape {value.shape}, expected {shape}"
        assert value.dtype == _np.float64, f"{name} has dtype {value.dtype}"
"""

_PURITY = """\
(x, W, b, dy), (x2, W2, b2, dy2) = _cases(6, [(9, 2, 4), (9, 2, 4)])
saved = [a.copy() for a in (x, W, b, dy)]
_, cache = linear_forward(x, W, b)
first = linear_backward(dy, cache)
for before, now in zip(saved, (x, W, b, dy)):
    assert _np.array_equal(before, now), "an input was modified"
second = linear_backward(dy, cache)
for a, c in zip(first, second):
    assert _np.allclose(a, c), "backward twice on one cache gave two answers"
alone = [linear_backward(d, linear_forward(*i)[1])
         for i, d in (((x, W, b), dy), ((x2, W2, b2), dy2))]
caches = [linear_forward(x, W, b)[1], linear_forward(x2, W2, b2)[1]]
for cache, d, expected in zip(caches, (dy, dy2), alone):
    for a, c in zip(linear_backward(d, cache), expected):
        assert _np.allclose(a, c), "interleaved forward calls changed the answer"
"""

ITEMS: tuple[tuple[str, int, str], ...] = (
    ("forward", 4, _FORWARD),
    ("dx", 4, _GRADIENT.format(wrt="x", name="dx", seed=2)),
    ("dW", 4, _GRADIENT.format(wrt="W", name="dW", seed=3)),
    ("db", 3, _GRADIENT.format(wrt="b", name="db", seed=4)),
    ("shapes", 3, _SHAPES),
    ("purity", 2, _PURITY),
)
MAX_SCORE = float(sum(points for _, points, _ in ITEMS))


def _metadata(grade_id: str, *, solution: bool, points: int | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": points is not None,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def build_course(root: Path) -> Path:
    """Write the nbgrader course (config and source notebook) into ``root``; return ``root``."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        _CONFIG.format(root=str(root), timeout=EXECUTE_TIMEOUT), encoding="utf-8"
    )
    cells = [
        new_markdown_cell("# Backpropagation through a linear layer\n\nImplement both functions."),
        new_code_cell(_SOLUTION, metadata=_metadata("linear_impl", solution=True, points=None)),
    ]
    for item, points, body in ITEMS:
        source = (
            f"# {item}: {points} points\n### BEGIN HIDDEN TESTS\n{_PRELUDE}\n{body}"
            "### END HIDDEN TESTS\n"
        )
        cells.append(
            new_code_cell(source, metadata=_metadata(f"test_{item}", solution=False, points=points))
        )
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder = root / "source" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")
    return root


def nbgrader_env(venv_bin: Path, root: Path) -> dict[str, str]:
    """The environment nbgrader needs: its venv first on PATH, private Jupyter runtime files."""
    env = dict(os.environ)
    env["PATH"] = f"{venv_bin}{os.pathsep}{env.get('PATH', '')}"
    env["JUPYTER_RUNTIME_DIR"] = str(root / ".runtime")
    env.pop("PYTHONPATH", None)
    return env


def submit(root: Path, sources: Mapping[str, str]) -> None:
    """Each student's source as the solution cell of the released notebook, nbgrader layout."""
    import nbformat

    released = nbformat.read(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    for student, source in sources.items():
        notebook = nbformat.from_dict(released)
        for cell in notebook.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                cell.source = source
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / f"{ASSIGNMENT}.ipynb")


def scores(root: Path, students: list[str]) -> dict[str, float | None]:
    """Each student's autograded score from the course's gradebook (None: not graded)."""
    from nbgrader.api import Gradebook, MissingEntry

    found: dict[str, float | None] = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for student in students:
            try:
                found[student] = float(gradebook.find_submission(ASSIGNMENT, student).score)
            except MissingEntry:
                found[student] = None
    return found
