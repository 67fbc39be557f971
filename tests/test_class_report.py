"""``autograder.class_report``: a graded class summed up from its grades.json alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from autograder.class_report import build_report, problem_key, problem_text, render_text
from autograder.scoring import INTERNAL_PROBLEM

ITEMS = {"forward": 4.0, "dW": 4.0, "shapes": 2.0}


def record(status: str = "graded", feedback: str = "", **lost: tuple[float, str]) -> dict:
    """A grades.json record: full marks on every item but those in ``lost`` (score, feedback)."""
    items = {
        item: {
            "score": lost[item][0] if item in lost else points,
            "max_score": points,
            "feedback": lost[item][1] if item in lost else "All 7 checks passed.",
        }
        for item, points in ITEMS.items()
    }
    return {
        "score": sum(i["score"] for i in items.values()),
        "max_score": 10.0,
        "status": status,
        "items": items,
        "feedback": feedback,
    }


def document(**students: dict) -> dict[str, Any]:
    return {"assignment": "linear", "max_score": 10.0, "students": students}


TRANSPOSED = (
    "0 of 7 checks passed.\n- dW has shape (3, 4), expected (4, 3) (for B=1, D=4, F=3).\n"
    "- ... and 4 more like these\n\nHint: dW is exactly the transpose of the right answer. A "
    "gradient always has the shape of the variable it is taken with respect to."
)


def batch_division(b: int) -> str:
    return (
        "1 of 7 checks passed.\n- dW does not match the right answer (for B=2, D=3, F=5): "
        "relative error 3.3e-01 (allowed: 1e-04).\n\n"
        "Hint (for B=2, D=3, F=5): dW is half the right answer, and here the batch size B is 2 "
        "as well: look for an extra division.\n"
        f"Hint (for B={b}, D=2, F=4 and 4 other cases): dW is 1/B of the right answer (B = {b}): "
        "there is an extra division by the batch size."
    )


SYNTAX = "SyntaxError at linear.py line {}: invalid syntax"


# -- what one item's feedback says went wrong ---------------------------------------------------


def test_a_hint_names_the_problem_before_any_failed_check() -> None:
    assert problem_text(TRANSPOSED) == "dW is exactly the transpose of the right answer"


def test_of_several_hints_the_one_seen_on_the_most_cases_names_it() -> None:
    # The B=2 hint is a coincidence of that case (1/2 or 1/B); the other holds on five cases.
    assert problem_text(batch_division(9)) == "dW is 1/B of the right answer (B = 9)"


def test_without_a_hint_the_first_failed_check_names_it_without_its_case() -> None:
    feedback = (
        "0 of 7 checks passed.\n- y does not match the right answer (for B=1, D=4, F=3): "
        "relative error 8.5e-02 (allowed: 1e-04).\n- y does not match ..."
    )
    assert problem_text(feedback) == "y does not match the right answer"


def test_an_error_that_stopped_everything_is_its_own_line() -> None:
    assert problem_text(SYNTAX.format(5)) == "SyntaxError at linear.py line 5"
    timeout = (
        "0 of 7 checks passed.\n- while running linear_backward: linear_backward did not return "
        "within 3 s; the worker was killed"
    )
    assert (
        problem_text(timeout) == "linear_backward did not return within 3 s; the worker was killed"
    )


def test_feedback_that_names_no_problem_gives_none() -> None:
    assert problem_text("All 7 checks passed.") == ""
    assert problem_text("") == ""


def test_problems_differing_only_in_numbers_are_one() -> None:
    assert problem_key(SYNTAX.format(5)) == problem_key(SYNTAX.format(12))
    assert problem_key("dW is 1/B") != problem_key("db is 1/B")


# -- the class ------------------------------------------------------------------------------------


def test_scores_items_and_the_distribution_are_over_the_submissions_found() -> None:
    report = build_report(
        document(
            ann=record(),
            bob=record(dW=(0.0, TRANSPOSED), shapes=(1.0, TRANSPOSED)),
            cat=record(status="error", **{i: (0.0, SYNTAX.format(3)) for i in ITEMS}),
            dan=record(status="missing", **{i: (0.0, "No submission.") for i in ITEMS}),
        )
    )
    assert report.statuses == {"graded": 2, "error": 1, "missing": 1}
    assert report.submitted == 3 and report.missing == ["dan"]
    assert (report.mean, report.median, report.lowest, report.highest) == (5.0, 5.0, 0.0, 10.0)
    assert (report.full, report.zero) == (1, 1)
    histogram = dict(report.histogram)
    assert histogram == {
        **{f"{b} to < {b + 1}": 0 for b in range(10)},
        "0 to < 1": 1,  # cat
        "5 to < 6": 1,  # bob: 4 + 0 + 1
        "10 (full marks)": 1,  # ann
    }
    dW = next(i for i in report.items if i.id == "dW")
    assert (dW.max_score, dW.mean, dW.full, dW.zero) == (4.0, 4 / 3, 1, 2)


def test_each_problem_counts_its_students_once_with_the_items_it_cost() -> None:
    report = build_report(
        document(
            ann=record(dW=(0.0, TRANSPOSED), shapes=(1.0, TRANSPOSED)),
            bob=record(dW=(0.0, TRANSPOSED), shapes=(1.0, TRANSPOSED)),
            cat=record(dW=(1.0, batch_division(9))),
        )
    )
    first, second = report.problems
    assert first.text == "dW is exactly the transpose of the right answer"
    assert first.students == ("ann", "bob") and first.items == ("dW", "shapes")
    assert second.students == ("cat",) and second.items == ("dW",)


def test_a_number_that_varies_within_a_problem_is_shown_as_N() -> None:
    report = build_report(
        document(
            ann=record(**{i: (0.0, SYNTAX.format(3)) for i in ITEMS}, status="error"),
            bob=record(**{i: (0.0, SYNTAX.format(8)) for i in ITEMS}, status="error"),
            cat=record(dW=(1.0, batch_division(9))),
            dan=record(dW=(1.0, batch_division(9))),
        )
    )
    texts = {p.text: p.students for p in report.problems}
    assert texts == {
        "SyntaxError at linear.py line N": ("ann", "bob"),
        "dW is 1/B of the right answer (B = 9)": ("cat", "dan"),  # the same 9: kept
    }
    items = next(p.items for p in report.problems if p.students == ("ann", "bob"))
    assert items == tuple(ITEMS)  # in the rubric's order


def test_students_the_grader_failed_on_are_listed_apart_not_as_a_problem() -> None:
    failed = record(status="error", feedback=INTERNAL_PROBLEM + " ...", dW=(0.0, "x broke"))
    report = build_report(document(ann=failed, bob=record(dW=(0.0, TRANSPOSED))))
    assert report.grader_failed == ["ann"]
    assert [p.students for p in report.problems] == [("bob",)]
    assert "The grader failed on 1 student (ann)" in render_text(report, top=10, source="x")


def test_the_text_report_shows_the_top_problems_and_says_how_many_more() -> None:
    report = build_report(
        document(
            ann=record(dW=(0.0, TRANSPOSED), shapes=(1.0, TRANSPOSED)),
            bob=record(dW=(0.0, TRANSPOSED), shapes=(1.0, TRANSPOSED)),
            cat=record(dW=(1.0, batch_division(9))),
            dan=record(status="missing", **{i: (0.0, "No submission.") for i in ITEMS}),
        )
    )
    text = render_text(report, top=1, source="out/grades.json")
    assert text.startswith("linear (out/grades.json): 4 students, 3 graded, 1 missing\n")
    assert "mean 5.67, median 5, lowest 5, highest 7\nfull marks 0 (0%), zero 0 (0%)\n" in text
    assert "  2  dW is exactly the transpose of the right answer\n" in text
    assert "     cost dW, shapes; e.g. ann, bob\n" in text
    assert "1/B" not in text
    assert "(2 problems in all: --top N shows more, --json all)" in text
    assert "Missing (no submission found): 1 student (dan)." in text
    assert "1/B" in render_text(report, top=2, source="x")


def test_ids_and_texts_cannot_repaint_the_terminal() -> None:
    hostile = "0 of 7 checks passed.\n- in linear_backward: \x1b[2Jgone\x07"
    report = build_report(document(**{"e\x1b[31mve": record(dW=(0.0, hostile))}))
    text = render_text(report, top=10, source="x")
    assert "\x1b" not in text and "\x07" not in text
    assert "e?[31mve" in text


def test_the_json_report_holds_every_problem_as_plain_data() -> None:
    report = build_report(
        document(ann=record(dW=(0.0, TRANSPOSED)), bob=record(dW=(1.0, batch_division(4))))
    )
    data = json.loads(json.dumps(report.as_json()))
    assert data["students"] == 2 and data["score"]["full_marks"] == 0
    # One student each: the order is the text's ("dw is 1/b" before "dw is exactly").
    assert [p["students"] for p in data["problems"]] == [["bob"], ["ann"]]
    assert {p["text"] for p in data["problems"]} == {
        "dW is exactly the transpose of the right answer",
        "dW is 1/B of the right answer (B = 4)",
    }
    assert data["items"]["dW"] == {"max_score": 4.0, "mean": 0.5, "full_marks": 0, "zero": 1}


@pytest.mark.parametrize("students", [{}, {"ann": record(status="missing")}])
def test_a_class_with_nothing_submitted_reports_without_statistics(students: dict) -> None:
    report = build_report(document(**students))
    assert report.mean is None and report.problems == []
    text = render_text(report, top=10, source="x")
    assert "score over" not in text
