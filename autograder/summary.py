"""Human-readable tables for the terminal: a graded class, or one student's public check."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from autograder.rubric import Rubric
from autograder.scoring import ERROR, PASSED, TestOutcome

if TYPE_CHECKING:
    from autograder.grading import GradeRun

MAX_TABLE_ROWS = 60


def print_grade_summary(result: GradeRun, rubric: Rubric, out: Path, stream: IO[str]) -> None:
    """Per-student table (for classes up to ``MAX_TABLE_ROWS``), then totals."""
    grades = sorted(result.grades, key=lambda g: g.student)
    if len(grades) <= MAX_TABLE_ROWS:
        width = max([7, *(len(g.student) for g in grades)])
        head = f"{'student':<{width}}  {'status':<7}  " + "  ".join(f"{i:>7}" for i in rubric.ids)
        stream.write(head + f"  {'total':>11}\n")
        stream.write("-" * (len(head) + 13) + "\n")
        for grade in grades:
            cells = "  ".join(f"{_num(i.score):>3}/{_num(i.max_score):<3}" for i in grade.items)
            total = f"{_num(grade.score)}/{_num(grade.max_score)}"
            stream.write(f"{grade.student:<{width}}  {grade.status:<7}  {cells}  {total:>11}\n")
        stream.write("\n")
    statuses = Counter(g.status for g in grades)
    timeouts = sum(1 for g in grades if g.timed_out)
    mean = sum(g.score for g in grades) / len(grades) if grades else 0.0
    full = sum(1 for g in grades if g.score == g.max_score)
    parts = [
        f"{len(grades)} submissions",
        f"{statuses.get('graded', 0)} graded",
        f"{statuses.get('error', 0)} could not run",
        f"{statuses.get('missing', 0)} missing",
        f"{timeouts} with timeouts",
        f"{full} full marks",
        f"mean {mean:.2f}/{_num(rubric.max_score)}",
    ]
    stream.write(", ".join(parts) + "\n")
    fresh = len(grades) - result.reused
    reused = f" ({result.reused} reused from an earlier run)" if result.reused else ""
    processes = f" with up to {result.processes} processes" if result.processes else ""
    stream.write(
        f"graded {fresh} in {result.seconds:.1f} s{processes}{reused}; reports in {out}/\n"
    )


def print_check_summary(rubric: Rubric, outcomes: Sequence[TestOutcome], stream: IO[str]) -> None:
    """What a student sees after ``autograder check``: public checks per rubric item."""
    by_item: dict[str, list[TestOutcome]] = {i: [] for i in rubric.ids}
    for outcome in outcomes:
        by_item.setdefault(outcome.item_id, []).append(outcome)
    stream.write(f"\n{rubric.title}: public checks by rubric item\n\n")
    for item in rubric.items:
        results = by_item[item.id]
        passed = sum(1 for o in results if o.outcome == PASSED)
        if not results:
            mark, note = "·", "no public check; graded by the hidden tests"
        elif passed == len(results):
            mark, note = "✔", f"{passed}/{len(results)} public checks passed"
        else:
            mark, note = "✘", f"{passed}/{len(results)} public checks passed"
        stream.write(f" {mark} {item.title} [{item.id}, {_num(item.points)} pts]: {note}\n")
        shown: set[str] = set()
        for outcome in results:
            if outcome.outcome != PASSED and outcome.message not in shown:
                shown.add(outcome.message)
                tag = "error" if outcome.outcome == ERROR else "wrong"
                for n, line in enumerate(outcome.message.splitlines()):
                    stream.write(f"     {'- ' + tag + ': ' if n == 0 else '  '}{line}\n")
    total = len(outcomes)
    passed = sum(1 for o in outcomes if o.outcome == PASSED)
    stream.write(
        f"\n{passed}/{total} public checks passed. Your grade comes from hidden tests with "
        "other inputs and shapes;\nthese public checks are necessary, not sufficient.\n"
    )


def _num(value: float) -> str:
    return f"{value:g}"
