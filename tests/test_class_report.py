"""``autograder.class_report``: a graded class summed up from its grades.json alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autograder.class_report import (
    build_report,
    check_document,
    problem_key,
    problem_of,
    render_text,
)
from autograder.errors import UsageError
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


def everywhere(feedback: str) -> dict[str, tuple[float, str]]:
    """Every item lost with the same feedback (a file that did not run)."""
    return {item: (0.0, feedback) for item in ITEMS}


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


def test_a_hint_names_the_problem_with_the_check_it_was_given_for() -> None:
    assert problem_of(TRANSPOSED) == (
        "dW is exactly the transpose of the right answer",
        "dW has shape (3, 4), expected (4, 3)",
    )


def test_of_several_hints_the_one_seen_on_the_most_cases_names_it() -> None:
    # The B=2 hint is a coincidence of that case (1/2 or 1/B); the other holds on five cases.
    assert problem_of(batch_division(9))[0] == "dW is 1/B of the right answer (B = 9)"


def test_a_case_with_parentheses_inside_is_still_a_case() -> None:
    feedback = (
        "0 of 3 checks passed.\n- dW does not match the right answer (for x of shape (4, 6, 3), "
        "F=5): relative error 5e-01 (allowed: 1e-04).\n\n"
        "Hint (for x of shape (2, 0, 3), F=4): dW is a coincidence.\n"
        "Hint (for x of shape (4, 6, 3), F=5 and 2 other cases): dW is divided by the size of "
        "the first axis: the backward pass sums."
    )
    assert problem_of(feedback) == (
        "dW is divided by the size of the first axis",
        "dW does not match the right answer",
    )


def test_a_hint_given_for_one_error_is_seen_as_that_error() -> None:
    """The matmul hint was reported "seen as" the reshape error listed first."""
    feedback = (
        "0 of 7 checks passed.\n"
        "- ValueError at linear_nd.py line 65: in f: cannot reshape array of size 21 into shape "
        "(4)\n"
        "- ValueError at linear_nd.py line 67: in f: matmul: Input operand 1 has a mismatch\n\n"
        "Hint (for the ValueError at linear_nd.py line 67): the inner sizes of a matrix product "
        "must agree, (n, k) @ (k, m): write down the shape of each factor."
    )
    assert problem_of(feedback) == (
        "the inner sizes of a matrix product must agree, (n, k) @ (k, m)",
        "ValueError at linear_nd.py line 67: in f: matmul: Input operand 1 has a mismatch",
    )


def test_without_a_hint_the_failed_check_or_the_error_is_the_problem() -> None:
    feedback = (
        "0 of 7 checks passed.\n- y does not match the right answer (for B=1, D=4, F=3): "
        "relative error 8.5e-02 (allowed: 1e-04).\n- y does not match ..."
    )
    assert problem_of(feedback) == ("y does not match the right answer", "")
    # An error is all message: which module, which syntax error.
    assert problem_of(SYNTAX.format(5)) == ("SyntaxError at linear.py line 5: invalid syntax", "")
    timeout = (
        "0 of 7 checks passed.\n- while running linear_backward: linear_backward did not return "
        "within 3 s; the worker was killed"
    )
    assert problem_of(timeout)[0] == (
        "linear_backward did not return within 3 s; the worker was killed"
    )


def test_feedback_that_names_no_problem_gives_none() -> None:
    assert problem_of("All 7 checks passed.") == ("", "")
    assert problem_of("") == ("", "")


def test_problems_differing_only_in_numbers_are_one_but_names_with_digits_are_not() -> None:
    assert problem_key(SYNTAX.format(5)) == problem_key(SYNTAX.format(12))
    assert problem_key("grads['W1'] is 1/B") != problem_key("grads['W2'] is 1/B")
    assert problem_key("type T5#5") != problem_key("type T##5")  # a literal # is no number


# -- the class ------------------------------------------------------------------------------------


def test_scores_items_and_the_distribution_are_over_the_submissions_that_count() -> None:
    report = build_report(
        document(
            ann=record(),
            bob=record(dW=(0.0, TRANSPOSED), shapes=(1.0, TRANSPOSED)),
            cat=record(status="error", **everywhere(SYNTAX.format(3))),
            dan=record(status="missing", **everywhere("No submission.")),
            eve=record(status="error", feedback=INTERNAL_PROBLEM, **everywhere("broke")),
        )
    )
    assert report.statuses == {"graded": 2, "error": 1, "missing": 1, "grader_failed": 1}
    assert report.counted == 3 and report.missing == ["dan"] and report.grader_failed == ["eve"]
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
    assert [p.students for p in report.problems] == [("bob",), ("cat",)]  # not eve's


def test_a_score_on_a_bin_boundary_is_in_the_row_that_starts_there() -> None:
    scores = {"ann": 14.7, "bob": 6.3}  # 14.7 / 2.1 is 6.999... in floating point
    students = {s: {**record(), "score": v, "max_score": 21.0} for s, v in scores.items()}
    report = build_report({"assignment": "x", "max_score": 21.0, "students": students})
    histogram = dict(report.histogram)
    assert histogram["14.7 to < 16.8"] == 1 and histogram["6.3 to < 8.4"] == 1


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


def test_one_general_hint_over_different_checks_is_several_problems() -> None:
    # The purity hint is the same for every argument; the check says which one changed.
    hint = "\n\nHint: a function must leave its inputs as it found them; the caller needs them."
    report = build_report(
        document(
            ann=record(forward=(0.0, "- linear_forward modified its argument x" + hint)),
            bob=record(forward=(0.0, "- linear_backward modified its argument dy" + hint)),
        )
    )
    assert sorted(p.check for p in report.problems) == [
        "linear_backward modified its argument dy",
        "linear_forward modified its argument x",
    ]


def test_a_number_that_varies_within_a_problem_is_shown_as_N() -> None:
    report = build_report(
        document(
            ann=record(status="error", **everywhere("SyntaxError at linear.py line 3: x")),
            bob=record(status="error", **everywhere("SyntaxError at linear.py line 8: x")),
            cat=record(dW=(1.0, batch_division(9))),
            dan=record(dW=(1.0, batch_division(9))),
        )
    )
    texts = {p.text: p.students for p in report.problems}
    assert texts == {
        "SyntaxError at linear.py line N: x": ("ann", "bob"),
        "dW is 1/B of the right answer (B = 9)": ("cat", "dan"),  # the same 9: kept
    }
    items = next(p.items for p in report.problems if p.students == ("ann", "bob"))
    assert items == tuple(ITEMS)  # in the rubric's order


def test_a_note_on_the_whole_run_is_a_problem_with_its_error() -> None:
    note = (
        "Score 0/10. Points lost on: forward, dW, shapes. See each item below for what was "
        "checked and what went wrong. A cell of linear.ipynb raised an error, so what it "
        "defines is missing. SyntaxError at linear.ipynb cell 16, line 20: bad."
    )
    missing = "- linear.ipynb does not define a function named linear_forward"
    report = build_report(document(nb=record(feedback=note, **everywhere(missing))))
    assert {(p.text, p.check) for p in report.problems} == {
        ("linear.ipynb does not define a function named linear_forward", ""),
        (
            "A cell of linear.ipynb raised an error, so what it defines is missing",
            "SyntaxError at linear.ipynb cell 16, line 20: bad",
        ),
    }
    # Which points the cell cost cannot be told (a cell may raise and cost nothing): the
    # report says where it was seen, not what it cost.
    (whole,) = [p for p in report.problems if p.whole]
    assert whole.text.startswith("A cell of linear.ipynb") and whole.as_json()["whole_submission"]
    text = render_text(report, top=5, source="grades.json")
    assert "on the whole submission, in ones that lost points on " in text
    assert not any(
        line.strip().startswith("cost") and "whole" in line for line in text.splitlines()
    )
    assert sum(1 for p in report.problems if not p.whole) == 1


def test_the_text_report_shows_the_top_problems_and_says_how_many_more() -> None:
    report = build_report(
        document(
            ann=record(dW=(0.0, TRANSPOSED), shapes=(1.0, TRANSPOSED)),
            bob=record(dW=(0.0, TRANSPOSED), shapes=(1.0, TRANSPOSED)),
            cat=record(dW=(1.0, batch_division(9))),
            dan=record(status="missing", **everywhere("No submission.")),
            eve=record(status="error", feedback=INTERNAL_PROBLEM, **everywhere("broke")),
        )
    )
    text = render_text(report, top=1, source="out/grades.json")
    assert text.startswith(
        "linear (out/grades.json): 5 students, 3 graded, 1 missing, 1 not graded (the grader "
        "failed)\n"
    )
    assert "mean 5.67, median 5, lowest 5, highest 7\nfull marks 0 (0%), zero 0 (0%)\n" in text
    assert "  2  dW is exactly the transpose of the right answer\n" in text
    assert "     seen as: dW has shape (3, 4), expected (4, 3)\n" in text
    assert "     cost dW, shapes; e.g. ann, bob\n" in text
    assert "1/B" not in text
    assert "(2 problems in all: --top N shows more, --json all)" in text
    assert "The grader failed on 1 student (eve): their 0 is no grade" in text
    assert "Missing (no submission found, in no statistic above): 1 student (dan)." in text
    assert "1/B" in render_text(report, top=2, source="x")


def test_ids_and_texts_cannot_repaint_the_terminal() -> None:
    hostile = "0 of 7 checks passed.\n- in linear_backward: \x1b[2Jgone\x07 \u202eevil"
    students = {"e\x1b[31mve": record(dW=(0.0, hostile))}
    students["e\x1b[31mve"]["items"]["x\x1b]0;t\x07"] = {"score": 0.0, "max_score": 1.0}
    report = build_report(
        {"assignment": "lin\x1b]0;title\x07", "max_score": 11.0, "students": students}
    )
    text = render_text(report, top=10, source="x")
    assert all(c.isprintable() or c == "\n" for c in text), repr(text)
    assert "e?[31mve" in text and "lin?]0;title?" in text


def test_the_json_report_holds_every_problem_as_plain_data() -> None:
    report = build_report(
        document(ann=record(dW=(0.0, TRANSPOSED)), bob=record(dW=(1.0, batch_division(4))))
    )
    data = json.loads(json.dumps(report.as_json(), allow_nan=False))
    assert data["students"] == 2 and data["score"]["full_marks"] == 0
    # One student each: the order is the text's ("dw is 1/b" before "dw is exactly").
    assert [p["students"] for p in data["problems"]] == [["bob"], ["ann"]]
    assert data["problems"][1] == {
        "text": "dW is exactly the transpose of the right answer",
        "check": "dW has shape (3, 4), expected (4, 3)",
        "students": ["ann"],
        "items": ["dW"],
        "whole_submission": False,
    }
    assert data["items"]["dW"] == {"max_score": 4.0, "mean": 0.5, "full_marks": 0, "zero": 1}


@pytest.mark.parametrize("students", [{}, {"ann": record(status="missing")}])
def test_a_class_with_nothing_submitted_reports_without_statistics(students: dict) -> None:
    report = build_report(document(**students))
    assert report.mean is None and report.problems == []
    text = render_text(report, top=10, source="x")
    assert "score over" not in text


# -- what grade never writes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: d.update(max_score=0), "max_score is 0, not a positive number"),
        (lambda d: d.update(max_score=float("inf")), "max_score is inf, not a positive number"),
        (lambda d: d.update(max_score="20"), "max_score is not a number ('20')"),
        (lambda d: d["students"]["bob"].update(score=float("nan")), "['bob'].score is nan"),
        (lambda d: d["students"]["bob"].update(score="3"), "['bob'].score is not a number"),
        (lambda d: d["students"]["bob"].update(status=None), "['bob'].status is not text"),
        (lambda d: d["students"]["bob"].update(status="done"), "['bob'].status is 'done'"),
        (lambda d: d["students"]["bob"].update(feedback=["a"]), "['bob'].feedback is not text"),
        (lambda d: d["students"]["bob"]["items"].update(dW="x"), "items['dW'] is not an object"),
        (
            lambda d: d["students"]["bob"]["items"]["dW"].update(score=-1),
            "items['dW'].score is -1, not a finite number, 0 or more",
        ),
    ],
)
def test_a_grades_file_grade_never_writes_is_named_where_it_is_wrong(
    change: Any, said: str
) -> None:
    broken = document(ann=record(), bob=record(dW=(0.0, TRANSPOSED)))
    check_document(broken, Path("g.json"))  # as grade writes it
    change(broken)
    with pytest.raises(UsageError, match="^g.json: ") as excinfo:
        check_document(broken, Path("g.json"))
    assert said in str(excinfo.value)
