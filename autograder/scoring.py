"""Pure scoring: test outcomes + rubric -> grades. No I/O, no clocks, no randomness.

Everything the exporters write comes from the frozen dataclasses here, so a regrade with the
same outcomes produces byte-identical files.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograder.errors import NotImplementedByStudent
from autograder.rubric import Rubric, RubricItem

PASSED = "passed"
FAILED = "failed"  # the submission's answer was wrong
ERROR = "error"  # the submission raised, crashed, timed out, or is missing a function
INTERNAL = "internal"  # the test itself broke: an instructor bug, never the student's fault

STATUS_GRADED = "graded"
STATUS_ERROR = "error"  # the submission could not be run at all (load failure)
STATUS_MISSING = "missing"  # no file to grade


@dataclass(frozen=True)
class TestOutcome:
    """What one test concluded about one submission."""

    __test__ = False  # not a test class, despite the name

    nodeid: str
    item_id: str
    outcome: str
    message: str = ""
    properties: tuple[tuple[str, Any], ...] = ()
    error: str = ""  # for a student error, its kind ("timeout", "crash", ...; errors.py)

    @property
    def passed(self) -> bool:
        return self.outcome == PASSED

    def to_json(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "item_id": self.item_id,
            "outcome": self.outcome,
            "message": self.message,
            "properties": [list(p) for p in self.properties],
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestOutcome:
        return cls(
            nodeid=str(data["nodeid"]),
            item_id=str(data["item_id"]),
            outcome=str(data["outcome"]),
            message=str(data.get("message", "")),
            properties=tuple((str(k), v) for k, v in data.get("properties", [])),
            error=str(data.get("error", "")),
        )


@dataclass(frozen=True)
class ItemGrade:
    id: str
    title: str
    score: float
    max_score: float
    feedback: str
    visibility: str
    passed: int
    total: int


@dataclass(frozen=True)
class StudentGrade:
    student: str
    status: str
    score: float
    max_score: float
    items: tuple[ItemGrade, ...]
    feedback: str
    output: str = ""
    internal_errors: tuple[str, ...] = field(default=())
    timed_out: bool = False  # some call (or the import) ran past a time limit
    note: str = ""  # on a graded run (a notebook's cells that failed), ends the summary line

    def item(self, item_id: str) -> ItemGrade:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


def score_item(item: RubricItem, outcomes: Sequence[TestOutcome]) -> ItemGrade:
    """Score one rubric item from its tests' outcomes."""
    total = len(outcomes)
    passed = sum(1 for o in outcomes if o.passed)
    if total == 0:
        fraction = 0.0
    elif item.scoring == "all_or_nothing":
        fraction = 1.0 if passed == total else 0.0
    else:
        fraction = passed / total
    # Round to hundredths: fractions like 1/3 must print and compare identically on every run.
    score = round(item.points * fraction, 2)
    return ItemGrade(
        id=item.id,
        title=item.title,
        score=score,
        max_score=item.points,
        feedback=item_feedback(item, outcomes),
        visibility=item.visibility,
        passed=passed,
        total=total,
    )


# A number on its own: a size, a case (B=3), an error (6.2e-01); not one in a name (W1,
# float32), nor a line or cell number, which tells two errors apart. Two texts that differ
# only in these say the same thing (a hint, in feedback; a finding, in check's summary).
NUMBERS = re.compile(r"(?<![\w.])(?<!line )(?<!cell )[0-9]+(?:\.[0-9]+)?(?:e[-+]?[0-9]+)?(?!\w)")
# Where an error in the student's code was raised, from its first line ("ValueError at mlp.py
# line 12: ..."; in a notebook "... at mlp.ipynb cell 3, line 2: ...").
_RAISED_AT = re.compile(r"^[A-Za-z_][\w.]* at .+? (?:line|cell) \d+(?=: |$)")


def _raised_at(finding: str) -> str:
    """``the ValueError at mlp.py line 12`` for an error's first line; empty for others."""
    place = _RAISED_AT.match(finding)
    return f"the {place.group(0)}" if place else ""


def _case_of(finding: str) -> str:
    """The case a check's first line names: ``B=1, D=4, F=3`` of "... (for B=1, D=4, F=3): ...",
    parentheses inside it included ("(for x of shape (2, 3, 4), F=5)"); empty without."""
    start = finding.find("(for ")
    if start < 0:
        return ""
    depth = 0
    for end in range(start, len(finding)):
        depth += {"(": 1, ")": -1}.get(finding[end], 0)
        if depth == 0:
            return finding[start + len("(for ") : end]
    return ""


def item_feedback(item: RubricItem, outcomes: Sequence[TestOutcome]) -> str:
    """A short explanation: what was checked and, for failures, what went wrong.

    A failure message is a first line saying what was found, optionally followed by lines of
    hint. Up to three distinct findings are listed, then each distinct hint once, so the same
    mistake seen on seven shapes reads as one explanation, not seven.
    """
    total = len(outcomes)
    failures = [o for o in outcomes if not o.passed]
    if total == 0:
        return "No checks ran for this item."
    if not failures:
        return "The one check passed." if total == 1 else f"All {total} checks passed."
    head = f"{total - len(failures)} of {total} check{'s' if total != 1 else ''} passed."
    if item.scoring == "all_or_nothing":
        head += " This item is all-or-nothing."
    findings: list[str] = []
    # Each distinct hint (up to its numbers: "(B = 2)" and "(B = 9)" say one thing), with the
    # case of its first failure and the cases (not checks: an item may check several outputs
    # of one case) that gave it.
    hints: dict[str, tuple[str, str]] = {}
    given: dict[str, set[str]] = {}
    cases: set[str] = set()  # of every failure
    for outcome in failures:
        first, _, rest = (outcome.message.strip() or "check failed").partition("\n")
        if first not in findings:
            findings.append(first)
        # An error names no case: where it was raised tells it from the others, so a hint
        # given for one error (a matmul's) is not read as given for another (a reshape's).
        case = _case_of(first) or _raised_at(first)
        cases.add(case)
        shape = NUMBERS.sub("#", rest.strip())
        if rest.strip():
            given.setdefault(shape, set()).add(case)
            if shape not in hints:
                hints[shape] = (rest.strip(), case)
    lines = [head, *(f"- {finding}" for finding in findings[:3])]
    more = len(findings) - 3
    if more > 0:
        lines.append(f"- ... and {more} more like these")
    shown = []
    for shape, (hint, case) in list(hints.items())[:3]:
        if given[shape] != cases and case and hint.startswith("Hint: "):
            # Said of some cases, not of all: "y is all zeros" may be true of one shape only.
            others = len(given[shape]) - 1
            also = f" and {others} other case{'s' if others > 1 else ''}" if others else ""
            hint = f"Hint (for {case}{also}): {hint.removeprefix('Hint: ')}"
        shown.append(hint)
    if shown:
        lines += ["", *shown]  # a blank line, so Markdown does not fold hints into the list
    if item.handout:
        lines += ["", read_again(item.handout, failures)]
    return "\n".join(lines)


def read_again(section: str, failures: Sequence[TestOutcome] = ()) -> str:
    """Where the handout teaches what an item checks (rubric.yml's ``handout``). Where every
    failure is a function not written yet, there is nothing to read *again*: the student has
    not started (on the untouched stub, every item said "Read again")."""
    if failures and all(o.error == NotImplementedByStudent.kind for o in failures):
        return f'Start with: the section "{section}" of the handout (README.md).'
    return f'Read again: the section "{section}" of the handout (README.md).'


def score(
    rubric: Rubric,
    student: str,
    outcomes: Iterable[TestOutcome],
    *,
    status: str = STATUS_GRADED,
    load_problem: str = "",
    load_error: str = "",
    output: str = "",
    filename: str = "",
) -> StudentGrade:
    """Turn one submission's outcomes into its grade.

    ``load_error`` is the kind of student error (``errors.py``) that stopped the file from
    loading, if one did (``"internal"``: the grader itself failed on it, not the file).
    """
    by_item: dict[str, list[TestOutcome]] = {item.id: [] for item in rubric.items}
    internal: list[str] = []
    timed_out = load_error == "timeout"
    for outcome in outcomes:
        timed_out = timed_out or outcome.error == "timeout"
        by_item.setdefault(outcome.item_id, []).append(outcome)
        if outcome.outcome == INTERNAL:
            internal.append(f"{outcome.nodeid}: {outcome.message}")
    if status == STATUS_GRADED:
        items = tuple(score_item(item, by_item[item.id]) for item in rubric.items)
    else:
        reason = load_problem or "The submission could not be graded."
        items = tuple(
            ItemGrade(item.id, item.title, 0.0, item.points, reason, item.visibility, 0, 0)
            for item in rubric.items
        )
    total = round(sum(i.score for i in items), 2)
    return StudentGrade(
        student=student,
        status=status,
        score=total,
        max_score=rubric.max_score,
        items=items,
        feedback=(
            load_problem  # the grader's failure: nothing about the student's file to say
            if load_error == "internal"
            else overall_feedback(rubric, status, items, load_problem, filename)
        ),
        output=output,
        internal_errors=tuple(internal),
        timed_out=timed_out,
        note=load_problem if status == STATUS_GRADED else "",
    )


def shown_summary(grade: StudentGrade, shown: Collection[str]) -> str:
    """The summary line for a student who is shown only the items in ``shown``: while some
    item is not shown, neither is the total (Gradescope hides a total with hidden tests in it,
    and "Full marks", or points lost beyond the items shown, would tell what they hide)."""
    if grade.status != STATUS_GRADED or all(i.id in shown for i in grade.items):
        return grade.feedback
    lost = [i.id for i in grade.items if i.id in shown and i.score < i.max_score]
    first = (
        f"Points lost on: {', '.join(lost)}. See each item below for what was checked and what "
        "went wrong."
        if lost
        else "Every item shown here passed."
    )
    note = f" {grade.note}" if grade.note else ""
    # A hidden item is never shown; one shown after the due date or once published is, later.
    later = any(i.visibility != "hidden" for i in grade.items if i.id not in shown)
    return (
        f"{first}{note} Some items are not shown{' yet' if later else ''}, so your total score "
        "is not shown either."
    )


# How the summary of a graded submission starts when it states the total.
_TOTAL_FIRST = re.compile(r"^(?:(Full marks): |Score )\d+(?:\.\d+)?/\d+(?:\.\d+)?\. ")


def without_total(summary: str) -> str:
    """``summary`` for a page whose heading states the total already: "Full marks. Every item
    passed.", "Points lost on: dW. ..." (a summary that states no total is kept as it is)."""
    return _TOTAL_FIRST.sub(lambda m: f"{m[1]}. " if m[1] else "", summary, count=1)


SEVERAL_FILES = "Several files could be your submission"  # how that problem starts
EMPTY_UPLOAD = "is empty (0 bytes): the upload may have failed"  # "Your linear.py " before it
# The feedback of a submission the grader itself failed on (status error, scored nothing).
INTERNAL_PROBLEM = (
    "The grader itself failed while grading this submission (not your fault); it will be regraded."
)


def overall_feedback(
    rubric: Rubric, status: str, items: Sequence[ItemGrade], load_problem: str, filename: str = ""
) -> str:
    """The summary line; ``filename`` is the file that was graded (the module by default)."""
    if status == STATUS_MISSING:
        return load_problem or f"No submission found: expected {rubric.module}."
    if status == STATUS_ERROR:
        first = load_problem.split(" ", 1)[0]
        # A sentence starts with a capital, but a file name ("linear.py is ...") keeps its case.
        problem = load_problem[:1].upper() + load_problem[1:] if first.isalpha() else load_problem
        # Nothing wrong with any file as such, or nothing in the file to run.
        if load_problem.startswith(SEVERAL_FILES) or EMPTY_UPLOAD in load_problem:
            return f"Your submission could not be graded, so no check could be made. {problem}"
        graded = filename or rubric.module
        return f"Your {graded} could not be run, so no check could be made. {problem}"
    # A graded submission's problem is a note on the run (a notebook's cells that failed).
    note = f" {load_problem}" if load_problem else ""
    earned = sum(i.score for i in items)
    full = [i.id for i in items if i.score == i.max_score]
    if len(full) == len(items):
        return f"Full marks: {earned:g}/{rubric.max_score:g}. Every item passed.{note}"
    # This line is shown at once (on Gradescope too): items not shown yet, or never, are only
    # counted.
    lost = [i for i in items if i.score < i.max_score]
    named = [i.id for i in lost if i.visibility in ("visible", "after_published")]
    later = sum(1 for i in lost if i.visibility == "after_due_date")
    hidden = len(lost) - len(named) - later
    extras = [
        text
        for count, text in (
            (later, f"{later} item{'s' if later != 1 else ''} shown after the due date"),
            (hidden, f"{hidden} hidden item{'s' if hidden != 1 else ''}"),
        )
        if count
    ]
    where = " and ".join(([", ".join(named)] if named else []) + extras)
    return (
        f"Score {earned:g}/{rubric.max_score:g}. Points lost on: {where}. "
        f"See each item below for what was checked and what went wrong.{note}"
    )


def grader_failed(record: Any) -> bool:
    """Whether a grade (a ``StudentGrade`` or its grades.json record) is of a submission the
    grader itself failed on (its 0 is no grade: ``grade`` grades it again on its next run)."""
    if isinstance(record, StudentGrade):
        return record.status == STATUS_ERROR and record.feedback.startswith(INTERNAL_PROBLEM)
    return (
        isinstance(record, dict)
        and record.get("status") == STATUS_ERROR
        and str(record.get("feedback", "")).startswith(INTERNAL_PROBLEM)
    )
