"""Per-submission limits: what course.yml sets, the sandbox enforces and the grader budgets.

course.yml sets them for the course and per assignment; ``autograder release`` writes an
assignment's into the student's ``rubric.yml`` (``limits:``), so that ``autograder check``
runs a student's code under the limits it will be graded with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from autograder.yamlio import Reader


@dataclass(frozen=True)
class GradingLimits:
    """Per-submission limits; the sandbox enforces them, the grader budgets with them."""

    call_timeout: float = 10.0
    import_timeout: float = 10.0
    cpu_seconds: int = 60
    memory_mb: int = 512
    output_kb: int = 64
    budget_seconds: float = 60.0


LIMIT_HELP = {
    "call_timeout": "seconds per call into student code (its own time, sleeps included)",
    "import_timeout": "seconds to run the submitted file (the same)",
    "cpu_seconds": "CPU seconds for each worker of a submission (a crash starts a new one)",
    "memory_mb": "memory allowance in MiB",
    "output_kb": "printed output kept per submission, KiB",
    "budget_seconds": "total seconds for one submission's tests (the same)",
}


# Beyond these a limit is no limit (and the kernel or a timer would reject it mid-run).
LIMIT_MAX = {
    "call_timeout": 86400,
    "import_timeout": 86400,
    "cpu_seconds": 86400,
    "memory_mb": 1 << 20,
    "output_kb": 1 << 20,
    "budget_seconds": 86400,
}


# Below these no submission could finish, whatever it does (a typo of units, most likely:
# call_timeout 0.000001); a reference still has to earn full marks under the course's limits
# (`autograder verify`).
LIMIT_MIN = {
    "call_timeout": 0.01,
    "import_timeout": 0.01,
    "cpu_seconds": 1,
    "memory_mb": 64,
    "output_kb": 1,
    "budget_seconds": 1,
}


def _check_limit(name: str) -> Callable[[float], str | None]:
    def check(value: float) -> str | None:
        if not (0 < value <= LIMIT_MAX[name]):  # False for NaN too
            return f"must be positive and at most {LIMIT_MAX[name]}"
        if value < LIMIT_MIN[name]:
            return f"must be at least {LIMIT_MIN[name]} (below it, no submission could finish)"
        return None

    return check


def read_limits(node: Reader, base: GradingLimits) -> GradingLimits:
    changes: dict[str, Any] = {}
    names = [field.name for field in fields(GradingLimits)]
    for name in names:
        if node.has(name):
            kind = float if isinstance(getattr(base, name), float) else int
            changes[name] = node.get(name, kind, check=_check_limit(name))
    node.done(allowed_extra=names)
    return replace(base, **changes)


def limits_yaml(limits: GradingLimits) -> str:
    """``limits`` as the ``limits:`` block of a YAML file, one value per line, each read back
    exactly as it is (``read_limits``)."""
    lines = ["limits:"]
    lines += [
        f"  {field.name}: {_yaml_number(getattr(limits, field.name))}" for field in fields(limits)
    ]
    return "\n".join(lines) + "\n"


def _yaml_number(value: float) -> str:
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    text = repr(value)  # the shortest form that reads back as the same float
    mantissa, _, exponent = text.partition("e")
    if exponent and "." not in mantissa:  # YAML 1.1 reads 1e-05 as a string, 1.0e-05 as a float
        text = f"{mantissa}.0e{exponent}"
    return text
