"""Auto-graded exercises for teaching backpropagation.

This module is the facade test authors import (``import autograder as ag``): the check helpers
for hidden and public tests, the gradient checks, the mistake diagnosis, and the rubric and
course loaders. Everything else is internal. The pytest fixtures (``submission``,
``reference``, ``rng``) and the ``rubric`` marker come from the plugin, which pytest loads by
itself.

The names load on first use, so that importing the package (as ``autograder`` the command
does before anything else) costs no numpy: a Ctrl-C while the command starts is handled as
one, not shown as a traceback.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = ("errors", "course", "rubric", "gradcheck", "checks", "diagnose")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for home in _HOMES:
            module = importlib.import_module(f"autograder.{home}")
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module 'autograder' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Facade(types.ModuleType):
    """The package, whose facade names win over its submodules of the same name.

    Importing a submodule binds it on the package (``autograder.diagnose`` the module, once
    ``autograder.checks`` has imported it), which would hide the facade's ``diagnose``
    function from ``from autograder import diagnose``. As when the names were imported
    eagerly, the function stays.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
