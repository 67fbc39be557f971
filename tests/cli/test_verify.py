"""``autograder verify`` on a small course: it passes, and each way of breaking it is named."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def run_verify(course: Path) -> tuple[int, str]:
    result = run_cli("verify", cwd=course, timeout=600)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    course = write_toy_course(
        tmp_path / "toy-course",
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


def test_verify_passes_on_a_sound_course(toy: Path) -> None:
    code, output = run_verify(toy)
    assert code == 0, output
    for check in (
        "config",
        "reference earns full marks",
        "released stub earns zero",
        "mutants are caught",
        "release in sync",
        "nothing leaks",
    ):
        assert f"[ok  ] {check}" in output
    assert "verify passed" in output


def test_a_wrong_reference_fails_verify(toy: Path) -> None:
    reference = toy / "solutions" / "toy" / "scale.py"
    reference.write_text(REFERENCE.replace("total * w", "total * w * 2"))
    run_cli("release", cwd=toy)  # keep the release in sync: only the reference is wrong
    code, output = run_verify(toy)
    assert code == 1
    assert "[FAIL] reference earns full marks" in output
    assert "item 'value'" in output


def test_a_deleted_hidden_test_lets_mutants_survive(toy: Path) -> None:
    hidden = toy / "solutions" / "toy" / "tests" / "test_hidden.py"
    hidden.write_text(
        HIDDEN.split('@pytest.mark.rubric("value")\n@pytest.mark.parametrize')[0]
        + HIDDEN.split(
            "expect_array(submission.scale_sum(x, w), reference"
            '.scale_sum(x, w), name="y", strict=False)\n'
        )[1]
    )
    code, output = run_verify(toy)
    assert code == 1
    assert "[FAIL] mutants are caught" in output
    assert "earns full marks: the hidden tests miss this mistake" in output
    assert "mutants/mean.py: declared to lose {value}, lost {}" in output


def test_an_edited_stub_fails_verify(toy: Path) -> None:
    stub = toy / "assignments" / "toy" / "scale.py"
    stub.write_text(stub.read_text() + "\n# a helpful tip\n")
    code, output = run_verify(toy)
    assert code == 1
    assert "[FAIL] release in sync" in output
    assert "assignments/toy/scale.py differs from its source" in output


def test_a_solution_line_pasted_into_the_release_fails_verify(toy: Path) -> None:
    readme = toy / "assignments" / "toy" / "README.md"
    readme.write_text(
        readme.read_text() + "\nHint: `total = x.sum(axis=0)`\n    total = x.sum(axis=0)\n"
    )
    code, output = run_verify(toy)
    assert code == 1
    assert "[FAIL] nothing leaks into assignments/toy/" in output
    assert "leaks instructor-only line 'total = x.sum(axis=0)'" in output
