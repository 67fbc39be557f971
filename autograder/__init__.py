"""Auto-graded exercises for teaching backpropagation.

This module is the facade test authors import (``import autograder as ag``): the helpers for
hidden and public tests, and the rubric and course loaders. Everything else is internal.
"""

from __future__ import annotations

from autograder.course import Course, load_course
from autograder.errors import (
    AutograderError,
    ConfigError,
    StudentError,
    WrongAnswer,
)
from autograder.rubric import Rubric, RubricItem, load_rubric

__all__ = [
    "AutograderError",
    "ConfigError",
    "Course",
    "Rubric",
    "RubricItem",
    "StudentError",
    "WrongAnswer",
    "load_course",
    "load_rubric",
]
