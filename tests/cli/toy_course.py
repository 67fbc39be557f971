"""A small one-assignment course, ``toy``, for the CLI tests: ``scale_sum`` (sum over the batch,
then scale), two rubric items, hidden tests, one hand-written mutant; released."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import run_cli
from tests.conftest import write_toy_course

REFERENCE = '''\
import numpy as np


def scale_sum(x, w):
    """Sum x (B, F) over the batch, times w: shape (F,)."""
    ### BEGIN SOLUTION
    total = x.sum(axis=0)
    y = total * w
    ### END SOLUTION
    return y
'''

HIDDEN = """\
import numpy as np
import pytest

from autograder.checks import expect_array, expect_layout


@pytest.mark.rubric("value")
def test_value_known(submission):
    # B = 1: on its own this cannot tell a sum over the batch from a mean.
    y = submission.scale_sum(np.ones((1, 3)), 2.0)
    expect_array(y, np.full(3, 2.0), name="y", strict=False)


@pytest.mark.rubric("value")
@pytest.mark.parametrize("shape", [(4, 3), (5, 2)])
def test_value_random(submission, reference, rng, shape):
    x, w = rng.standard_normal(shape), float(rng.standard_normal())
    expect_array(submission.scale_sum(x, w), reference.scale_sum(x, w), name="y", strict=False)


@pytest.mark.rubric("layout")
def test_layout(submission, rng):
    y = submission.scale_sum(rng.standard_normal((4, 3)), 1.5)
    expect_layout(y, name="y", shape=(3,), reference=None)
"""

RUBRIC = """\
assignment: toy
module: scale.py
items:
  - id: value
    points: 3
  - id: layout
    points: 1
"""

MUTANT = """\
# loses: value
import numpy as np


def scale_sum(x, w):
    return x.mean(axis=0) * w
"""


def make_toy(root: Path) -> Path:
    """The toy course under ``root``, released; its path."""
    course = write_toy_course(
        root,
        {
            "scale.py": REFERENCE,
            "rubric.yml": RUBRIC,
            "README.md": "# Toy\n\nSum over the batch, then scale.\n",
            "tests/test_hidden.py": HIDDEN,
            "mutants/mean.py": MUTANT,
        },
    )
    released = run_cli("release", cwd=course)
    assert released.returncode == 0, released.stderr
    return course
