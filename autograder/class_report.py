"""``autograder report``: what a graded class got wrong, from its grades.json alone.

The grader's feedback already names each student's mistake ("dW is exactly the transpose of
the right answer"); this module counts those diagnoses over the class, so an instructor sees
which mistakes were common (and which lecture to repeat) without reading a thousand feedback
pages. Everything here is pure: a grades.json document in, a ``ClassReport`` out, rendered as
text or JSON by the caller.

A *problem* is the first sentence of a hint the feedback gave, or, for an item without a hint,
of its first failed check, with the case it was seen on left out ("(for B=2, D=3, F=5)") and
numbers ignored when problems are grouped, so the same mistake seen on other shapes or batch
sizes counts once per student.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from autograder.scoring import STATUS_ERROR, STATUS_GRADED, STATUS_MISSING, grader_failed
from autograder.summary import _table, shown_id

BINS = 10  # score histogram: tenths of the maximum, full marks on a row of their own
EXAMPLES = 3  # student ids shown per problem
SUMMARY_MIN = 25  # a problem's text is cut at the first ". " or ": " from this many characters
SUMMARY_MAX = 160

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?", re.I)
_HINT = re.compile(r"^Hint(?: \([^)]*\))?: ?")
_OTHER_CASES = re.compile(r"^Hint \(for [^)]* and (\d+) other cases?\)")
# "while running f: f did not return ..." says the function twice; the second half is the news.
_CONTEXT = re.compile(r"^while running \w+: ")
_COUNTED = re.compile(r"^\d+ of \d+ checks? passed\.|^The one check|^All \d+ checks")


@dataclass(frozen=True)
class Problem:
    """One diagnosis and the students whose feedback gave it."""

    text: str
    students: tuple[str, ...]
    items: tuple[str, ...]  # the rubric items it cost points on, in rubric order

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "students": list(self.students), "items": list(self.items)}


@dataclass(frozen=True)
class ItemStats:
    """One rubric item over the submissions that were found."""

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
    statuses: dict[str, int]
    submitted: int  # every student but the missing ones: the statistics are over these
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
            "submitted": self.submitted,
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


def build_report(document: Mapping[str, Any]) -> ClassReport:
    """The report of a grades.json ``document`` (as ``report.read_grades`` returns it)."""
    students: Mapping[str, Any] = document["students"]
    ids = sorted(students)
    records = [students[s] for s in ids]
    max_score = _number(document.get("max_score"), default=_largest_total(records))
    statuses: dict[str, int] = {}
    for record in records:
        status = str(record.get("status", STATUS_GRADED))
        statuses[status] = statuses.get(status, 0) + 1
    found = [(s, r) for s, r in zip(ids, records, strict=True) if r.get("status") != STATUS_MISSING]
    scores = [_number(r.get("score")) for _, r in found]
    items = _item_stats([r for _, r in found])
    return ClassReport(
        assignment=str(document.get("assignment", "")),
        max_score=max_score,
        statuses=statuses,
        submitted=len(found),
        mean=statistics.fmean(scores) if scores else None,
        median=statistics.median(scores) if scores else None,
        lowest=min(scores) if scores else None,
        highest=max(scores) if scores else None,
        full=sum(1 for score in scores if max_score and score >= max_score),
        zero=sum(1 for score in scores if score <= 0),
        histogram=_histogram(scores, max_score),
        items=items,
        problems=_problems(found, [i.id for i in items]),
        grader_failed=[s for s, r in found if grader_failed(r)],
        missing=[s for s, r in zip(ids, records, strict=True) if r.get("status") == STATUS_MISSING],
    )


def render_text(report: ClassReport, *, top: int, source: str) -> str:
    """The report for a terminal: counts, the score distribution, each item, the ``top`` most
    common problems with a few students who had each, and who needs the instructor."""
    n = report.submitted
    lines = [f"{report.assignment or 'assignment'} ({source}): {_students(report)}"]
    if n:
        lines.append(
            f"score over {n} submission{'s' if n != 1 else ''} (out of {_short(report.max_score)}):"
            f" mean {report.mean:.2f}, median {_short(report.median or 0.0)}, lowest "
            f"{_short(report.lowest or 0.0)}, highest {_short(report.highest or 0.0)}"
        )
        lines.append(f"full marks {_share(report.full, n)}, zero {_share(report.zero, n)}")
        lines += ["", _bars(report.histogram, n)]
        rows = [
            [i.id, _short(i.max_score), f"{i.mean:.2f}", _share(i.full, n), _share(i.zero, n)]
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
            lines.append(f"  {len(problem.students):>{width}}  {_CONTROL.sub(' ', problem.text)}")
            lines.append(f"  {'':>{width}}  cost {', '.join(problem.items)}; e.g. {examples}{more}")
        if len(report.problems) > len(shown):
            lines.append(
                f"  ({len(report.problems)} problems in all: --top N shows more, --json all)"
            )
    if report.grader_failed:
        lines.append(
            f"The grader failed on {_listed(report.grader_failed)}: their 0 is no grade; fix the "
            "cause (see grade's messages) and grade again."
        )
    if report.missing:
        lines.append(f"Missing (no submission found): {_listed(report.missing)}.")
    return "\n".join(lines).rstrip() + "\n"


def problem_text(feedback: str) -> str:
    """The problem an item's feedback names: its first hint, else its first failed check (or
    the one line an error leaves), as a short phrase. ``""`` when it names none."""
    lines = [line.strip() for line in str(feedback).splitlines() if line.strip()]
    # Of several hints, the one seen on the most cases ("Hint (for B=9, ... and 4 other cases)")
    # names the mistake; one seen on a single case may name a coincidence of that case.
    hints = sorted((line for line in lines if _HINT.match(line)), key=_cases, reverse=True)
    checks = [line[2:] for line in lines if line.startswith("- ") and not line.startswith("- ...")]
    plain = [line for line in lines if not _COUNTED.match(line) and not line.startswith("- ")]
    chosen = _CONTEXT.sub("", _HINT.sub("", (hints or checks or plain or [""])[0]))
    return _summary(_without_cases(_CONTROL.sub(" ", chosen)))


def problem_key(text: str) -> str:
    """Problems that differ only in their numbers (a batch size, a shape) are one problem."""
    return _NUMBER.sub("#", text.casefold())


def _cases(hint: str) -> int:
    """On how many cases a hint line was seen (1 unless it says "and N other cases")."""
    match = _OTHER_CASES.match(hint)
    return 1 + int(match.group(1)) if match else 1


def _problems(
    found: Iterable[tuple[str, Mapping[str, Any]]], rubric_order: list[str]
) -> list[Problem]:
    """Every problem with the students who had it, most common first."""
    texts: dict[str, list[str]] = {}
    who: dict[str, list[str]] = {}
    where: dict[str, list[str]] = {}
    for student, record in found:
        if grader_failed(record):
            continue  # the grader's failure, not the student's mistake: listed on its own
        seen: set[str] = set()
        items = record.get("items", {})
        for item_id, item in items.items() if isinstance(items, dict) else ():
            if not isinstance(item, dict) or _number(item.get("score")) >= _number(
                item.get("max_score"), default=float("inf")
            ):
                continue
            text = problem_text(str(item.get("feedback", "")))
            if not text:
                continue
            key = problem_key(text)
            texts.setdefault(key, []).append(text)
            if item_id not in where.setdefault(key, []):
                where[key].append(item_id)
            if key not in seen:
                seen.add(key)
                who.setdefault(key, []).append(student)
    order = {item_id: n for n, item_id in enumerate(rubric_order)}
    problems = [
        Problem(
            _merged(texts[k]),
            tuple(who[k]),
            tuple(sorted(where[k], key=lambda i: order.get(i, len(order)))),
        )
        for k in who
    ]
    return sorted(problems, key=lambda p: (-len(p.students), problem_key(p.text)))


def _merged(texts: list[str]) -> str:
    """One wording for texts that differ only in their numbers: a number they all share is
    kept, one that varies becomes N ("dW is 1/B of the right answer (B = N)")."""
    first = texts[0]
    columns = zip(*(_NUMBER.findall(text) for text in texts), strict=True)
    shown = iter(column[0] if len(set(column)) == 1 else "N" for column in columns)
    return _NUMBER.sub(lambda _: next(shown), first)


def _item_stats(records: list[Mapping[str, Any]]) -> list[ItemStats]:
    order: list[str] = []
    values: dict[str, list[tuple[float, float]]] = {}
    for record in records:
        items = record.get("items", {})
        for item_id, item in items.items() if isinstance(items, dict) else ():
            if item_id not in values:
                order.append(item_id)
                values[item_id] = []
            if isinstance(item, dict):
                top = _number(item.get("max_score"))
                values[item_id].append((_number(item.get("score")), top))
    stats = []
    for item_id in order:
        pairs = values[item_id]
        top = max((t for _, t in pairs), default=0.0)
        stats.append(
            ItemStats(
                id=item_id,
                max_score=top,
                mean=statistics.fmean(s for s, _ in pairs) if pairs else 0.0,
                full=sum(1 for s, t in pairs if t and s >= t),
                zero=sum(1 for s, _ in pairs if s <= 0),
            )
        )
    return stats


def _histogram(scores: list[float], max_score: float) -> list[tuple[str, int]]:
    """How many scores fall in each tenth of the maximum; full marks on their own row."""
    if not max_score:
        return []
    width = max_score / BINS
    counts = [0] * BINS
    full = 0
    for score in scores:
        if score >= max_score:
            full += 1
        else:
            counts[min(BINS - 1, max(0, int(score // width)))] += 1
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
    """The first sentence of ``text``, or its first clause once that is long enough."""
    for match in re.finditer(r"[.:](?:\s|$)", text):
        if match.start() >= SUMMARY_MIN:
            text = text[: match.start()]
            break
    text = text.rstrip(" .:")
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


def _number(value: Any, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)


def _largest_total(records: list[Mapping[str, Any]]) -> float:
    return max((_number(r.get("max_score")) for r in records), default=0.0)


def _students(report: ClassReport) -> str:
    total = sum(report.statuses.values())
    parts = [f"{total} student{'s' if total != 1 else ''}"]
    names = {STATUS_GRADED: "graded", STATUS_ERROR: "could not run", STATUS_MISSING: "missing"}
    for status, count in sorted(
        report.statuses.items(),
        key=lambda s: list(names).index(s[0]) if s[0] in names else len(names),
    ):
        parts.append(f"{count} {names.get(status, status)}")
    return ", ".join(parts)


def _bars(histogram: list[tuple[str, int]], total: int) -> str:
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
