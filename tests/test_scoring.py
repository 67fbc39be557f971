from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from autograder.rubric import Rubric, RubricItem, load_rubric
from autograder.scoring import (
    ERROR,
    FAILED,
    INTERNAL,
    PASSED,
    STATUS_ERROR,
    TestOutcome,
    item_feedback,
    score,
)


def outcome(item: str, result: str, message: str = "", n: int = 0) -> TestOutcome:
    return TestOutcome(f"t.py::{item}{n}", item, result, message)


def test_proportional_and_all_or_nothing(toy_rubric: Rubric) -> None:
    grade = score(
        toy_rubric,
        "alice",
        [
            outcome("a", PASSED, n=1),
            outcome("a", PASSED, n=2),
            outcome("a", FAILED, "dW has the wrong shape", n=3),
            outcome("b", PASSED, n=1),
            outcome("b", FAILED, "wrong", n=2),
            outcome("c", PASSED),
        ],
    )
    assert grade.item("a").score == 2.67  # 4 * 2/3, rounded to hundredths
    assert grade.item("b").score == 0.0  # all or nothing
    assert grade.item("c").score == 1.0
    assert grade.score == 3.67
    assert grade.max_score == 8.0
    assert "2 of 3 checks passed" in grade.item("a").feedback
    assert "dW has the wrong shape" in grade.item("a").feedback
    assert "all-or-nothing" in grade.item("b").feedback


def test_full_marks_feedback(toy_rubric: Rubric) -> None:
    grade = score(toy_rubric, "bob", [outcome(i, PASSED) for i in "abc"])
    assert grade.score == grade.max_score == 8.0
    assert grade.feedback.startswith("Full marks")
    assert all(item.feedback == "The one check passed." for item in grade.items)


def test_item_without_outcomes_scores_zero(toy_rubric: Rubric) -> None:
    grade = score(toy_rubric, "carol", [outcome("a", PASSED)])
    assert grade.item("b").score == 0.0
    assert grade.item("b").feedback == "No checks ran for this item."


def test_error_status_zeroes_every_item_with_reason(toy_rubric: Rubric) -> None:
    grade = score(
        toy_rubric, "dave", [], status=STATUS_ERROR, load_problem="SyntaxError at toy.py line 3"
    )
    assert grade.score == 0.0
    assert all("SyntaxError at toy.py line 3" in item.feedback for item in grade.items)
    assert "could not be run" in grade.feedback
    later = score(
        toy_rubric, "dan", [], status=STATUS_ERROR, load_problem="the module did not finish"
    )
    assert "no check could be made. The module did not finish" in later.feedback
    named = score(toy_rubric, "fi", [], status=STATUS_ERROR, load_problem="toy.py is a FIFO.")
    assert named.feedback.endswith("could be made. toy.py is a FIFO.")  # a name keeps its case
    internal = score(
        toy_rubric,
        "ida",
        [],
        status=STATUS_ERROR,
        load_problem="The grader failed.",
        load_error="internal",
    )
    assert internal.feedback == "The grader failed."  # not "your toy.py could not be run"
    notebook = score(toy_rubric, "dot", [], status=STATUS_ERROR, filename="toy.ipynb")
    assert notebook.feedback.startswith("Your toy.ipynb could not be run")


def test_repeated_messages_are_shown_once_and_capped(toy_rubric: Rubric) -> None:
    outcomes = [outcome("a", ERROR, "forward is not implemented yet", n=i) for i in range(5)]
    outcomes += [outcome("a", FAILED, f"problem {i}", n=10 + i) for i in range(5)]
    feedback = score(toy_rubric, "eve", outcomes).item("a").feedback
    assert feedback.count("forward is not implemented yet") == 1
    assert "and 3 more like these" in feedback


def test_hints_are_shown_once_after_the_findings(toy_rubric: Rubric) -> None:
    hint = "Hint: dW is the transpose of the right answer."
    outcomes = [
        outcome("a", FAILED, f"dW has shape ({n}, 3), expected (3, {n}).\n{hint}", n=n)
        for n in range(2, 6)
    ]
    feedback = score(toy_rubric, "gus", outcomes).item("a").feedback
    assert feedback.count(hint) == 1
    assert feedback.index("expected (3, 2)") < feedback.index(hint)
    assert "- ... and 1 more like these" in feedback


def test_internal_errors_are_collected_for_the_instructor(toy_rubric: Rubric) -> None:
    grade = score(toy_rubric, "finn", [outcome("a", INTERNAL, "KeyError")])
    assert grade.internal_errors == ("t.py::a0: KeyError",)
    assert grade.item("a").score == 0.0


def test_outcome_json_round_trip() -> None:
    original = TestOutcome("t.py::x", "a", FAILED, "msg", (("rel_error", 0.5),))
    assert TestOutcome.from_json(original.to_json()) == original


def test_a_hint_repeated_with_other_numbers_is_shown_once(toy_rubric: Rubric) -> None:
    outcomes = [
        outcome("a", FAILED, f"dW is wrong (B={b})\nHint: dW is 1/B of the answer (B = {b}).", n=b)
        for b in (2, 9, 3)
    ]
    feedback = score(toy_rubric, "fay", outcomes).item("a").feedback
    assert feedback.count("Hint: dW is 1/B") == 1
    assert "dW is wrong (B=9)" in feedback  # the findings themselves are all listed


def test_hints_about_outputs_whose_names_differ_by_a_number_are_both_shown(
    toy_rubric: Rubric,
) -> None:
    """grads['b1'] and grads['b2'] are two outputs: a number in a name is no size, and
    the hint about b2 was dropped as a repeat of b1's."""
    outcomes = [
        outcome("a", FAILED, f"{key} has shape (1, 7)\nHint: {key} has an extra axis.", n=n)
        for n, key in enumerate(["grads['b1']", "grads['b2']", "grads['b1']"])
    ]
    feedback = score(toy_rubric, "fay", outcomes).item("a").feedback
    assert feedback.count("Hint: grads['b1'] has an extra axis.") == 1, feedback
    assert feedback.count("Hint: grads['b2'] has an extra axis.") == 1, feedback


def test_a_hint_true_of_one_case_names_that_case() -> None:
    """'y is all zeros' came from one case of seven (relu applied in the forward pass), and was
    shown under the other cases' findings as if it were true of all of them."""
    item = RubricItem(id="forward", title="Forward", points=4.0)
    cases = [f"B={b}, D=3, F=2" for b in (1, 2, 9, 5)]
    messages = [f"y does not match the right answer (for {c}): relative error 0.6" for c in cases]
    messages[3] += "\nHint: y is all zeros: is it still a placeholder?"
    outcomes = [outcome("forward", FAILED, m, n=i) for i, m in enumerate(messages)]
    text = item_feedback(item, outcomes)
    assert "- ... and 1 more like these" in text
    assert "Hint (for B=5, D=3, F=2): y is all zeros" in text, text
    # A case with parentheses of its own (linear_nd, mlp), and a hint of several cases.
    nd = [
        f"y does not match the right answer (for x of shape ({b}, 3, 4), F=2): relative error 1"
        for b in (1, 2, 3)
    ]
    nd[1] += "\nHint: y is all zeros"
    nd[2] += "\nHint: y is all zeros"
    text = item_feedback(item, [outcome("forward", FAILED, m, n=i) for i, m in enumerate(nd)])
    assert "Hint (for x of shape (2, 3, 4), F=2 and 1 other case): y is all zeros" in text, text
    # Cases are counted, not checks: dx and dW of one case are one case.
    two = [
        f"{o} has dtype float32, expected float64 (for B=1, D=4, F=3).\nHint: float32"
        for o in ("dx", "dW")
    ]
    two.append("db has shape (1, 3), expected (3,) (for B=9, D=2, F=4).\nHint: keepdims")
    text = item_feedback(item, [outcome("shapes", FAILED, m, n=i) for i, m in enumerate(two)])
    assert "Hint (for B=1, D=4, F=3): float32" in text, text
    # A hint every failure gave is said plainly.
    everywhere = [
        outcome("forward", FAILED, m + "\nHint: same", n=i) for i, m in enumerate(messages[:3])
    ]
    assert item_feedback(item, everywhere).endswith("\n\nHint: same")


def test_a_hint_given_for_one_error_names_where_that_error_was_raised() -> None:
    """An error names no case: a matmul error's hint (a missing .T) was shown plainly after a
    list that began with reshape errors, as if it answered them too."""
    item = RubricItem(id="dW", title="dW", points=4.0)
    reshape = (
        "ValueError at linear_nd.py line 65: in f: cannot reshape array of size {} into shape (4)"
    )
    matmul = (
        "ValueError at linear_nd.py line 67: in f: matmul: Input operand 1 has a mismatch in its "
        "core dimension 0 (size 24 is different from 20)\nHint: the inner sizes of a matrix "
        "product must agree"
    )
    messages = [reshape.format(21), reshape.format(72), matmul]
    text = item_feedback(item, [outcome("dW", ERROR, m, n=i) for i, m in enumerate(messages)])
    assert (
        "\n\nHint (for the ValueError at linear_nd.py line 67): the inner sizes of a matrix "
        "product must agree"
    ) in text, text
    assert "\nHint: the inner sizes" not in text, text
    # In a notebook the place is a cell's line; an error every failure gave is said plainly.
    cell = "ValueError at mlp.ipynb cell 3, line 2: in f: matmul: mismatch\nHint: inner sizes"
    mixed = [cell, "ValueError at mlp.ipynb cell 4, line 1: in f: boom"]
    text = item_feedback(item, [outcome("dW", ERROR, m, n=i) for i, m in enumerate(mixed)])
    assert "Hint (for the ValueError at mlp.ipynb cell 3, line 2): inner sizes" in text, text
    text = item_feedback(item, [outcome("dW", ERROR, cell, n=i) for i in range(3)])
    assert text.endswith("\n\nHint: inner sizes"), text


def test_a_total_hidden_by_a_hidden_item_is_not_promised_for_later(toy_rubric: Rubric) -> None:

    from autograder.scoring import shown_summary

    grade = score(toy_rubric, "ann", [outcome("a", FAILED, "wrong"), outcome("b", PASSED)])
    hidden = replace(grade, items=tuple(replace(i, visibility="hidden") for i in grade.items))
    later = replace(
        grade, items=tuple(replace(i, visibility="after_due_date") for i in grade.items)
    )
    for shown_grade, said in [(hidden, "not shown, so"), (later, "not shown yet, so")]:
        summary = shown_summary(shown_grade, ["a"])
        assert f"Some items are {said} your total score is not shown either." in summary


@pytest.fixture
def handout_rubric(tmp_path: Path) -> Rubric:
    """Item ``a`` names the handout's section that teaches it; item ``b`` names none."""
    path = tmp_path / "rubric.yml"
    path.write_text(
        "assignment: toy\nmodule: toy.py\nitems:\n"
        "  - id: a\n    points: 2\n    handout: 3. The weight gradient\n"
        "  - id: b\n    points: 1\n"
    )
    return load_rubric(path)


def test_a_lost_item_names_the_handout_section_that_teaches_it(handout_rubric: Rubric) -> None:
    rubric = handout_rubric
    outcomes = [
        TestOutcome("t::x", "a", FAILED, "dW is wrong\nHint: transposed"),
        TestOutcome("t::y", "b", FAILED, "db is wrong"),
    ]
    lost = {i.id: i.feedback for i in score(rubric, "zoe", outcomes).items}
    assert lost["a"].endswith(
        '\n\nRead again: the section "3. The weight gradient" of the handout (README.md).'
    )
    assert "Read again" not in lost["b"]  # no section named
    passed = score(rubric, "ann", [TestOutcome("t::x", "a", PASSED)]).items[0]
    assert "Read again" not in passed.feedback


def test_an_item_not_started_says_where_to_start_not_to_read_again(
    handout_rubric: Rubric,
) -> None:
    rubric = handout_rubric
    stub = "linear_backward is not implemented yet (it raises NotImplementedError at line 9)"
    unwritten = TestOutcome("t::x", "a", ERROR, stub, error="not_implemented")
    fresh = score(rubric, "zoe", [unwritten, replace(unwritten, nodeid="t::y")]).items[0]
    assert fresh.feedback.endswith(
        '\n\nStart with: the section "3. The weight gradient" of the handout (README.md).'
    )
    # One check failed on an answer: the student has started, and should read again.
    wrong = TestOutcome("t::y", "a", FAILED, "dW is wrong")
    started = score(rubric, "zoe", [unwritten, wrong]).items[0]
    assert started.feedback.endswith(
        '\n\nRead again: the section "3. The weight gradient" of the handout (README.md).'
    )
