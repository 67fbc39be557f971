"""``autograder report``: what a graded class got wrong, from its grades.json alone.

The grader's feedback already names each student's mistake ("dW is exactly the transpose of
the right answer"); this module counts those diagnoses over the class, so an instructor sees
which mistakes were common (and which lecture to repeat) without reading a thousand feedback
pages. Everything here is pure: a grades.json document in (checked by ``check_document``), a
``ClassReport`` out, rendered as text or JSON by the caller.

A *problem* is what one item's feedback says went wrong: the first sentence of its hint (of
several, the one seen on the most cases) together with its first failed check, or the failed
check (or the error) alone where there is no hint, each without the case it was seen on ("(for
B=2, D=3, F=5)"). Problems that differ only in their numbers (a batch size, a shape, a line
number) are one problem, so the same mistake seen on other shapes counts once per student.
A note on the whole submission (a notebook cell that raised) is a problem of its own.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.errors import UsageError
from autograder.scoring import STATUS_ERROR, STATUS_GRADED, STATUS_MISSING, grader_failed
from autograder.summary import _table, shown_id

BINS = 10  # score histogram: tenths of the maximum, full marks on a row of their own
EXAMPLES = 3  # student ids shown per problem
SUMMARY_MIN = 25  # a problem's text is cut at the first ". " or ": " from this many characters
SUMMARY_MAX = 160
GRADER_FAILED = "grader_failed"  # the status a report gives an error the grader itself made
STATUSES = (STATUS_GRADED, STATUS_ERROR, STATUS_MISSING)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A number, but not a digit inside a name: grads['W1'] and grads['W2'] stay two problems.
_NUMBER = re.compile(r"(?<![\w'\"])\d+(?:\.\d+)?(?:e[+-]?\d+)?", re.I)
_MARK = "\x00"  # stands for a number in a problem's key (no control character survives)
_OTHER_CASES = re.compile(r" and (\d+) other cases?$")
# "while running f: f did not return ..." says the function twice; the second half is the news.
_CONTEXT = re.compile(r"^while running \w+: ")
_COUNTED = re.compile(r"^\d+ of \d+ checks? passed\.|^The one check|^All \d+ checks")
# "SyntaxError at linear.py line 5: expected ':'": an error is all message, none of it cut.
_ERROR = re.compile(r"^[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b")
# The summary line of a graded submission, after which a note on the whole run may follow.
_NOTE = re.compile(r"(?:what went wrong\.|Every item passed\.) (.+)$", re.S)


@dataclass(frozen=True)
class Problem:
    """One diagnosis and the students whose feedback gave it."""

    text: str  # the hint's first sentence, or the failed check (or error) where none
    check: str  # with a hint: the first failed check it was given for ("" without a hint)
    students: tuple[str, ...]
    items: tuple[str, ...]  # the rubric items it cost points on, in rubric order
    # A note on the whole submission (a notebook cell that raised): ``items`` are those its
    # students lost points on, which it may or may not have cost.
    whole: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "check": self.check,
            "students": list(self.students),
            "items": list(self.items),
            "whole_submission": self.whole,
        }


@dataclass(frozen=True)
class ItemStats:
    """One rubric item over the submissions that were graded or could not run."""

    id: str
    max_score: float
    mean: float
    full: int
    zero: int


@dataclass(frozen=True)
class ClassReport:
    """A graded class in numbers, and its most common problems."""

    assignment: str
    max_score: float
    statuses: dict[str, int]  # graded, error, missing and grader_failed (an error of ours)
    counted: int  # graded or could not run: the statistics are over these
    mean: float | None
    median: float | None
    lowest: float | None
    highest: float | None
    full: int
    zero: int
    histogram: list[tuple[str, int]]
    items: list[ItemStats]
    problems: list[Problem]
    grader_failed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The report as plain data (``--json``), every problem."""
        return {
            "assignment": self.assignment,
            "max_score": self.max_score,
            "students": sum(self.statuses.values()),
            "statuses": self.statuses,
            "counted": self.counted,
            "score": {
                "mean": self.mean,
                "median": self.median,
                "min": self.lowest,
                "max": self.highest,
                "full_marks": self.full,
                "zero": self.zero,
            },
            "histogram": [{"range": label, "students": n} for label, n in self.histogram],
            "items": {
                i.id: {
                    "max_score": i.max_score,
                    "mean": i.mean,
                    "full_marks": i.full,
                    "zero": i.zero,
                }
                for i in self.items
            },
            "problems": [p.as_json() for p in self.problems],
            "grader_failed": self.grader_failed,
            "missing": self.missing,
        }


def check_document(document: Mapping[str, Any], path: Path) -> None:
    """``UsageError`` naming the first thing in a grades.json (as ``report.read_grades`` gives
    it) that ``grade`` never writes: a score that is no finite number, a maximum that is not
    positive, a status or feedback that is no text, an item that is no object."""

    def number(value: Any, where: str, *, positive: bool = False) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"{path}: {where} is not a number ({value!r:.40})")
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            wanted = "a positive number" if positive else "a finite number, 0 or more"
            raise UsageError(f"{path}: {where} is {value!r}, not {wanted}")

    def text(value: Any, where: str) -> None:
        if not isinstance(value, str):
            raise UsageError(f"{path}: {where} is not text ({type(value).__name__})")

    number(document.get("max_score"), "max_score", positive=True)
    for student, record in document["students"].items():
        at = f"students[{student!r}]"
        text(record.get("status"), f"{at}.status")
        if record["status"] not in STATUSES:
            raise UsageError(
                f"{path}: {at}.status is {record['status']!r:.40}, not one of {STATUSES}"
            )
        number(record.get("score"), f"{at}.score")
        text(record.get("feedback", ""), f"{at}.feedback")
        for item_id, item in record.get("items", {}).items():
            where = f"{at}.items[{item_id!r}]"
            if not isinstance(item, dict):
                raise UsageError(f"{path}: {where} is not an object ({type(item).__name__})")
            number(item.get("score"), f"{where}.score")
            number(item.get("max_score"), f"{where}.max_score")
            text(item.get("feedback", ""), f"{where}.feedback")


def build_report(document: Mapping[str, Any]) -> ClassReport:
    """The report of a grades.json ``document`` that ``check_document`` accepted."""
    students: Mapping[str, Any] = document["students"]
    ids = sorted(students)
    max_score = float(document["max_score"])
    statuses: dict[str, int] = {}
    for student in ids:
        status = _status(students[student])
        statuses[status] = statuses.get(status, 0) + 1
    # Missing students and those the grader failed on have no grade: they count in nothing.
    counted = [
        (s, students[s]) for s in ids if _status(students[s]) in (STATUS_GRADED, STATUS_ERROR)
    ]
    scores = [float(r["score"]) for _, r in counted]
    items = _item_stats([r for _, r in counted])
    return ClassReport(
        assignment=str(document.get("assignment", "")),
        max_score=max_score,
        statuses=statuses,
        counted=len(counted),
        mean=statistics.fmean(scores) if scores else None,
        median=statistics.median(scores) if scores else None,
        lowest=min(scores) if scores else None,
        highest=max(scores) if scores else None,
        full=sum(1 for score in scores if score >= max_score),
        zero=sum(1 for score in scores if score <= 0),
        histogram=_histogram(scores, max_score),
        items=items,
        problems=_problems(counted, [i.id for i in items]),
        grader_failed=[s for s in ids if _status(students[s]) == GRADER_FAILED],
        missing=[s for s in ids if _status(students[s]) == STATUS_MISSING],
    )


def render_text(report: ClassReport, *, top: int, source: str) -> str:
    """The report for a terminal: counts, the score distribution, each item, the ``top`` most
    common problems with a few students who had each, and who needs the instructor."""
    n = report.counted
    lines = [f"{shown_id(report.assignment) or 'assignment'} ({source}): {_students(report)}"]
    if n:
        lines.append(
            f"score over {n} submission{'s' if n != 1 else ''} (out of {_short(report.max_score)}):"
            f" mean {report.mean:.2f}, median {_short(report.median or 0.0)}, lowest "
            f"{_short(report.lowest or 0.0)}, highest {_short(report.highest or 0.0)}"
        )
        lines.append(f"full marks {_share(report.full, n)}, zero {_share(report.zero, n)}")
        lines += ["", _bars(report.histogram)]
        rows = [
            [
                shown_id(i.id),
                _short(i.max_score),
                f"{i.mean:.2f}",
                _share(i.full, n),
                _share(i.zero, n),
            ]
            for i in report.items
        ]
        lines.append(_table(["item", "points", "mean", "full marks", "zero"], rows))
    shown = report.problems[: max(top, 0)]
    if shown:
        lines.append(
            "Most common problems (students: the first sentence of their feedback, N where "
            "numbers vary):"
        )
        width = len(str(len(shown[0].students)))
        for problem in shown:
            examples = ", ".join(shown_id(s) for s in problem.students[:EXAMPLES])
            more = ", ..." if len(problem.students) > EXAMPLES else ""
            lines.append(f"  {len(problem.students):>{width}}  {shown_id(problem.text)}")
            if problem.check and problem_key(problem.check) not in problem_key(problem.text):
                lines.append(f"  {'':>{width}}  seen as: {shown_id(problem.check)}")
            cost = ", ".join(shown_id(i) for i in problem.items)
            if problem.whole:  # it may have cost those items, or something else did
                cost = f"on the whole submission, in ones that lost points on {cost}"
            else:
                cost = f"cost {cost}"
            lines.append(f"  {'':>{width}}  {cost}; e.g. {examples}{more}")
        if len(report.problems) > len(shown):
            lines.append(
                f"  ({len(report.problems)} problems in all: --top N shows more, --json all)"
            )
    if report.grader_failed:
        lines.append(
            f"The grader failed on {_listed(report.grader_failed)}: their 0 is no grade (they "
            "count in no statistic above); fix the cause (see grade's messages) and grade again."
        )
    if report.missing:
        lines.append(
            f"Missing (no submission found, in no statistic above): {_listed(report.missing)}."
        )
    return "\n".join(lines).rstrip() + "\n"


def problem_of(feedback: str) -> tuple[str, str]:
    """What an item's feedback says went wrong: ``(hint, first failed check it was given for)``
    summed up, or ``(failed check or error, "")`` without a hint; ``("", "")`` when it names
    nothing."""
    lines = [line.strip() for line in feedback.split("\n") if line.strip()]
    # Of several hints, the one seen on the most cases ("Hint (for B=9, ... and 4 other cases)")
    # names the mistake; one seen on a single case may name a coincidence of that case.
    hints = sorted(filter(None, map(_hint, lines)), key=lambda h: h[1], reverse=True)
    checks = [line[2:] for line in lines if line.startswith("- ") and not line.startswith("- ...")]
    plain = [line for line in lines if not _COUNTED.match(line) and not line.startswith("- ")]
    plain = [line for line in plain if not line.startswith("Hint")]
    failed = _summary((checks or plain or [""])[0])
    if hints:
        text, _, said_of = hints[0]
        # A hint said of one case or error ("Hint (for the ValueError at linear.py line 9)")
        # is seen as a check of that one, not as whichever check is listed first.
        given = [check for check in checks if said_of and _said_of(check, said_of)]
        return _summary(text), _summary(given[0]) if given else failed
    return failed, ""


def _said_of(check: str, case: str) -> bool:
    """Whether a failed check is of ``case``: it names it ("(for B=2, D=3, F=5)"), or, for
    an error, was raised where the case says ("the ValueError at linear.py line 9")."""
    return f"(for {case})" in check or check.startswith(f"{case.removeprefix('the ')}: ")


def problem_key(text: str) -> str:
    """Problems that differ only in their numbers (a batch size, a shape) are one problem."""
    return _NUMBER.sub(_MARK, text.casefold())


def _hint(line: str) -> tuple[str, int, str] | None:
    """A hint line's text, how many cases it was seen on and the first of them: "Hint: ..."
    is one case, of no case named; "Hint (for B=9, D=2, F=4 and 4 other cases): ..." five,
    the first "B=9, D=2, F=4" (the case may hold parentheses)."""
    if line.startswith("Hint: "):
        return line[len("Hint: ") :], 1, ""
    if not line.startswith("Hint (for "):
        return None
    depth = 0
    for end in range(len("Hint "), len(line)):
        depth += {"(": 1, ")": -1}.get(line[end], 0)
        if depth == 0:
            if not line.startswith("): ", end):
                return None
            case = line[len("Hint (for ") : end]
            others = _OTHER_CASES.search(case)
            count = 1 + (int(others.group(1)) if others else 0)
            return line[end + len("): ") :], count, _OTHER_CASES.sub("", case)
    return None


def _status(record: Mapping[str, Any]) -> str:
    return GRADER_FAILED if grader_failed(record) else str(record["status"])


def _problems(
    counted: Iterable[tuple[str, Mapping[str, Any]]], rubric_order: list[str]
) -> list[Problem]:
    """Every problem with the students who had it, most common first."""
    wordings: dict[str, list[tuple[str, str]]] = {}
    who: dict[str, list[str]] = {}
    where: dict[str, list[str]] = {}
    notes: set[str] = set()  # keys of notes on the whole submission
    for student, record in counted:
        seen: set[str] = set()
        lost = [
            (item_id, item)
            for item_id, item in record.get("items", {}).items()
            if item["score"] < item["max_score"]
        ]
        found = [(item_id, problem_of(item.get("feedback", ""))) for item_id, item in lost]
        note = _NOTE.search(record.get("feedback", ""))
        if note and record["status"] == STATUS_GRADED and lost:  # a notebook cell that raised
            text, check = _note_problem(note.group(1))
            notes.add(problem_key(text) + _MARK + problem_key(check))
            found += [(item_id, (text, check)) for item_id, _ in lost]
        for item_id, (text, check) in found:
            if not text:
                continue
            key = problem_key(text) + _MARK + problem_key(check)
            wordings.setdefault(key, []).append((text, check))
            if item_id not in where.setdefault(key, []):
                where[key].append(item_id)
            if key not in seen:
                seen.add(key)
                who.setdefault(key, []).append(student)
    order = {item_id: n for n, item_id in enumerate(rubric_order)}
    problems = [
        Problem(
            _merged([t for t, _ in wordings[k]]),
            _merged([c for _, c in wordings[k]]),
            tuple(who[k]),
            tuple(sorted(where[k], key=lambda i: order.get(i, len(order)))),
            k in notes,
        )
        for k in who
    ]
    return sorted(problems, key=lambda p: (-len(p.students), problem_key(p.text), p.check))


def _note_problem(note: str) -> tuple[str, str]:
    """A note on the whole run ("A cell of linear.ipynb raised an error, ... SyntaxError at
    linear.ipynb cell 16, line 20: ..."): its first sentence, and the error it names."""
    sentences = re.split(r"(?<=\.) (?=[A-Z])", note.strip())
    error = next((s for s in sentences[1:] if _ERROR.match(s)), "")
    return _summary(sentences[0]), _summary(error)


def _merged(texts: list[str]) -> str:
    """One wording for texts that differ only in their numbers: a number they all share is
    kept, one that varies becomes N ("dW is 1/B of the right answer (B = N)")."""
    first = texts[0]
    numbers = [_NUMBER.findall(text) for text in texts]
    if any(len(found) != len(numbers[0]) for found in numbers):
        return first
    shown = iter(
        column[0] if len(set(column)) == 1 else "N" for column in zip(*numbers, strict=True)
    )
    return _NUMBER.sub(lambda _: next(shown), first)


def _item_stats(records: list[Mapping[str, Any]]) -> list[ItemStats]:
    order: list[str] = []
    values: dict[str, list[tuple[float, float]]] = {}
    for record in records:
        for item_id, item in record.get("items", {}).items():
            if item_id not in values:
                order.append(item_id)
                values[item_id] = []
            values[item_id].append((float(item["score"]), float(item["max_score"])))
    stats = []
    for item_id in order:
        pairs = values[item_id]
        stats.append(
            ItemStats(
                id=item_id,
                max_score=max(t for _, t in pairs),
                mean=statistics.fmean(s for s, _ in pairs),
                full=sum(1 for s, t in pairs if s >= t),
                zero=sum(1 for s, _ in pairs if s <= 0),
            )
        )
    return stats


def _histogram(scores: list[float], max_score: float) -> list[tuple[str, int]]:
    """How many scores fall in each tenth of the maximum; full marks on their own row."""
    counts = [0] * BINS
    full = 0
    for score in scores:
        if score >= max_score:
            full += 1
        else:  # 14.7 of 21 is in "14.7 to < 16.8", whatever 14.7 / 2.1 rounds to
            counts[min(BINS - 1, max(0, int(score * BINS / max_score + 1e-9)))] += 1
    width = max_score / BINS
    rows = [(f"{_short(b * width)} to < {_short((b + 1) * width)}", counts[b]) for b in range(BINS)]
    return [*rows, (f"{_short(max_score)} (full marks)", full)]


def _without_cases(text: str) -> str:
    """``text`` without the parenthesised case it was seen on: "(for B=2, D=3, F=5)"."""
    kept: list[str] = []
    depth = 0
    i = 0
    while i < len(text):
        if depth == 0 and text.startswith("(for ", i):
            depth = 1
            i += len("(for ")
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
        else:
            kept.append(text[i])
        i += 1
    if depth:  # unbalanced: not one of ours, keep it as it was
        return text
    return re.sub(r"\s+([.:,;])", r"\1", re.sub(r"\s+", " ", "".join(kept))).strip()


def _summary(text: str) -> str:
    """The first sentence of ``text`` (or its first clause once that is long enough), without
    the case it names; an error's line whole ("SyntaxError at linear.py line 5: ...")."""
    text = _without_cases(_CONTEXT.sub("", _CONTROL.sub(" ", text)))
    if not _ERROR.match(text):
        for match in re.finditer(r"[.:](?:\s|$)", text):
            if match.start() >= SUMMARY_MIN:
                text = text[: match.start()]
                break
    text = text.rstrip(" .:")
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def _students(report: ClassReport) -> str:
    total = sum(report.statuses.values())
    names = {
        STATUS_GRADED: "graded",
        STATUS_ERROR: "could not run",
        STATUS_MISSING: "missing",
        GRADER_FAILED: "not graded (the grader failed)",
    }
    parts = [f"{total} student{'s' if total != 1 else ''}"]
    parts += [f"{report.statuses[s]} {name}" for s, name in names.items() if s in report.statuses]
    return ", ".join(parts)


def _bars(histogram: list[tuple[str, int]]) -> str:
    """The score distribution as rows of #, the longest row 40 wide."""
    width = max(len(label) for label, _ in histogram)
    most = max(count for _, count in histogram) or 1
    rows = [f"{'score':<{width}}  students"]
    for label, count in histogram:
        bar = "#" * round(40 * count / most) if count else ""
        rows.append(f"{label:<{width}}  {bar}{' ' if bar else ''}{count}")
    return "\n".join(rows) + "\n"


def _share(count: int, total: int) -> str:
    return f"{count} ({100 * count / total:.0f}%)" if total else str(count)


def _listed(students: list[str]) -> str:
    names = ", ".join(shown_id(s) for s in students[:10])
    more = f" and {len(students) - 10} more" if len(students) > 10 else ""
    count = f"{len(students)} student{'s' if len(students) != 1 else ''}"
    return f"{count} ({names}{more})"


def _short(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
