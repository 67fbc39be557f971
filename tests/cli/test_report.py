"""``autograder report``: the example class graded, then summed up from its grades.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLES, REPO, run_cli


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    result = run_cli("grade", "linear", EXAMPLES, "--out", out, "--quiet", cwd=REPO)
    assert result.returncode == 0, result.stderr
    return out


def test_the_report_names_each_students_mistake_from_the_real_feedback(graded: Path) -> None:
    result = run_cli("report", graded, cwd=graded)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"linear ({graded / 'grades.json'}): 11 students, 10 graded, ")
    assert "score over 11 submissions (out of 20)" in out
    # Each planted mistake of the example class, in the words of its hint, with who made it.
    for problem, items, student in [
        ("dW is exactly the transpose of the right answer", "dW, shapes", "bob"),
        ("y is missing the bias: it equals x @ W", "forward", "heidi"),
        ("db is the mean over the batch where the gradient is a sum", "db", "frank"),
        ("The numbers are right. db has an extra axis of length 1", "shapes", "grace"),
        ("SyntaxError at linear.py line", "forward, dx, dW, db, shapes, purity", "ivan"),
    ]:
        assert f"  1  {problem}" in out, out
        assert f"     cost {items}; e.g. {student}\n" in out[out.index(problem) :], out
    for item in ("forward", "dx", "dW", "db", "shapes", "purity"):
        assert f"\n{item} " in out
    assert run_cli("report", graded / "grades.json", cwd=graded).stdout == out


def test_the_json_report_is_the_same_report_as_data(graded: Path) -> None:
    result = run_cli("report", graded, "--json", cwd=graded)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    grades = json.loads((graded / "grades.json").read_text())
    assert data["assignment"] == "linear" and data["students"] == len(grades["students"])
    scores = [s["score"] for s in grades["students"].values()]
    assert data["score"]["mean"] == pytest.approx(sum(scores) / len(scores))
    transposed = next(p for p in data["problems"] if "transpose" in p["text"])
    assert transposed == {
        "text": "dW is exactly the transpose of the right answer",
        "check": "dW has shape (3, 4), expected (4, 3)",
        "students": ["bob"],
        "items": ["dW", "shapes"],
        "whole_submission": False,
    }


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "does not exist: run 'autograder grade' first"),
        ('{"students": ', "is not valid JSON"),
        ('{"students": 3}', "is not a grades.json written by 'autograder grade'"),
        ('{"max_score": 0, "students": {}}', "grades.json: max_score is 0, not a positive"),
        # Python's JSON parser raises RecursionError, not a ValueError, past ~1000 levels.
        ("[" * 100_000 + "]" * 100_000, "nested deeper than the JSON parser can read"),
        (
            '{"students": {"a": {"items": {}, "feedback": ' + "[" * 50_000 + "]" * 50_000 + "}}}",
            "nested deeper than the JSON parser can read",
        ),
    ],
)
def test_no_readable_grades_is_said_with_exit_2(
    tmp_path: Path, content: str | None, said: str
) -> None:
    if content is not None:
        (tmp_path / "grades.json").write_text(content)
    result = run_cli("report", tmp_path, cwd=tmp_path)
    assert result.returncode == 2
    assert said in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_top_must_show_something(graded: Path) -> None:
    result = run_cli("report", graded, "--top", "0", cwd=graded)
    assert result.returncode == 2
    assert "--top must be at least 1" in result.stderr
