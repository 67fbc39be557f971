"""Human-readable tables for the terminal: a graded class, or one student's public check."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from autograder.rubric import Rubric
from autograder.sandbox.model import OUTPUT_TRUNCATED
from autograder.scoring import (
    ERROR,
    NUMBERS,
    PASSED,
    TestOutcome,
    grader_failed,
    read_again,
)

if TYPE_CHECKING:
    from autograder.grading import GradeRun

MAX_TABLE_ROWS = 60


def print_grade_summary(result: GradeRun, rubric: Rubric, out: Path, stream: IO[str]) -> None:
    """Per-student table (for classes up to ``MAX_TABLE_ROWS``), the class's counts, each item."""
    grades = sorted(result.grades, key=lambda g: g.student)
    if len(grades) <= MAX_TABLE_ROWS:
        rows = [
            [
                table_id(grade.student),
                grade.status,
                *(f"{_num(i.score)}/{_num(i.max_score)}" for i in grade.items),
                f"{_num(grade.score)}/{_num(grade.max_score)}",
            ]
            for grade in grades
        ]
        stream.write(_table(["student", "status", *rubric.ids, "total"], rows, left=2) + "\n")
    statuses = Counter(g.status for g in grades)
    failed = sum(1 for g in grades if grader_failed(g))  # status error, but not the file's
    count = len(grades) or 1
    counts = [
        ("graded", f"{statuses.get('graded', 0)}"),
        ("could not run", f"{statuses.get('error', 0) - failed}"),
        *([("the grader failed on", f"{failed}")] if failed else []),
        ("missing", f"{statuses.get('missing', 0)}"),
        ("with timeouts", f"{sum(1 for g in grades if g.timed_out)}"),
        ("full marks", f"{sum(1 for g in grades if g.score == g.max_score)}"),
        ("mean score", f"{sum(g.score for g in grades) / count:.2f}/{_num(rubric.max_score)}"),
    ]
    stream.write(_table([f"{len(grades)} submissions", ""], counts) + "\n")
    items: list[tuple[str, str, str, str]] = []
    for item_id in rubric.ids:
        scores = [g.item(item_id) for g in grades]
        items.append(
            (
                item_id,
                _num(scores[0].max_score) if scores else "",
                f"{sum(i.score for i in scores) / count:.2f}",
                f"{sum(1 for i in scores if i.score == i.max_score)}",
            )
        )
    stream.write(_table(["item", "points", "mean", "full marks"], items) + "\n")
    fresh = len(grades) - result.reused
    reused = f" ({result.reused} reused from an earlier run)" if result.reused else ""
    plural = "es" if result.processes != 1 else ""
    processes = f" with up to {result.processes} process{plural}" if result.processes else ""
    stream.write(
        f"{fresh} submission{'s' if fresh != 1 else ''} in {result.seconds:.1f} s"
        f"{processes}{reused}; reports in {out}/\n"
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> str:
    """The first ``left`` columns left-aligned, the numbers right-aligned, a rule under the head."""
    widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            f"{cell:<{width}}" if c < left else f"{cell:>{width}}"
            for c, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "-" * len(line(["-" * w for w in widths]))
    return "\n".join([line(head), rule, *(line(r) for r in rows)]) + "\n"


def shown_id(student: str) -> str:
    """A student id as the terminal may show it: a folder name can hold escape sequences,
    carriage returns and newlines, which would repaint or break the table."""
    return "".join(c if c.isprintable() else "?" for c in student)


TABLE_ID_WIDTH = 40  # an id's column in the table: a 250-character id widened every row


def table_id(student: str) -> str:
    """``shown_id`` in the per-student table: quoted if it starts or ends with a space
    (``'ALICE '`` is not ``ALICE``), and a long one cut in the middle, keeping its start and
    its end (an LMS's ids differ at the end: ``..._12345``); grades.json has it whole."""
    shown = shown_id(student)
    if shown != shown.strip():
        shown = f"'{shown}'"
    if len(shown) > TABLE_ID_WIDTH:
        shown = shown[: TABLE_ID_WIDTH - 15] + "..." + shown[-12:]
    return shown


def _wording(message: str) -> str:
    """A failure's first line with its numbers left out: the same mistake on other sizes."""
    return NUMBERS.sub("#", message.split("\n", 1)[0])


_TIMED_OUT = re.compile(r"\b(\w+) did not return within ")  # a call's timeout
_REFUSED = re.compile(r"(\w+) did not finish in (?:an earlier check|\d+ earlier checks)")
PRINTED_LINES = 20  # of what the student's code printed, shown after their public checks
PRINTED_WIDTH = 200


def print_check_summary(
    rubric: Rubric,
    outcomes: Sequence[TestOutcome],
    stream: IO[str],
    note: str = "",
    printed: str = "",
    *,
    file_ran: bool = True,
) -> None:
    """What a student sees after ``autograder check``: public checks per rubric item, after
    ``note`` (the cells of a notebook that raised, if any), then the start of what their code
    ``printed`` while the checks ran."""
    by_item: dict[str, list[TestOutcome]] = {i: [] for i in rubric.ids}
    for outcome in outcomes:
        by_item.setdefault(outcome.item_id, []).append(outcome)
    stream.write(f"\n{rubric.title}: public checks by rubric item\n\n")
    if note:
        stream.write(f"Note: {note}\n\n")
    order = {item.id: n for n, item in enumerate(rubric.items)}
    # The item under which each function's timeout is first shown: a later check refused for
    # it ("did not finish in an earlier check") may come in an item listed before that one.
    stuck: dict[str, str] = {}
    for item_id in sorted(by_item, key=lambda i: order.get(i, len(order))):
        for outcome in by_item[item_id]:
            for function in _TIMED_OUT.findall(outcome.message.split("\n", 1)[0]):
                stuck.setdefault(function, item_id)
    # Each message is shown once, with the checks that failed with it or with the same words
    # and other numbers (one mistake seen on three shapes: "size 3 is different from 4", "from
    # 5", ...), under the first item where it failed: the item it was shown under, by wording.
    shown: dict[str, str] = {}
    hints: set[str] = set()  # their lines after the first (a hint is worth reading once)
    for item in rubric.items:
        results = by_item[item.id]
        passed = sum(1 for o in results if o.outcome == PASSED)
        if not results:
            mark, note = "·", "no public check; graded by the hidden tests"
        elif passed == len(results):
            mark, note = "✔", f"{passed}/{len(results)} public checks passed"
        else:
            mark, note = "✘", f"{passed}/{len(results)} public checks passed"
        points = f"{_num(item.points)} pt{'' if item.points == 1 else 's'}"
        stream.write(f" {mark} {item.title} [{item.id}, {points}]: {note}\n")
        # This item's failed checks and the distinct messages among them, by wording.
        failed: Counter[str] = Counter()
        texts: dict[str, dict[str, None]] = {}  # each wording's messages, in order
        for outcome in results:
            if outcome.outcome != PASSED:
                wording = _wording(outcome.message)
                failed[wording] += 1
                texts.setdefault(wording, {})[outcome.message] = None
        # Failed checks whose message was shown under an earlier item: (tag, that item).
        again: Counter[tuple[str, str]] = Counter()
        for outcome in results:
            if outcome.outcome == PASSED:
                continue
            tag = "error" if outcome.outcome == ERROR else "wrong"
            wording = _wording(outcome.message)
            if wording in shown:  # under this item already, or counted as under an earlier one
                if shown[wording] != item.id:
                    again[tag, shown[wording]] += 1
                continue
            shown[wording] = item.id
            first = (outcome.message.splitlines() or [""])[0]
            times = failed[wording]
            numbers = "; the numbers differ between them" if len(texts[wording]) > 1 else ""
            checks = f" ({times} checks{numbers})" if times > 1 else ""
            refused = _REFUSED.match(first)
            where = stuck.get(refused.group(1), "") if refused else ""
            if where and order.get(where, -1) > order[item.id]:
                checks += f"; that check is under [{where}] below"
            stream.write(f"     - {tag}: {first}{checks}\n")
            for message in texts[wording]:  # each hint of the group once, up to its numbers
                rest = message.splitlines()[1:]
                hint = NUMBERS.sub("#", "\n".join(rest))
                if hint not in hints:
                    hints.add(hint)
                    stream.writelines(f"       {line}\n" for line in rest)
        for (tag, where), count in again.items():
            checks = f"{count} checks" if count > 1 else "1 check"
            stream.write(f"     - {tag}: as under [{where}] above ({checks})\n")
        # A file that does not run (a SyntaxError) fails every item; no section teaches that.
        if item.handout and passed < len(results) and file_ran:
            failures = [o for o in results if o.outcome != PASSED]
            stream.write(f"     {read_again(item.handout, failures)}\n")
    others = [o for o in outcomes if o.item_id not in rubric.ids]  # tests of the student's own
    if others:
        passed = sum(1 for o in others if o.outcome == PASSED)
        mark = "✔" if passed == len(others) else "✘"
        stream.write(
            f" {mark} Other tests (no rubric item, not graded): {passed}/{len(others)} passed\n"
        )
        for outcome in others:
            if outcome.outcome != PASSED:
                tag = "error" if outcome.outcome == ERROR else "failed"
                lines = outcome.message.splitlines() or [""]
                stream.write(f"     - {tag}: {outcome.nodeid}: {lines[0]}\n")
                stream.writelines(f"       {line}\n" for line in lines[1:])
    _print_printed(printed, stream)
    public = [o for o in outcomes if o.item_id in rubric.ids]  # the student's own not counted
    total = len(public)
    passed = sum(1 for o in public if o.outcome == PASSED)
    stream.write(
        f"\n{passed}/{total} public checks passed. Your grade comes from hidden tests with "
        "other\ninputs and shapes; these public checks are necessary, not sufficient.\n"
    )


def _print_printed(printed: str, stream: IO[str]) -> None:
    """The first ``PRINTED_LINES`` lines the student's code printed (print() is captured by
    the worker, so without this a student debugging by printing would see nothing)."""
    lines = printed.rstrip("\n").splitlines()
    if not printed.strip():
        return
    cut = bool(lines) and lines[-1].strip() == OUTPUT_TRUNCATED
    if cut:
        lines.pop()  # said in the heading instead
    first = f"the first {PRINTED_LINES} of {len(lines)} lines" if len(lines) > PRINTED_LINES else ""
    count = ", ".join(filter(None, [first, "all that was kept of more" if cut else ""]))
    # Python's warnings (numpy's "divide by zero encountered in log") are printed there too.
    stream.write(f"\nYour code printed, or numpy warned{f' ({count})' if count else ''}:\n")
    for line in lines[:PRINTED_LINES]:
        line = "".join(c if c.isprintable() or c == "\t" else "?" for c in line)
        if len(line) > PRINTED_WIDTH:
            line = line[:PRINTED_WIDTH] + " [...]"
        stream.write(f"   | {line}\n")


def _num(value: float) -> str:
    return f"{value:g}"


MIN_WRAPPED = 30  # columns left after a line's indent below which wrapping would only hurt


def wrap_line(line: str, width: int) -> str:
    """``line`` folded at spaces to ``width`` columns, each continuation under the line's own
    text: below a ``- wrong:`` bullet's words, a hint's or a ``✘`` item's. A hint is one long
    line in the rubric and in grades.json; a terminal would break it at its edge, under column
    0. What the student's code printed (``   | ``) stays as it was, and so does a word longer
    than a line (a path)."""
    if len(line) <= width or line.startswith("   | "):
        return line
    body = line.lstrip(" ")
    indent = line[: len(line) - len(body)]
    if body.startswith(("- ", "✔ ", "✘ ", "· ")):
        hang = indent + "  "
    elif body.startswith("("):  # a note in parentheses
        hang = indent + " "
    else:
        hang = indent
    if width - len(hang) < MIN_WRAPPED:
        return line
    return textwrap.fill(
        body,
        width,
        initial_indent=indent,
        subsequent_indent=hang,
        break_long_words=False,
        break_on_hyphens=False,
    )


def wrap_lines(text: str, width: int) -> str:
    """``wrap_line`` for each line of ``text``."""
    return "\n".join(wrap_line(line, width) for line in text.split("\n"))


class WrappedStream:
    """A terminal's stream for ``autograder check``: each complete line written is wrapped to
    ``width`` (``wrap_line``); ``verbatim`` writes pytest's own report as it is."""

    def __init__(self, stream: IO[str], width: int) -> None:
        self.stream = stream
        self.width = width
        self.pending = ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.stream.write(wrap_line(line, self.width) + "\n")
        return len(text)

    def verbatim(self, text: str) -> None:
        self.flush()
        self.stream.write(text)

    def flush(self) -> None:
        if self.pending:
            self.stream.write(wrap_line(self.pending, self.width))
            self.pending = ""
        self.stream.flush()

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)
