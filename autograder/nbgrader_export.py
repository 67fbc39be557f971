"""Exporting grades into an nbgrader gradebook (``gradebook.db``).

Courses that run nbgrader keep their marks in its gradebook. Each rubric item becomes an
nbgrader *grade cell* of the assignment's notebook (named after the module, e.g. ``linear``)
with the item's points, and each student's item score becomes that cell's ``auto_score``
(needing no manual grading, as ``nbgrader autograde`` records it). Exporting again updates the
same entries (nbgrader's ``update_or_create_*`` API).

Only the gradebook is written, so what nbgrader reads from the gradebook alone works on our
grades: ``nbgrader export`` (grades.csv), ``nbgrader db`` and formgrader's gradebook views
(scores by assignment, notebook and student; nothing listed as needing manual grading).
What needs nbgrader's files does not: there is no autograded notebook
(``autograded/<student>/<assignment>/<notebook>.ipynb``), so formgrader cannot open a
submission ("Submission notebook file not found") and ``nbgrader generate_feedback`` finds
no notebooks to make feedback from (nor has ``release_feedback`` any to release). Item feedback
is not exported: students' feedback is ``grade``'s ``feedback/<student>.md``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autograder.errors import OutputError, UsageError, describe
from autograder.report import read_grades, remove_abandoned_temporaries, temporary_for
from autograder.rubric import Rubric
from autograder.scoring import grader_failed


def flagged_students(grades_json: Path) -> list[str]:
    """The students of ``grades_json`` the export leaves flagged for manual grading."""
    students = read_grades(grades_json)["students"]
    return sorted(student for student, record in students.items() if grader_failed(record))


def export_to_gradebook(grades_json: Path, rubric: Rubric, db: Path) -> int:
    """Write every student in ``grades_json`` into the nbgrader gradebook ``db``."""
    document = read_grades(grades_json)
    if document.get("assignment") != rubric.assignment:
        raise UsageError(
            f"{grades_json} holds grades for '{document.get('assignment')}', "
            f"not '{rubric.assignment}'"
        )
    # nbgrader runs the `alembic` script of its own environment from PATH.
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.api import Gradebook, InvalidEntry
    from sqlalchemy.exc import SQLAlchemyError

    if any(c in str(db) for c in "?#%"):  # nbgrader takes a database URL: these would cut it
        raise UsageError(f"--db {db}: a gradebook path cannot contain '?', '#' or '%'")
    if db.is_dir():
        raise UsageError(f"--db {db} is a folder; name the gradebook file (e.g. {db}/gradebook.db)")
    if not db.parent.is_dir():
        # A typo in the course's path: a gradebook made in a new folder is one nbgrader never
        # reads. The folder is the nbgrader course's, which exists.
        raise UsageError(
            f"--db {db}: the folder {db.parent} does not exist; name the gradebook of the "
            "nbgrader course (gradebook.db in its folder) or a new file in a folder that exists"
        )
    _check_gradebook(db)
    students = document["students"]
    _check_scores(grades_json, rubric, students)  # all of them, before the gradebook is touched
    # Made where a link at --db points, as sqlite would make it there.
    target = db.resolve() if db.is_symlink() else db
    try:
        with _quiet_nbgrader_log():
            if not target.exists() or (target.is_file() and target.stat().st_size == 0):
                _create(Gradebook, target, db)
            _write(Gradebook, db, rubric, students)
    except (SQLAlchemyError, InvalidEntry) as exc:
        # Not a database, a folder that cannot be written, a full disk. nbgrader re-raises
        # the database's error as InvalidEntry when adding a student or a submission.
        cause = _database_error(exc, SQLAlchemyError)
        if isinstance(cause, sqlite3.DatabaseError) and not isinstance(
            cause,
            sqlite3.OperationalError,  # what cannot be written (read-only, full disk)
        ):
            raise UsageError(
                f"--db {db} is not an nbgrader gradebook ({cause}); name the gradebook file "
                "(gradebook.db in the nbgrader course folder) or a new file"
            ) from None
        if _locked(cause):
            raise _in_use(db) from None
        raise OutputError(
            f"cannot write the nbgrader gradebook {db} ({cause}); nothing was written: fix "
            "that and export again"
        ) from None
    return sum(1 for record in students.values() if record.get("status") != "missing")


def _create(gradebook_class: Any, target: Path, db: Path) -> None:
    """Make a new, empty gradebook at ``target`` whole, or not at all: nbgrader makes its
    tables, then (a second later: it runs ``alembic``) records their version, and a gradebook
    interrupted between the two (Ctrl-C) would be refused by every later export as another
    program's database. So it is made beside ``target`` and renamed over it (an empty file
    there too). Grades are private: it is the instructor's alone (mode 0600), like --out's
    files."""
    remove_abandoned_temporaries(target)  # an export killed while making one (SIGKILL)
    tmp = temporary_for(target)
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600))
    except OSError as exc:  # named as the gradebook: the temporary is ours, not the user's
        what = describe(OSError(exc.errno, exc.strerror, str(target)))
        raise OutputError(f"cannot create the nbgrader gradebook {db} ({what})") from None
    try:
        with gradebook_class(f"sqlite:///{tmp.resolve()}"):
            pass
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _locked(error: BaseException) -> bool:
    """Whether sqlite gave up waiting (5 s) for another connection's lock on the gradebook."""
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def _in_use(db: Path) -> OutputError:
    return OutputError(
        f"the nbgrader gradebook {db} is locked by another program writing it (formgrader, "
        "nbgrader, another export?); nothing was written: export again once it is done"
    )


@contextlib.contextmanager
def _one_transaction(session: Any) -> Iterator[None]:
    """nbgrader commits after each entry it adds or changes: an export stopped half-way
    (Ctrl-C, a kill, a full disk) would leave some students with this export's grades and
    others with the last one's, or on the roster without their submission (nbgrader's "not
    submitted"). Here its commits only flush, and the export is committed whole at the end;
    stopped before that, sqlite rolls it back (after a kill, as the gradebook is next
    opened)."""
    session.commit = session.flush
    try:
        yield
    finally:
        del session.commit  # the session's own again
    session.commit()


def _database_error(exc: BaseException, sqlalchemy_error: type[BaseException]) -> BaseException:
    """The database's own error (sqlite3's) behind what SQLAlchemy or nbgrader raised."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, sqlalchemy_error):
        seen = seen.__cause__ or seen.__context__
    return getattr(seen, "orig", None) or exc


@contextlib.contextmanager
def _quiet_nbgrader_log() -> Iterator[None]:
    """nbgrader logs a traceback before it re-raises a database error; the export says what
    went wrong in one line instead."""
    log = logging.getLogger("tornado.application")  # nbgrader.api's app_log
    before = log.disabled
    log.disabled = True
    try:
        yield
    finally:
        log.disabled = before


def _check_gradebook(db: Path) -> None:
    """A ``--db`` that holds another program's database is refused before it is touched
    (nbgrader would add its tables beside the others). A new or empty file is fine."""
    if not db.is_file() or db.stat().st_size == 0:
        return
    try:
        with contextlib.closing(
            sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        ) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as exc:
        if _locked(exc):  # a gradebook all the same: another program is writing it
            raise _in_use(db) from None
        raise UsageError(
            f"--db {db} is not an nbgrader gradebook ({exc}); name the gradebook file "
            "(gradebook.db in the nbgrader course folder) or a new file"
        ) from None
    if tables and not {"assignment", "base_cell", "alembic_version"} <= tables:
        raise UsageError(
            f"--db {db} is a database of something else (tables: "
            f"{', '.join(sorted(tables)[:5])}), not an nbgrader gradebook; name the gradebook "
            "file or a new file"
        )


def _check_scores(grades_json: Path, rubric: Rubric, students: dict[str, Any]) -> None:
    """Every item is one of the rubric's, with a score nbgrader can store."""
    for student, record in students.items():
        for item_id, item in record.get("items", {}).items():
            where = f"{grades_json}: student '{student}', item '{item_id}'"
            if item_id not in rubric.ids:
                raise UsageError(
                    f"{where} is not in {rubric.path} (items: {', '.join(rubric.ids)}); were "
                    "these grades made with another rubric? grade again with this one"
                )
            score = item.get("score") if isinstance(item, dict) else None
            if isinstance(score, bool) or not isinstance(score, int | float):
                raise UsageError(f"{where}: the score must be a number, got {score!r}")
            points = rubric.item(item_id).points
            if "max_score" in item and item["max_score"] != points:
                raise UsageError(
                    f"{where} is out of {item['max_score']}, but {rubric.path} gives it "
                    f"{points:g} points; were these grades made with another rubric? grade "
                    "again with this one"
                )
            if not 0 <= score <= points:
                raise UsageError(f"{where}: the score {score} is outside 0..{points:g}")


def _check_notebook(gradebook: Any, db: Path, rubric: Rubric) -> None:
    """The gradebook's notebook of our name, if there is one, grades nothing but rubric items.

    Our grade cells would join any other graded cell (grade or task cell) of that notebook, and
    its max score would be theirs plus ours. nbgrader never changes the cells of a notebook that
    has submissions (``generate_assignment`` refuses), and one without any is most likely an
    nbgrader notebook of the course's own, not ours to redefine: refused either way, untouched.
    """
    from nbgrader.api import MissingEntry

    try:
        existing = gradebook.find_notebook(rubric.module_stem, rubric.assignment)
    except MissingEntry:
        return
    foreign = [cell for cell in existing.grade_cells if cell.name not in rubric.ids]
    foreign += existing.task_cells  # the export makes none, and they carry points too
    if not foreign:
        return
    names = sorted(cell.name for cell in foreign)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    points = sum(cell.max_score or 0 for cell in foreign)
    raise UsageError(
        f"--db {db}: the notebook '{rubric.module_stem}' of assignment '{rubric.assignment}' "
        f"already has graded cells that are not items of {rubric.path}: {shown} "
        f"({points:g} points, which would be added to the rubric's {rubric.max_score:g}); "
        "export into another gradebook, or, if an earlier export made them with another "
        f"rubric, remove the assignment first (nbgrader db assignment remove {rubric.assignment} "
        "--force, which deletes its grades) and export again"
    )


def _write(gradebook_class: Any, db: Path, rubric: Rubric, students: dict[str, Any]) -> None:
    from nbgrader.api import MissingEntry

    notebook = rubric.module_stem
    with (
        warnings.catch_warnings(),
        gradebook_class(f"sqlite:///{db.resolve()}") as gradebook,
        _one_transaction(gradebook.db),
    ):
        # nbgrader's update path triggers SQLAlchemy autoflush notices that are not ours.
        warnings.simplefilter("ignore")
        _check_notebook(gradebook, db, rubric)
        gradebook.update_or_create_assignment(rubric.assignment)
        gradebook.update_or_create_notebook(notebook, rubric.assignment)
        for item in rubric.items:
            gradebook.update_or_create_grade_cell(
                item.id, notebook, rubric.assignment, max_score=item.points, cell_type="code"
            )
        for student, record in sorted(students.items()):
            gradebook.update_or_create_student(student)
            if record.get("status") == "missing":
                # On the roster, with no submission: nbgrader's "not submitted", not 0; and
                # not the score an earlier export gave a file that is gone now. Only our
                # notebook goes: others of the assignment may hold an instructor's grades.
                with contextlib.suppress(MissingEntry):
                    submission = gradebook.find_submission(rubric.assignment, student)
                    if [n.name for n in submission.notebooks] == [notebook]:
                        gradebook.remove_submission(rubric.assignment, student)
                    else:
                        gradebook.remove_submission_notebook(notebook, rubric.assignment, student)
                continue
            gradebook.update_or_create_submission(rubric.assignment, student)
            failed = grader_failed(record)
            for item_id, item in record.get("items", {}).items():
                grade = gradebook.find_grade(item_id, notebook, rubric.assignment, student)
                grade.auto_score = float(item["score"])
                # As nbgrader's own autograde (SaveAutoGrades): an automatic score needs no
                # manual grading, unless a grader has given one already (then it is flagged
                # for review). The column defaults to True: every submission was "needs
                # manual grade" in formgrader. A submission the grader failed on has no real
                # score: it stays flagged until it is graded again.
                grade.needs_manual_grade = grade.manual_score is not None or failed
