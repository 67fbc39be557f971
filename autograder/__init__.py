"""Auto-graded exercises for teaching backpropagation.

This module is the facade test authors import (``import autograder as ag``): the check helpers
for hidden and public tests, the gradient checks, the mistake diagnosis, and the rubric and
course loaders. Everything else is internal. The pytest fixtures (``submission``,
``reference``, ``rng``) and the ``rubric`` marker come from the plugin, which pytest loads by
itself.
"""

from __future__ import annotations

from autograder.checks import (
    PRECISION_THRESHOLD,
    VALUE_THRESHOLD,
    confirm_gradient,
    expect_array,
    expect_consistent,
    expect_gradients,
    expect_layout,
    expect_tuple,
    expect_unchanged,
    expect_uses_inputs,
)
from autograder.course import Course, load_course
from autograder.diagnose import Diagnosis, diagnose
from autograder.errors import (
    AutograderError,
    ConfigError,
    StudentError,
    WrongAnswer,
)
from autograder.gradcheck import (
    DIRECTIONAL_THRESHOLD,
    NUMERICAL_THRESHOLD,
    GradCheckResult,
    directional_check,
    gradient_check,
    numerical_vjp,
    rel_error,
)
from autograder.rubric import Rubric, RubricItem, load_rubric

__all__ = [
    "DIRECTIONAL_THRESHOLD",
    "NUMERICAL_THRESHOLD",
    "PRECISION_THRESHOLD",
    "VALUE_THRESHOLD",
    "AutograderError",
    "ConfigError",
    "Course",
    "Diagnosis",
    "GradCheckResult",
    "Rubric",
    "RubricItem",
    "StudentError",
    "WrongAnswer",
    "diagnose",
    "directional_check",
    "expect_array",
    "expect_consistent",
    "confirm_gradient",
    "expect_gradients",
    "expect_layout",
    "expect_tuple",
    "expect_unchanged",
    "expect_uses_inputs",
    "gradient_check",
    "load_course",
    "load_rubric",
    "numerical_vjp",
    "rel_error",
]
