from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.errors import OutputError, UsageError
from autograder.nbgrader_export import export_to_gradebook
from autograder.rubric import Rubric


def write_grades(path: Path, scores: dict[str, dict[str, float]], assignment: str = "toy") -> Path:
    students = {
        sid: {"items": {item: {"score": s} for item, s in items.items()}}
        for sid, items in scores.items()
    }
    path.write_text(json.dumps({"assignment": assignment, "students": students}))
    return path


def test_export_creates_then_updates_nbgrader_entries(toy_rubric: Rubric, tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    db = tmp_path / "gradebook.db"
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2, "b": 3, "c": 0}, "bob": {}})
    assert export_to_gradebook(grades, toy_rubric, db) == 2
    write_grades(grades, {"alice": {"a": 4, "b": 3, "c": 1}})
    export_to_gradebook(grades, toy_rubric, db)
    with Gradebook(f"sqlite:///{db}") as gradebook:
        alice = gradebook.find_submission("toy", "alice")
        assert (alice.score, alice.max_score) == (8.0, 8.0)
        assert gradebook.find_grade("a", "toy", "toy", "alice").auto_score == 4.0
        assert {s.id for s in gradebook.students} == {"alice", "bob"}


def test_exported_grades_need_no_manual_grading_unless_a_grader_gave_one(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbgrader.api import Gradebook

    # nbgrader runs its `alembic` from PATH (the export sets that up for itself, not for us)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    db = tmp_path / "gradebook.db"
    grades = write_grades(
        tmp_path / "g.json", {"alice": {"a": 2, "b": 3, "c": 0}, "bob": {"a": 4, "b": 0, "c": 1}}
    )
    export_to_gradebook(grades, toy_rubric, db)
    with Gradebook(f"sqlite:///{db}") as gradebook:
        # What formgrader lists as awaiting manual grading: nothing.
        for student in ("alice", "bob"):
            assert gradebook.find_submission("toy", student).needs_manual_grade is False
            for item in "abc":
                grade = gradebook.find_grade(item, "toy", "toy", student)
                assert grade.needs_manual_grade is False, (student, item)
        assert gradebook.find_notebook("toy", "toy").needs_manual_grade is False
        # A grader overrides one of bob's scores by hand, as in formgrader.
        gradebook.find_grade("a", "toy", "toy", "bob").manual_score = 3.0
        gradebook.db.commit()
    export_to_gradebook(grades, toy_rubric, db)
    with Gradebook(f"sqlite:///{db}") as gradebook:
        # As nbgrader's autograde does: a new automatic score beside a manual one is for review.
        bob_a = gradebook.find_grade("a", "toy", "toy", "bob")
        assert (bob_a.manual_score, bob_a.auto_score, bob_a.needs_manual_grade) == (3.0, 4.0, True)
        assert gradebook.find_grade("b", "toy", "toy", "bob").needs_manual_grade is False
        assert gradebook.find_submission("toy", "alice").needs_manual_grade is False


def test_a_new_gradebook_is_private_an_existing_one_keeps_its_mode(
    toy_rubric: Rubric, tmp_path: Path
) -> None:
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2, "b": 3, "c": 0}})
    old = os.umask(0o022)  # what most accounts have: new files readable by everyone
    try:
        export_to_gradebook(grades, toy_rubric, tmp_path / "new.db")
        assert (tmp_path / "new.db").stat().st_mode & 0o777 == 0o600
        shared = tmp_path / "shared.db"
        export_to_gradebook(grades, toy_rubric, shared)
        (tmp_path / "link.db").symlink_to(tmp_path / "made-here.db")  # dangling
        export_to_gradebook(grades, toy_rubric, tmp_path / "link.db")
        assert (tmp_path / "made-here.db").stat().st_mode & 0o777 == 0o600
        shared.chmod(0o640)  # the course's own gradebook, shared with TAs
        export_to_gradebook(grades, toy_rubric, shared)
        assert shared.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_an_export_interrupted_while_it_makes_the_gradebook_leaves_none(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while nbgrader makes a new gradebook: its tables are made, their version (read
    from ``alembic``, a second later) not. The same export again must work."""
    import nbgrader.api

    def interrupted() -> str:
        raise KeyboardInterrupt

    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2, "b": 3, "c": 0}})
    db = tmp_path / "gradebook.db"
    before = sorted(tmp_path.iterdir())
    with monkeypatch.context() as patch:
        patch.setattr(nbgrader.api, "get_alembic_version", interrupted)
        with pytest.raises(KeyboardInterrupt):
            export_to_gradebook(grades, toy_rubric, db)
    assert sorted(tmp_path.iterdir()) == before  # no gradebook, no temporary
    assert export_to_gradebook(grades, toy_rubric, db) == 1
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    connection.close()


def test_an_export_killed_while_it_makes_the_gradebook_leaves_nothing_after_the_next(
    toy_rubric: Rubric, tmp_path: Path
) -> None:
    """SIGKILL while nbgrader makes a new gradebook leaves its temporary beside ``--db``
    (nothing can clean up after SIGKILL); the next export removes it."""
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2, "b": 3, "c": 0}})
    db = tmp_path / "gradebook.db"
    killed = f"""
import os, signal, sys
from pathlib import Path
import nbgrader.api
from autograder.nbgrader_export import export_to_gradebook
from autograder.rubric import load_rubric
nbgrader.api.get_alembic_version = lambda: os.kill(os.getpid(), signal.SIGKILL)
export_to_gradebook(Path({str(grades)!r}), load_rubric(Path({str(tmp_path / "rubric.yml")!r})),
                    Path({str(db)!r}))
"""
    run = subprocess.run([sys.executable, "-c", killed], capture_output=True, text=True)
    assert run.returncode == -signal.SIGKILL, run.stderr
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".gradebook.db.")]
    assert left, "the kill came too late to leave a temporary: the test tests nothing"
    assert export_to_gradebook(grades, toy_rubric, db) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gradebook.db.")]
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM student").fetchone() == (1,)
    connection.close()


def _exported(db: Path) -> dict[str, dict[str, float | None]]:
    """Every student of the gradebook ``db`` with the auto score of each item they have."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        rows = connection.execute(
            "SELECT student.id, base_cell.name, grade.auto_score FROM student "
            "LEFT JOIN submitted_assignment ON submitted_assignment.student_id = student.id "
            "LEFT JOIN submitted_notebook ON submitted_notebook.assignment_id = "
            "submitted_assignment.id "
            "LEFT JOIN grade ON grade.notebook_id = submitted_notebook.id "
            "LEFT JOIN base_cell ON base_cell.id = grade.cell_id"
        ).fetchall()
    students: dict[str, dict[str, float | None]] = {}
    for student, item, score in rows:
        students.setdefault(student, {})
        if item is not None:
            students[student][item] = score
    return students


def _two_exports(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A gradebook exported once, and the next grades.json to export into it (every score
    changed, a student added): what an export stopped half-way must not leave a mix of."""
    db = tmp_path / "gradebook.db"
    first = write_grades(tmp_path / "first.json", {s: {"a": 1, "b": 0, "c": 0} for s in "pqr"})
    then = write_grades(tmp_path / "then.json", {s: {"a": 4, "b": 3, "c": 1} for s in "pqrs"})
    return db, first, then


def test_an_export_interrupted_half_way_leaves_the_gradebook_as_it_was(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C on the second student: nbgrader commits each entry, so the first student had
    this export's grades and the others the last one's, and a student could be on the roster
    without a submission ("not submitted"). Nothing of a stopped export is kept."""
    from nbgrader.api import Gradebook

    db, first, then = _two_exports(tmp_path)
    export_to_gradebook(first, toy_rubric, db)
    before = _exported(db)
    find_grade = Gradebook.find_grade
    seen: list[str] = []

    def interrupted(self: Gradebook, item: str, notebook: str, assignment: str, student: str):
        seen.append(student)
        if len(set(seen)) > 1:
            raise KeyboardInterrupt
        return find_grade(self, item, notebook, assignment, student)

    with monkeypatch.context() as patch:
        patch.setattr(Gradebook, "find_grade", interrupted)
        with pytest.raises(KeyboardInterrupt):
            export_to_gradebook(then, toy_rubric, db)
    assert seen == ["p", "p", "p", "q"]  # stopped after the first student's three items
    assert _exported(db) == before
    assert export_to_gradebook(then, toy_rubric, db) == 4
    assert _exported(db) == {s: {"a": 4.0, "b": 3.0, "c": 1.0} for s in "pqrs"}


def test_an_export_killed_half_way_leaves_the_gradebook_as_it_was(
    toy_rubric: Rubric, tmp_path: Path
) -> None:
    """SIGKILL on the second student: sqlite rolls the export back when the gradebook is next
    opened (by nbgrader, formgrader or the next export)."""
    db, first, then = _two_exports(tmp_path)
    export_to_gradebook(first, toy_rubric, db)
    before = _exported(db)
    killed = f"""
import os, signal
from pathlib import Path
from nbgrader.api import Gradebook
from autograder.nbgrader_export import export_to_gradebook
from autograder.rubric import load_rubric
find_grade, seen = Gradebook.find_grade, set()
def killed(self, item, notebook, assignment, student):
    seen.add(student)
    if len(seen) > 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return find_grade(self, item, notebook, assignment, student)
Gradebook.find_grade = killed
export_to_gradebook(Path({str(then)!r}), load_rubric(Path({str(tmp_path / "rubric.yml")!r})),
                    Path({str(db)!r}))
"""
    run = subprocess.run([sys.executable, "-c", killed], capture_output=True, text=True)
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert _exported(db) == before
    assert export_to_gradebook(then, toy_rubric, db) == 4
    assert _exported(db) == {s: {"a": 4.0, "b": 3.0, "c": 1.0} for s in "pqrs"}


def test_a_gradebook_another_program_is_writing_is_said_to_be_locked(
    toy_rubric: Rubric, tmp_path: Path
) -> None:
    """Not "not an nbgrader gradebook" (exit 2, as if the file were wrong): exit 4, written
    nothing, export again later. (sqlite waits 5 s for the lock before it gives up.)"""
    db, first, then = _two_exports(tmp_path)
    export_to_gradebook(first, toy_rubric, db)
    before = _exported(db)
    other = sqlite3.connect(db, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # formgrader or nbgrader in the middle of a write
        with pytest.raises(OutputError, match="is locked by another program") as caught:
            export_to_gradebook(then, toy_rubric, db)
        assert caught.value.exit_code == 4
        assert "nothing was written" in str(caught.value)
    finally:
        other.close()
    assert _exported(db) == before


def test_export_refuses_grades_of_another_assignment(toy_rubric: Rubric, tmp_path: Path) -> None:
    grades = write_grades(tmp_path / "g.json", {}, assignment="mlp")
    with pytest.raises(UsageError, match="grades for 'mlp'"):
        export_to_gradebook(grades, toy_rubric, tmp_path / "db")
    with pytest.raises(UsageError, match="does not exist"):
        export_to_gradebook(tmp_path / "none.json", toy_rubric, tmp_path / "db")


def test_a_folder_or_a_wrong_file_is_named_not_a_traceback(
    toy_rubric: Rubric, tmp_path: Path
) -> None:
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2}})
    with pytest.raises(UsageError, match=f"--db {tmp_path} is a folder"):
        export_to_gradebook(grades, toy_rubric, tmp_path)
    with pytest.raises(UsageError, match=f"the folder {tmp_path / 'cours'} does not exist"):
        export_to_gradebook(grades, toy_rubric, tmp_path / "cours" / "gradebook.db")
    assert not (tmp_path / "cours").exists()
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("these are not grades\n" * 100)
    with pytest.raises(UsageError, match=r"notes.txt is not an nbgrader gradebook \(file is not a"):
        export_to_gradebook(grades, toy_rubric, not_a_database)
    assert not_a_database.read_text() == "these are not grades\n" * 100
    with pytest.raises(UsageError, match=f"cannot read {tmp_path}: Is a directory"):
        export_to_gradebook(tmp_path, toy_rubric, tmp_path / "db")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(UsageError, match="not a grades.json written by 'autograder grade'"):
        export_to_gradebook(tmp_path / "list.json", toy_rubric, tmp_path / "db")
    (tmp_path / "items.json").write_text('{"assignment": "toy", "students": {"a": {"items": 3}}}')
    with pytest.raises(UsageError, match="not a grades.json written by 'autograder grade'"):
        export_to_gradebook(tmp_path / "items.json", toy_rubric, tmp_path / "db")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UsageError, match="nested deeper than the JSON parser can read"):
        export_to_gradebook(tmp_path / "deep.json", toy_rubric, tmp_path / "db")


@pytest.mark.parametrize(
    ("items", "needle"),
    [
        ({"a": 1, "zz": 1}, "student 'bob', item 'zz' is not in"),
        ({"a": "2"}, "item 'a': the score must be a number, got '2'"),
        ({"a": None}, "item 'a': the score must be a number, got None"),
        ({"a": True}, "item 'a': the score must be a number, got True"),
        ({"a": 99}, "item 'a': the score 99 is outside 0..4"),
        ({"a": -1}, "item 'a': the score -1 is outside 0..4"),
    ],
)
def test_scores_nbgrader_cannot_take_are_refused_before_anything_is_written(
    toy_rubric: Rubric, tmp_path: Path, items: dict[str, object], needle: str
) -> None:
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2}, "bob": items})  # type: ignore[dict-item]
    db = tmp_path / "gradebook.db"
    with pytest.raises(UsageError) as info:
        export_to_gradebook(grades, toy_rubric, db)
    assert needle in str(info.value)
    assert not db.exists()  # alice was not written either


def test_an_item_without_a_score_is_refused(toy_rubric: Rubric, tmp_path: Path) -> None:
    document = {"assignment": "toy", "students": {"bob": {"items": {"a": {"max_score": 4}}}}}
    (tmp_path / "g.json").write_text(json.dumps(document))
    with pytest.raises(UsageError, match="item 'a': the score must be a number, got None"):
        export_to_gradebook(tmp_path / "g.json", toy_rubric, tmp_path / "db")


def test_a_gradebook_path_a_url_would_cut_is_refused(toy_rubric: Rubric, tmp_path: Path) -> None:
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2}})
    with pytest.raises(UsageError, match="cannot contain"):
        export_to_gradebook(grades, toy_rubric, tmp_path / "grades?v=2.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json", "rubric.yml"]  # nothing new


def test_grades_made_with_other_points_are_refused(toy_rubric: Rubric, tmp_path: Path) -> None:
    document = {
        "assignment": "toy",
        "students": {"al": {"items": {"a": {"score": 4.0, "max_score": 8.0}}}},
    }
    (tmp_path / "g.json").write_text(json.dumps(document))
    with pytest.raises(UsageError, match="is out of 8.0, but .* gives it 4 points"):
        export_to_gradebook(tmp_path / "g.json", toy_rubric, tmp_path / "db")


def test_a_student_without_a_submission_is_on_the_roster_not_given_zero(
    toy_rubric: Rubric, tmp_path: Path
) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    document = {
        "assignment": "toy",
        "students": {
            "al": {"status": "graded", "items": {"a": {"score": 4.0}}},
            "mo": {"status": "missing", "items": {"a": {"score": 0.0}}},
        },
    }
    (tmp_path / "g.json").write_text(json.dumps(document))
    db = tmp_path / "gradebook.db"
    assert export_to_gradebook(tmp_path / "g.json", toy_rubric, db) == 1
    with Gradebook(f"sqlite:///{db}") as gradebook:
        assert {s.id for s in gradebook.students} == {"al", "mo"}
        with pytest.raises(MissingEntry):
            gradebook.find_submission("toy", "mo")


def test_a_student_whose_file_is_gone_loses_the_earlier_exported_score(
    toy_rubric: Rubric, tmp_path: Path
) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    db = tmp_path / "gradebook.db"
    document = {
        "assignment": "toy",
        "students": {"bo": {"status": "graded", "items": {"a": {"score": 3.0}}}},
    }
    (tmp_path / "g.json").write_text(json.dumps(document))
    export_to_gradebook(tmp_path / "g.json", toy_rubric, db)
    document["students"]["bo"] = {"status": "missing", "items": {"a": {"score": 0.0}}}
    (tmp_path / "g.json").write_text(json.dumps(document))
    assert export_to_gradebook(tmp_path / "g.json", toy_rubric, db) == 0
    with Gradebook(f"sqlite:///{db}") as gradebook:
        assert {s.id for s in gradebook.students} == {"bo"}
        with pytest.raises(MissingEntry):  # the gradebook matches grades.json again
            gradebook.find_submission("toy", "bo")


def test_a_missing_student_keeps_the_grades_of_other_notebooks(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    # nbgrader runs its `alembic` from PATH (the export sets that up for itself, not for us)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    db = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gradebook:  # an essay the instructor grades by hand
        gradebook.update_or_create_assignment("toy")
        gradebook.update_or_create_notebook("written", "toy")
        gradebook.update_or_create_grade_cell(
            "essay", "written", "toy", max_score=10, cell_type="markdown"
        )
    document = {
        "assignment": "toy",
        "students": {"bo": {"status": "graded", "items": {"a": {"score": 3.0}}}},
    }
    (tmp_path / "g.json").write_text(json.dumps(document))
    export_to_gradebook(tmp_path / "g.json", toy_rubric, db)
    with Gradebook(f"sqlite:///{db}") as gradebook:
        gradebook.find_grade("essay", "written", "toy", "bo").manual_score = 9.0
        gradebook.db.commit()
    document["students"]["bo"] = {"status": "missing", "items": {"a": {"score": 0.0}}}
    (tmp_path / "g.json").write_text(json.dumps(document))
    export_to_gradebook(tmp_path / "g.json", toy_rubric, db)
    with Gradebook(f"sqlite:///{db}") as gradebook:
        assert gradebook.find_grade("essay", "written", "toy", "bo").manual_score == 9.0
        with pytest.raises(MissingEntry):
            gradebook.find_submission_notebook("toy", "toy", "bo")


def test_another_programs_database_is_refused_untouched(toy_rubric: Rubric, tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "notes.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
        connection.execute("INSERT INTO notes VALUES ('mine')")
    connection.close()
    before = other.read_bytes()
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2}})
    with pytest.raises(
        UsageError, match=r"notes.db is a database of something else \(tables: notes\)"
    ):
        export_to_gradebook(grades, toy_rubric, other)
    assert other.read_bytes() == before


def test_a_notebook_of_our_name_with_other_graded_cells_is_refused_untouched(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    db = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gradebook:  # the course's own nbgrader notebook "toy"
        gradebook.update_or_create_assignment("toy")
        gradebook.update_or_create_notebook("toy", "toy")
        gradebook.update_or_create_grade_cell("a", "toy", "toy", max_score=4, cell_type="code")
        gradebook.update_or_create_grade_cell("q9", "toy", "toy", max_score=5, cell_type="code")
        gradebook.update_or_create_task_cell(
            "essay", "toy", "toy", max_score=3, cell_type="markdown"
        )
    before = db.read_bytes()
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2, "b": 3, "c": 0}})
    with pytest.raises(UsageError) as info:
        export_to_gradebook(grades, toy_rubric, db)
    message = str(info.value)
    assert "the notebook 'toy' of assignment 'toy' already has graded cells" in message
    assert "items of " + str(toy_rubric.path) + ": essay, q9 (8 points" in message
    assert "rubric's 8)" in message
    assert db.read_bytes() == before  # nothing added: no cells, no student, no grade


def test_a_notebook_of_our_name_in_another_assignment_is_not_ours_to_check(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    db = tmp_path / "gradebook.db"
    with Gradebook(f"sqlite:///{db}") as gradebook:
        gradebook.update_or_create_assignment("toy-2023")
        gradebook.update_or_create_notebook("toy", "toy-2023")
        gradebook.update_or_create_grade_cell(
            "q9", "toy", "toy-2023", max_score=5, cell_type="code"
        )
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2, "b": 3, "c": 0}})
    assert export_to_gradebook(grades, toy_rubric, db) == 1
    with Gradebook(f"sqlite:///{db}") as gradebook:
        assert gradebook.find_notebook("toy", "toy").max_score == 8.0


def test_a_submission_the_grader_failed_on_stays_flagged_for_manual_grading(
    toy_rubric: Rubric, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its 0 is no grade (grade grades it again on its next run): exported as a plain automatic
    0 needing no review, nobody would look at it again."""
    from nbgrader.api import Gradebook

    from autograder.nbgrader_export import flagged_students
    from autograder.scoring import INTERNAL_PROBLEM

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    grades = write_grades(
        tmp_path / "g.json",
        {
            "ann": {"a": 0, "b": 0, "c": 0},
            "own": {"a": 0, "b": 0, "c": 0},
            "bob": {"a": 4, "b": 3, "c": 1},
        },
    )
    document = json.loads(grades.read_text())
    document["students"]["ann"] |= {"status": "error", "feedback": INTERNAL_PROBLEM}
    own = "Your toy.py could not be run, so no check could be made. SyntaxError at line 1"
    document["students"]["own"] |= {"status": "error", "feedback": own}  # a real 0
    grades.write_text(json.dumps(document))
    db = tmp_path / "gradebook.db"
    export_to_gradebook(grades, toy_rubric, db)
    assert flagged_students(grades) == ["ann"]
    with Gradebook(f"sqlite:///{db}") as gradebook:
        assert gradebook.find_submission("toy", "ann").needs_manual_grade is True
        assert gradebook.find_submission("toy", "own").needs_manual_grade is False
        assert gradebook.find_submission("toy", "bob").needs_manual_grade is False


def test_what_the_docs_say_works_with_nbgrader_and_what_does_not(
    toy_rubric: Rubric, tmp_path: Path
) -> None:
    import subprocess

    # The module docstring and the README: nbgrader's own grades.csv export reads our grades;
    # generate_feedback has no autograded notebook to make feedback from.
    grades = write_grades(tmp_path / "g.json", {"alice": {"a": 2, "b": 3, "c": 0}})
    export_to_gradebook(grades, toy_rubric, tmp_path / "gradebook.db")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    ran = subprocess.run(
        [*nbgrader, "export"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    csv = (tmp_path / "grades.csv").read_text().splitlines()
    assert csv[0].endswith(",raw_score,late_submission_penalty,score,max_score")
    assert csv[1].startswith("toy,") and ",alice," in csv[1] and csv[1].endswith(",5.0,8.0")
    ran = subprocess.run(
        [*nbgrader, "generate_feedback", "toy"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode != 0
    assert "No notebooks were matched" in ran.stderr
