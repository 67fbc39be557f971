"""The rubric: which items an assignment is graded on, and how tests score them.

``solutions/<a>/rubric.yml`` (copied verbatim into the student release) looks like::

    assignment: linear
    module: linear.py          # the file students submit
    title: Backprop through a linear layer
    items:
      - id: dW
        title: Weight gradient dL/dW
        points: 4
        scoring: proportional    # or all_or_nothing
        visibility: visible      # visible | hidden | after_due_date | after_published
        description: dL/dW = X^T dL/dY, checked against the reference and numerically

The released copy also carries the assignment's limits from course.yml (``limits:``, written
by ``autograder release``), which ``autograder check`` runs the student's code under; in
``solutions/<a>/`` limits belong in course.yml, not here.

Tests bind to items with ``@pytest.mark.rubric("dW")``; ``validate_binding`` checks that every
test names exactly one existing item and every item has at least one test.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import ConfigError
from autograder.limits import GradingLimits, read_limits
from autograder.yamlio import LocatedList, Reader, load_yaml

SCORING = ("proportional", "all_or_nothing")
VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class RubricItem:
    id: str
    title: str
    points: float
    scoring: str = "proportional"
    visibility: str = "visible"
    description: str = ""
    line: int | None = None
    handout: str = ""  # the handout's section that teaches it, named under a lost item


@dataclass(frozen=True)
class Rubric:
    assignment: str
    module: str
    title: str
    items: tuple[RubricItem, ...]
    path: Path
    limits: GradingLimits | None = None  # a release's: those of course.yml, for check
    limits_line: int | None = None
    assignment_line: int | None = None

    @property
    def max_score(self) -> float:
        return round(sum(item.points for item in self.items), 2)  # 2000 x 0.01 is 20, exactly

    @property
    def module_stem(self) -> str:
        return Path(self.module).stem

    def item(self, item_id: str) -> RubricItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)


def load_rubric(path: Path) -> Rubric:
    """Load and validate ``rubric.yml``; every problem is a ``ConfigError`` with a line."""
    root = Reader(path, load_yaml(path), "rubric", known=_RUBRIC_KEYS)
    assignment = root.get("assignment", str, check=_check_id)
    module = root.get("module", str, check=_check_module)
    title = root.get("title", str, default=assignment)
    raw_items = root.get("items", list)
    if not raw_items:
        raise root.error("items", "'items' must list at least one rubric item")
    items: list[RubricItem] = []
    seen: dict[str, int | None] = {}
    for index, raw in enumerate(raw_items):
        line = raw_items.line_of(index) if isinstance(raw_items, LocatedList) else None
        node = Reader(path, raw, f"rubric item #{index + 1}", line=line, known=_ITEM_KEYS)
        item_id = node.get("id", str, check=_check_id)
        if item_id in seen:
            raise node.error(
                "id", f"duplicate item id '{item_id}' (first defined on line {seen[item_id]})"
            )
        seen[item_id] = node.line_of("id")
        item = RubricItem(
            id=item_id,
            title=node.get("title", str, default=item_id),
            points=node.get("points", float, check=_check_points),
            scoring=node.get("scoring", str, default="proportional", check=_one_of(SCORING)),
            visibility=node.get("visibility", str, default="visible", check=_one_of(VISIBILITY)),
            description=node.get("description", str, default=""),
            line=node.line or line,
            handout=node.get("handout", str, default="").strip(),
        )
        node.done()
        items.append(item)
    limits = None
    if root.has("limits"):
        limits = read_limits(root.child("limits", "limits"), GradingLimits())
    root.done()
    return Rubric(
        assignment,
        module,
        title,
        tuple(items),
        path,
        limits,
        root.line_of("limits"),
        root.line_of("assignment"),
    )


_RUBRIC_KEYS = ("assignment", "module", "title", "items", "limits")
_ITEM_KEYS = ("id", "title", "points", "scoring", "visibility", "description", "handout")


@dataclass(frozen=True)
class TestBinding:
    """One collected test and the rubric item it scores."""

    __test__ = False  # not a test class, despite the name

    nodeid: str
    item_id: str | None
    path: Path
    line: int | None
    problem: str | None = None


def validate_binding(
    rubric: Rubric, bindings: Sequence[TestBinding], *, complete: bool = True
) -> Mapping[str, list[str]]:
    """Check the test-to-item binding; return item id -> test node ids.

    Raises ``ConfigError`` naming the test's file and line (or the rubric item's line when an
    item has no test), so the instructor can fix it before any submission runs. With
    ``complete=False`` (the public tests) an item may have no test, and there may be none.
    """
    by_item: dict[str, list[str]] = {item.id: [] for item in rubric.items}
    # Every problem at once, so that fixing them takes one round, not one per test.
    problems: list[tuple[Path, int | None, str]] = []
    for binding in bindings:
        if binding.problem:
            problems.append(
                (binding.path, binding.line, f"test {binding.nodeid}: {binding.problem}")
            )
        elif binding.item_id not in by_item:
            known = ", ".join(rubric.ids)
            problems.append(
                (
                    binding.path,
                    binding.line,
                    f"test {binding.nodeid} is marked rubric('{binding.item_id}'), "
                    f"which is not an item of {rubric.path.name} (items: {known})",
                )
            )
        else:
            by_item[binding.item_id].append(binding.nodeid)
    if complete and not bindings:
        problems.append(
            (
                rubric.path,
                None,
                "no tests were collected for this assignment (pytest collects test_*.py files, "
                "and in them functions named test_*)",
            )
        )
    elif complete:
        for item in rubric.items:
            if not by_item[item.id] and not any(b.item_id == item.id for b in bindings):
                problems.append(
                    (
                        rubric.path,
                        item.line,
                        f"rubric item '{item.id}' has no test marked rubric('{item.id}')",
                    )
                )
    if problems:
        raise _all_of(problems)
    return by_item


MAX_LISTED_PROBLEMS = 10


def _all_of(problems: Sequence[tuple[Path, int | None, str]]) -> ConfigError:
    """One ``ConfigError`` for the first problem, the others listed after it (a parametrized
    test's cases share their function's line: said once)."""
    seen: set[tuple[Path, int | None]] = set()
    unique = []
    for path, line, message in problems:
        if (path, line) not in seen or line is None:
            seen.add((path, line))
            unique.append((path, line, message))
    (path, line, message), rest = unique[0], unique[1:]
    also = [f"\n  also {p}:{n}: {m}" if n else f"\n  also {p}: {m}" for p, n, m in rest]
    more = len(also) - MAX_LISTED_PROBLEMS
    tail = "".join(also[:MAX_LISTED_PROBLEMS]) + (f"\n  ... and {more} more" if more > 0 else "")
    return ConfigError(path, line, message + tail)


def _check_id(value: str) -> str | None:
    return None if _ID.fullmatch(value) else "must be a simple identifier (letters, digits, _ . -)"


# Importable names a module of the course must not take: the grader and the tests import them.
TAKEN_MODULE_NAMES = frozenset(sys.stdlib_module_names) | {
    "numpy",
    "pytest",
    "_pytest",
    "yaml",
    "autograder",
}


def _check_module(value: str) -> str | None:
    if "/" in value or "\\" in value or not value.endswith(".py"):
        return "must be a file name ending in .py, without folders"
    stem = value[: -len(".py")]
    if not stem.isidentifier():
        return "must be an importable module name (letters, digits, _) ending in .py"
    if stem in TAKEN_MODULE_NAMES:
        return f"'{stem}' is the name of a module the grader imports; choose another name"
    return None


MAX_POINTS = 1_000_000


def _check_points(value: float) -> str | None:
    if not (0 < value <= MAX_POINTS):  # False for NaN too; .inf would not survive JSON
        return f"must be a positive number, at most {MAX_POINTS:,}"
    if round(value, 2) != value:  # scores are kept to hundredths: 1.125 could never be full
        return "must have at most two decimals (scores are kept to hundredths)"
    return None


def _one_of(options: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def check(value: str) -> str | None:
        return None if value in options else f"must be one of {', '.join(options)} (got '{value}')"

    return check
