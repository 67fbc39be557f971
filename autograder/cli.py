"""The ``autograder`` command: a thin layer over the library.

Exit codes: 0 success; 1 the check found problems (failing public tests, failed verification,
grader-internal failures); 2 bad input (course.yml, rubric, test binding, command line);
3 the sandbox could not be set up; 4 the results could not be written (a full disk, no
permission); 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP), 141
the reader of the output went away (``| head``).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import shutil
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, cast

from autograder.course import Assignment, Course, find_course, load_course
from autograder.cpus import usable_cpus
from autograder.errors import AutograderError, OutputError, describe
from autograder.limits import LIMIT_HELP, LIMIT_MAX, LIMIT_MIN, GradingLimits

DESCRIPTION = """\
Auto-graded exercises for teaching backpropagation.

  student:     autograder check                    (inside assignments/<name>/)
  instructor:  autograder release <name>           (solutions/<name> -> assignments/<name>)
               autograder sort-canvas <name> DIR   (a Canvas download -> a folder per student)
               autograder grade <name> SUBMISSIONS --out DIR
               autograder export nbgrader|gradescope <name> ...
               autograder report DIR               (what the class got wrong)
  CI:          autograder verify

Run 'autograder <command> --help' for details and examples.
"""

EXIT_STATUS = """\
exit status: 0 success; 1 the command found problems (failing checks, failed verification,
the grader failed on a submission); 2 bad command line, course.yml, rubric or tests; 3 no
sandbox; 4 cannot write the output (disk full, permissions); 130 interrupted (Ctrl-C), 143
terminated (SIGTERM), 129 hung up (SIGHUP), 141 the reader of the output went away (`| head`).
"""


MAX_LISTED_FAILURES = 10
MAX_LISTED_WARNINGS = 20  # of single submissions (an empty file, a copy not graded)
# Every command stops the same way on these (``main``).
STOPPED = (
    "130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP), 141 the reader\n"
    "of the output went away (`| head`)"
)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    pass


def _add_course(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--course",
        type=_path,
        default=None,
        metavar="PATH",
        help="course.yml to use, or the folder holding it (default: the nearest course.yml "
        "at or above this folder)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder", description=DESCRIPTION, epilog=EXIT_STATUS, formatter_class=_Formatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    release = sub.add_parser(
        "release",
        help="generate the student folder assignments/<name>/ from solutions/<name>/",
        formatter_class=_Formatter,
        description="""\
Generate assignments/<name>/ from solutions/<name>/: the module with every
'### BEGIN SOLUTION' ... '### END SOLUTION' region replaced by a stub that raises
NotImplementedError, plus README.md, rubric.yml, the public tests and a notebook
edition (<module>.ipynb: the README as Markdown cells, the stub as code cells with
nbgrader metadata). Hidden tests,
mutants and solution code never leave solutions/. The output depends only on the
sources, so releasing twice gives identical files (commit them).""",
        epilog="examples:\n  autograder release linear\n  autograder release          # all\n"
        "exit status: 0 released; 2 bad course.yml, rubric, reference, markers or public\n"
        "tests (checked, and collected without running); 4 cannot write assignments/<name>/\n"
        f"(the previous release is kept);\n{STOPPED}",
    )
    release.add_argument("assignments", nargs="*", metavar="NAME", help="assignments to release")
    _add_course(release)

    check = sub.add_parser(
        "check",
        help="run the public tests on your own code and show a rubric-shaped summary",
        formatter_class=_Formatter,
        description="""\
Run the public tests of an assignment against your own module, isolated in a
worker process exactly as the grader does, and print what passed per rubric item.
Run it inside the assignment folder (the one with rubric.yml). With both linear.py
and linear.ipynb there, it checks the one you filled in (fewer stubs left, then the
one changed last) and says which; name a file to choose. The hidden tests used for
grading check more than these; passing here is necessary, not sufficient.

Your own test_*.py files in the folder run too, listed as "Other tests (no rubric
item, not graded)". Your code runs under the limits at the end of rubric.yml
('limits:', written by the release from the course's), or under the default
limits if rubric.yml has none (it says so).""",
        epilog="examples:\n  cd assignments/linear && autograder check\n"
        "  autograder check assignments/linear/linear.ipynb\n"
        "exit status: 0 every public check passed; 1 some check failed (listed); 2 no rubric.yml\n"
        f"or module here, or the module cannot be read; 3 no sandbox;\n{STOPPED}",
    )
    check.add_argument(
        "folder",
        nargs="?",
        type=_findable,
        default=Path("."),
        metavar="PATH",
        help="assignment folder, or your file in it (default: .)",
    )
    check.add_argument("-v", "--verbose", action="store_true", help="also show pytest's output")

    grade = sub.add_parser(
        "grade",
        help="grade a class of submissions; write grades.json, grades.csv, feedback/",
        formatter_class=_Formatter,
        description="""\
Grade every submission with the hidden tests, each in its own isolated worker.

SUBMISSIONS is a folder with one subfolder per student (the folder name is the
student id) holding the module (e.g. linear.py) or a notebook (linear.ipynb);
nbgrader's submitted/<student>/<assignment>/ layout and a .zip of either also work.
A Canvas download (every student's file in one folder) is sorted into that first
by 'autograder sort-canvas'. A class given one folder too high is refused, saying
what to grade instead; students graded as missing who handed in a misnamed file
or a zip are listed on stderr.

Writes into --out: grades.json, grades.csv (a column per rubric item),
feedback/<student>.md and gradescope/<student>/results.json. Results are
journaled as they finish: if a run is interrupted, the same command grades only
what is missing, and any submission whose file changed or that the grader failed
on. It grades everyone again (as --fresh does) after any change to the rubric,
the reference, a file under solutions/<name>/tests/ or any other file directly in
solutions/<name>/ but README.md, the limits, the secret or the grader's own code.
One run at a time writes into DIR (a second one is refused).
A broken, hostile or endless submission is graded 0 on what it breaks and never
affects another. 'autograder report DIR' then sums up what the class got wrong.

The hidden inputs are seeded by the course secret: $AUTOGRADER_SECRET, or else
the file .autograder/secret (both names can be changed under 'secret:' in
course.yml), which is created with a random value, with a note, when neither is
there. Keep it: a new secret changes every hidden input.

Limits come from course.yml ('limits:'; per assignment under 'assignments:'):
"""
        + "\n".join(
            f"  {k:<15} {v}\n  {'':<15} (default {getattr(GradingLimits(), k):g}, "
            f"at least {LIMIT_MIN[k]:g}, at most {LIMIT_MAX[k]})"
            for k, v in LIMIT_HELP.items()
        ),
        epilog="""\
examples:
  autograder grade linear examples/submissions/linear --out out/linear
  autograder grade linear class.zip --out out/linear --jobs 2
exit status: 0 every submission has a grade; 1 the grader failed on some submission;
2 bad command line (SUBMISSIONS not found, --out a file, inside solutions/ or assignments/,
busy with another run, holding another assignment's grades or those of students not in
SUBMISSIONS (see --prune), --jobs below 1, --max-jobs below --jobs or below 1), course.yml,
rubric or tests; 3 no sandbox; 4 cannot write DIR (disk full, permissions); 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP; not under nohup), 141 the reader of
the output went away (`| head`; the grades are written). After 4, 129, 130 or 143, rerun to
resume.""",
    )
    grade.add_argument(
        "assignment", metavar="ASSIGNMENT", help="the assignment's name in course.yml (e.g. linear)"
    )
    grade.add_argument(
        "submissions",
        type=_path,
        metavar="SUBMISSIONS",
        help="the class: a folder with a folder per student, or a .zip of one",
    )
    grade.add_argument(
        "--out",
        type=_path,
        required=True,
        metavar="DIR",
        help="output folder (created; not the SUBMISSIONS folder itself)",
    )
    grade.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="grading processes in parallel (default: the CPUs this process may use, "
        f"{usable_cpus().usable}, by its affinity and any cgroup CPU quota)",
    )
    grade.add_argument(
        "--max-jobs",
        type=int,
        default=None,
        metavar="M",
        help="while submissions wait (sleeps, timeouts) and cores idle, start more processes, "
        "up to M (default: 3 x N, as memory allows; N under a cgroup CPU quota); --max-jobs N "
        "never adds any; without "
        "--jobs, N is at most M",
    )
    grade.add_argument(
        "--fresh", action="store_true", help="ignore earlier results in --out and grade everything"
    )
    grade.add_argument(
        "--prune",
        action="store_true",
        help="drop the grades and feedback in --out of students who are not in this class "
        "(one who withdrew); without it, grade refuses (exit 2) rather than lose them",
    )
    grade.add_argument(
        "--isolation",
        choices=["auto", "root", "userns", "none"],
        default="auto",
        help="sandbox mode (default: auto, the strongest this machine allows)",
    )
    grade.add_argument("--quiet", "-q", action="store_true", help="no progress and no table")
    _add_course(grade)
    sort_canvas = sub.add_parser(
        "sort-canvas",
        help="sort a Canvas download (every student's file in one folder) into a folder each",
        formatter_class=_Formatter,
        description="""\
Sort the files of a Canvas "Download Submissions" (unzipped), all in one folder and
named <name>[_LATE]_<user id>_<submission id>_<file>, into a folder per student,
in place, for 'autograder grade': each student's newest file (the highest
submission id) of the module (any case, with Canvas's -N or a browser's ' (N)')
becomes <name>_<user id>/<module> (or the notebook); the user id keeps two students
of the same name apart. Their older files go to DIR/.older-submissions/, which
grade does not look into. Every other .py and .ipynb stays where it is and is
listed with the reason (another LMS's names, another file name, a student folder
already sorted). Other LMSs' downloads (Blackboard, Moodle) are not sorted.""",
        epilog="examples:\n  unzip submissions.zip -d canvas/\n"
        "  autograder sort-canvas linear canvas --dry-run\n"
        "  autograder sort-canvas linear canvas && autograder grade linear canvas --out out\n"
        "exit status: 0 sorted (any file left is listed); 2 DIR is not a folder, or bad\n"
        f"course.yml or command line; 4 a file cannot be moved;\n{STOPPED}",
    )
    sort_canvas.add_argument(
        "assignment", metavar="ASSIGNMENT", help="the assignment's name in course.yml (e.g. linear)"
    )
    sort_canvas.add_argument(
        "folder", type=_path, metavar="DIR", help="the unzipped Canvas download"
    )
    sort_canvas.add_argument(
        "--dry-run", action="store_true", help="say what would be moved; move nothing"
    )
    _add_course(sort_canvas)
    verify = sub.add_parser(
        "verify",
        help="prove the course is sound (CI): reference, stub, mutants, release, leaks",
        formatter_class=_Formatter,
        description="""\
Check, for every assignment in course.yml (or those named), with the same sandbox
and limits students get:
  config     course.yml, rubric.yml, the markers and the test-to-item binding of
             the hidden and the public tests are valid
  reference  the reference solution earns full marks, for several secrets
  stub       the released stub earns zero, each item saying "not implemented"
  mutants    each mutant in solutions/<a>/mutants/ (header '# loses: dW, db') loses
             exactly the items it declares; automatic mutants of the reference
             (operators transpose, drop_transpose, divide_by_batch, sum_to_mean,
             flip_axis, keepdims, negate, drop_term, float32) all lose points, but
             those a line of the reference excludes ('# equivalent: negate'); every
             item is caught by some mutant
  public     the reference passes every public check ('autograder check' on a copy
             of assignments/<a>/ with the reference in place of the stub), and the
             released stub passes none
  release    assignments/<a>/ is exactly what 'autograder release' generates
  leaks      no solution line, hidden test line, mutant line or the course secret
             appears under assignments/

It grades with three fixed secrets of its own (verify-seed-1 to verify-seed-3),
not the course's, which it never creates (it reads it only to look for it under
assignments/). It writes nothing into the course: it grades in a temporary folder.""",
        epilog="examples:\n  autograder verify\n  autograder verify linear\n"
        "exit status: 0 every check holds; 1 some check failed (listed); 2 bad configuration\n"
        "(course.yml, rubric, reference, hidden or public tests, mutant headers) or command\n"
        f"line; 3 no sandbox;\n{STOPPED}",
    )
    export = sub.add_parser(
        "export",
        help="export grades to nbgrader, or the course as a Gradescope autograder zip",
        formatter_class=_Formatter,
        description="""\
Export the grades of a finished 'autograder grade' run to nbgrader, or the course
itself as a Gradescope autograder.

  nbgrader    write them into an nbgrader gradebook (sqlite). Each rubric item becomes a
              grade cell of the assignment's notebook with the item's points; each
              student's item score becomes that cell's auto score. Rerunning updates them.
  gradescope  write a Gradescope autograder zip (setup.sh + run_autograder) that runs this
              grader, with the same hidden tests, rubric and secret, once per submission.

'grade' already writes Gradescope's results.json per student (DIR/gradescope/<id>/).""",
        epilog="examples:\n  autograder export nbgrader linear --grades out/linear "
        "--db gradebook.db\n  autograder export gradescope linear --out linear-gradescope.zip\n"
        "exit status: 0 exported; 2 bad course files, grades.json or --db/--out (not a\n"
        "gradebook, a folder, a zip inside the course's assignments/ or solutions/); 4 cannot\n"
        f"write (disk full, permissions, a gradebook another program is writing);\n{STOPPED}",
    )
    export.add_argument("format", choices=["nbgrader", "gradescope"], help="what to export")
    export.add_argument(
        "assignment", metavar="ASSIGNMENT", help="the assignment's name in course.yml (e.g. linear)"
    )
    export.add_argument(
        "--grades",
        type=_path,
        metavar="DIR",
        help="nbgrader: the --out folder of 'autograder grade', or its grades.json (required)",
    )
    export.add_argument(
        "--db",
        type=_path,
        default=None,
        metavar="FILE",
        help="nbgrader: gradebook database (default: ./gradebook.db)",
    )
    export.add_argument(
        "--out",
        type=_path,
        metavar="FILE",
        help="gradescope: the zip to write (default: ./ASSIGNMENT-gradescope.zip)",
    )
    _add_course(export)

    report = sub.add_parser(
        "report",
        help="summarise a graded class: scores, each item, the most common mistakes",
        formatter_class=_Formatter,
        description="""\
Summarise the grades 'autograder grade --out DIR' wrote (DIR/grades.json): how
many students were graded, could not run or are missing; the score distribution;
each rubric item's mean and how many earned all or none of it; and the problems
the feedback named most often, each with how many students had it, the items it
cost and a few of those students (their feedback is DIR/feedback/<id>.md). A
problem is the first sentence of a hint the feedback gave ("dW is exactly the
transpose of the right answer") with the first failed check it came with, or
else that check (or the error) alone; the same mistake seen on other shapes
counts once per student. Missing students, and those
the grader itself failed on, are listed apart and count in no statistic (so the
mean is over the others, unlike grade's). Reads grades.json only: no course.yml,
nothing is run.""",
        epilog="examples:\n  autograder report out/linear\n"
        "  autograder report out/linear/grades.json --top 20\n"
        "  autograder report out/linear --json > linear-report.json\n"
        "exit status: 0 reported; 2 no grades.json there, or one that is not JSON or is\n"
        "malformed, said where: a max_score that is no positive number, a score (or an item's\n"
        "max_score) that is no finite number >= 0, a status not graded, error or missing,\n"
        "feedback that is no text (whether the numbers add up is not checked);\n"
        f"{STOPPED}",
    )
    report.add_argument(
        "grades",
        type=_path,
        metavar="DIR",
        help="the --out folder of 'autograder grade', or its grades.json",
    )
    report.add_argument(
        "--top",
        type=int,
        default=10,
        metavar="N",
        help="how many of the most common problems to show (default: 10)",
    )
    report.add_argument(
        "--json", action="store_true", help="print the whole report as JSON (every problem)"
    )

    verify.add_argument("assignments", nargs="*", metavar="NAME", help="assignments to verify")
    verify.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="grading processes in parallel (default: the CPUs this process may use)",
    )
    _add_course(verify)
    for command in sub.choices.values():  # an unknown option is said with its own usage
        command.set_defaults(command_parser=command)
    return parser


def _path(text: str) -> Path:
    """A path argument; an empty one (``--out ''``, an unset shell variable) is refused rather
    than read as the current folder."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path (is a shell variable unset?)")
    return _findable(text)


def _findable(text: str) -> Path:
    """A path the system can look up: one with a name too long for a file name (over 255
    bytes) or that runs into a loop of symbolic links is refused as it is read, not met as a
    traceback wherever it is first used."""
    try:
        os.stat(text)
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.ELOOP):
            raise argparse.ArgumentTypeError(f"{text}: {exc.strerror}") from None
    return Path(text)


def _course(path: Path | None) -> Course:
    if path is not None and path.is_dir():  # --course of the course's folder
        if not (path / "course.yml").is_file():
            raise_usage(f"--course {path} is a folder without a course.yml; name the course.yml")
        path = path / "course.yml"
    return load_course(path if path is not None else find_course())


def cmd_release(args: argparse.Namespace) -> int:
    from autograder.release import prepare_release, release

    course = _course(args.course)
    names = args.assignments or list(course.assignments)
    # Every release checked before any is written: a broken one stops them all, not the
    # ones after it only.
    prepared = [(course.assignment(name), name) for name in names]
    warned: dict[str, list[str]] = {name: [] for name in names}
    ready = [
        (assignment, name, prepare_release(assignment, warned[name]))
        for assignment, name in prepared
    ]
    # Every release written before anything is said: output that cannot be shown (`| head`,
    # a closed terminal) would stop the command after the first one otherwise.
    done: list[tuple[Assignment, str, list[str], list[str]]] = []
    try:
        for assignment, name, content in ready:
            done.append((assignment, name, *release(assignment, content)))
    except BaseException:  # what was released is said, but the error is what ends the command
        with contextlib.suppress(OSError):
            _say_released(done, warned, course.root)
        raise
    _say_released(done, warned, course.root)
    return 0


def _say_released(
    done: Sequence[tuple[Assignment, str, list[str], list[str]]],
    warned: dict[str, list[str]],
    root: Path,
) -> None:
    for assignment, name, files, removed in done:
        rel = assignment.release_dir.relative_to(root)
        print(f"released {name} -> {rel}/ ({', '.join(files)})")
        for warning in warned[name]:
            print(f"  warning: {warning}")
        if removed:
            print(
                f"  removed {len(removed)} file(s) that are not part of the release: "
                f"{', '.join(removed[:10])}{', ...' if len(removed) > 10 else ''} (put what "
                f"students need in solutions/{name}/public/)"
            )


def cmd_check(args: argparse.Namespace) -> int:
    from autograder.check import run_check
    from autograder.summary import WrappedStream

    if not sys.stdout.isatty():  # a log, a pipe or an editor's pane wraps lines on its own
        return run_check(args.folder, verbose=args.verbose, stream=sys.stdout)
    wrapped = WrappedStream(sys.stdout, shutil.get_terminal_size().columns)
    try:  # write, writelines and flush are all it is given
        return run_check(args.folder, verbose=args.verbose, stream=cast(IO[str], wrapped))
    finally:  # a last line without its newline (or one cut by Ctrl-C) is shown all the same
        wrapped.flush()


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.grading import grade, grouped_failures
    from autograder.summary import print_grade_summary, shown_id

    if args.jobs is not None and args.jobs < 1:
        raise_usage("--jobs must be at least 1")
    if args.max_jobs is not None and args.max_jobs < (args.jobs or 1):
        raise_usage(
            "--max-jobs must be at least --jobs" if args.jobs else "--max-jobs must be >= 1"
        )
    course = _course(args.course)
    course.assignment(args.assignment)  # a typo'd name: exit 2 before anything is written
    if not args.submissions.exists():
        # Said before the secret or --out is created for a run that cannot start.
        raise_usage(f"submissions folder {args.submissions.absolute()} does not exist")
    result = grade(
        course,
        args.assignment,
        args.submissions,
        args.out,
        jobs=args.jobs,
        max_jobs=args.max_jobs,
        isolation=args.isolation,
        progress_stream=None if args.quiet else sys.stderr,
        fresh=args.fresh,
        prune=args.prune,
    )
    rubric = course.assignment(args.assignment).rubric()  # read once more: it was valid
    if not args.quiet:
        print_grade_summary(result, rubric, args.out, sys.stdout)
    if result.isolation_warning:
        print(f"warning: {result.isolation_warning}", file=sys.stderr)
    _print_submission_warnings(result.submission_warnings)
    _print_look_alike_ids([g.student for g in result.grades])
    like_assignments = sorted({g.student for g in result.grades} & set(course.assignments))
    if like_assignments:
        print(
            f"warning: students named like assignments ({', '.join(like_assignments)}): is "
            f"{args.submissions} one folder above the class?",
            file=sys.stderr,
        )
    missing = sum(1 for g in result.grades if g.status == "missing")
    if result.grades and missing == len(result.grades):
        print(
            f"warning: none of the {len(result.grades)} submissions has {rubric.module}: is "
            f"{args.submissions} the class of another assignment?",
            file=sys.stderr,
        )
    elif not like_assignments and len(result.grades) >= 4:
        # Most folders hold things, but no submission: a folder of other things (grading
        # /tmp, a home folder) rather than a class. An empty folder (a roster's student who
        # has not handed in) or one with another assignment's folder (nbgrader) is a student;
        # so is one with a misnamed file or a zip (listed below).
        handed_in = {student for student, _ in [*result.notes.misnamed, *result.notes.zipped]}
        strangers = _folders_of_other_things(
            args.submissions, result.grades, set(course.assignments), handed_in
        )
        if strangers * 2 > len(result.grades):
            print(
                f"warning: {strangers} of the {len(result.grades)} folders in {args.submissions} "
                f"hold files but no {rubric.module}, nor a file named like it or a zip: is it "
                "a class (one folder per student) or a folder of other things?",
                file=sys.stderr,
            )
    _warn_about_the_class(result.notes, args.submissions, args.assignment, rubric.module)
    failures = grouped_failures(result.internal_failures)
    for problem, students in failures[:MAX_LISTED_FAILURES]:
        names = ", ".join(shown_id(s) for s in students[:3])
        names += ", ..." if len(students) > 3 else ""
        on = f"{len(students)} submissions ({names})" if len(students) > 1 else names
        print(f"error: grader failed on {on}: {shown_id(problem)}", file=sys.stderr)
    if len(failures) > MAX_LISTED_FAILURES:
        more = sum(len(students) for _, students in failures[MAX_LISTED_FAILURES:])
        print(f"error: ... and on {more} more submissions (see their feedback)", file=sys.stderr)
    if failures:
        print(
            "error: those submissions are marked 'error' and score nothing (their feedback says "
            "the grader failed); once the cause is fixed, the same command grades them again",
            file=sys.stderr,
        )
    return 1 if failures else 0


MAX_LISTED_STUDENTS = 50  # in a warning's list of students, one a line


def _warn_about_the_class(notes: Any, submissions: Path, assignment: str, module: str) -> None:
    """What ``discover`` noticed about the class (``ClassNotes``), on stderr."""
    from autograder.summary import shown_id

    def some(names: Sequence[str], limit: int = 5) -> str:
        more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
        return ", ".join(shown_id(name) for name in names[:limit]) + more

    zipped = submissions.is_file()
    if notes.lms_files:
        count = len(notes.lms_files)
        folder = "CLASS" if zipped else str(submissions)
        print(
            f"warning: {count} LMS-named file{'s' if count > 1 else ''} beside the student "
            f"folders {'are' if count > 1 else 'is'} not graded ({some(notes.lms_files)}): "
            f"{'unzip it into a folder CLASS, ' if zipped else ''}put each in its student's "
            f"folder as {module} ('autograder sort-canvas {assignment} {folder}' does it for "
            f"Canvas's names) and grade {folder} again",
            file=sys.stderr,
        )
    if notes.beside_submitted:
        print(
            f"warning: not graded: {len(notes.beside_submitted)} folder(s) beside nbgrader's "
            f"submitted/ in {submissions} that hold {module} ({some(notes.beside_submitted)}); "
            f"only {submissions}/submitted/<student>/ is graded: move them there and grade again",
            file=sys.stderr,
        )
    if not (notes.misnamed or notes.zipped):
        return
    total = len({student for student, _ in [*notes.misnamed, *notes.zipped]})
    lines = [
        f"warning: {total} student{'s' if total > 1 else ''} graded as missing handed in "
        f"something else than {module}:"
    ]
    for found, what in ((notes.misnamed, "a file with another name"), (notes.zipped, "a zip")):
        if not found:
            continue
        lines.append(f"  {len(found)} handed in {what}:")
        for student, files in found[:MAX_LISTED_STUDENTS]:
            lines.append(f"    {shown_id(student)}: {some(files, 3)}")
        if len(found) > MAX_LISTED_STUDENTS:
            lines.append(f"    ... and {len(found) - MAX_LISTED_STUDENTS} more")
    lines.append(
        f"  rename the file to {module} (or unzip the zip) in their folder in {submissions}"
        f"{' (unzipped, then zip it again)' if zipped else ''} and grade again: only they are "
        "graded again"
    )
    print("\n".join(lines), file=sys.stderr)


def _print_submission_warnings(warnings: Sequence[tuple[str, str]]) -> None:
    """What to look at in single submissions (their feedback says it to the student)."""
    from autograder.summary import shown_id

    for student, warning in warnings[:MAX_LISTED_WARNINGS]:
        print(f"warning: {shown_id(student)}: {shown_id(warning)}", file=sys.stderr)
    if len(warnings) > MAX_LISTED_WARNINGS:
        more = len(warnings) - MAX_LISTED_WARNINGS
        print(
            f"warning: ... and {more} more submissions like these (see their feedback)",
            file=sys.stderr,
        )


def _print_look_alike_ids(ids: Sequence[str]) -> None:
    from autograder.submissions import look_alike_ids

    groups = look_alike_ids(ids)
    for group in groups[:MAX_LISTED_WARNINGS]:
        names = ", ".join(repr(student) for student in group)
        print(
            f"warning: student ids {names} differ only in case or spaces: one student twice? "
            "(feedback files whose names differ only in case are one file on a Mac's or "
            "Windows's disk)",
            file=sys.stderr,
        )
    if len(groups) > MAX_LISTED_WARNINGS:
        more = len(groups) - MAX_LISTED_WARNINGS
        print(f"warning: ... and {more} more groups of such ids", file=sys.stderr)


def _folders_of_other_things(
    root: Path, grades: Sequence[Any], assignments: set[str], handed_in: set[str]
) -> int:
    """How many students without a submission have a folder that is not empty and holds no
    folder named after an assignment of the course (a folder of a class is not like that),
    but those in ``handed_in`` (a misnamed file or a zip: a student of the class)."""
    if not root.is_dir():
        return 0  # a .zip: its folders are gone by now
    if (root / "submitted").is_dir():
        root = root / "submitted"
    count = 0
    for grade in grades:
        folder = root / grade.student
        if grade.status != "missing" or not folder.is_dir() or grade.student in handed_in:
            continue
        with contextlib.suppress(OSError):
            names = {entry.name for entry in folder.iterdir() if not entry.name.startswith(".")}
            count += bool(names) and not names & assignments
    return count


def raise_usage(message: str) -> None:
    from autograder.errors import UsageError

    raise UsageError(message)


def cmd_sort_canvas(args: argparse.Namespace) -> int:
    from autograder.lms import OLDER, sort_canvas
    from autograder.summary import shown_id

    module = _course(args.course).assignment(args.assignment).rubric().module
    result = sort_canvas(args.folder, module, dry_run=args.dry_run)
    would = "would move" if args.dry_run else "moved"
    students = len({to.split("/")[0] for _, to in result.moved})
    print(f"{would} {len(result.moved)} file(s) of {students} student(s) into their folders:")
    for name, to in result.moved:
        print(f"  {shown_id(name)} -> {shown_id(to)}")
    if result.older:
        print(f"{would} {len(result.older)} older file(s) into {args.folder / OLDER}/:")
        for name, newer in result.older:
            print(f"  {shown_id(name)} (older than {shown_id(newer)})")
    if result.left:
        print(
            f"warning: {len(result.left)} .py/.ipynb file(s) left where they are, not graded:",
            file=sys.stderr,
        )
        for name, why in result.left:
            print(f"  {shown_id(name)}: {why}", file=sys.stderr)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from autograder.verify import verify

    if args.jobs is not None and args.jobs < 1:
        raise_usage("--jobs must be at least 1")
    reports = verify(_course(args.course), args.assignments, sys.stdout, jobs=args.jobs)
    if any(r.config_broken for r in reports):
        return 2
    return 0 if all(r.ok for r in reports) else 1


def cmd_export(args: argparse.Namespace) -> int:
    # An option of the other format would be silently ignored: say so before anything runs.
    misplaced = ["--grades", "--db"] if args.format == "gradescope" else ["--out"]
    given = [option for option in misplaced if getattr(args, option[2:]) is not None]
    if given:
        other = "nbgrader" if args.format == "gradescope" else "gradescope"
        raise_usage(
            f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} for 'export {other}', "
            f"not 'export {args.format}'"
        )
    course = _course(args.course)
    assignment = course.assignment(args.assignment)
    if args.format == "gradescope":
        from autograder.gradescope import build_bundle
        from autograder.report import atomic_write_bytes, remove_abandoned_temporaries

        target = args.out or Path(f"{assignment.name}-gradescope.zip")
        if target.exists() and not target.is_file():  # a folder, /dev/null: not ours to replace
            raise_usage(f"--out {target} exists and is not a regular file; name a .zip file")
        for kept in ("assignments", "solutions"):
            kept_dir = (course.root / kept).resolve()
            if target.absolute().resolve().is_relative_to(kept_dir):
                # The bundle holds the reference, the hidden tests and the secret: in
                # assignments/ it would go out with the release; in solutions/ it would be a
                # course file (everyone regraded) and go into the next bundle.
                named = f"--out {target}"
                if args.out is None:
                    named = f"the default --out, {target.absolute()},"
                raise_usage(
                    f"{named} is inside the course's {kept}/ folder, and the bundle holds the "
                    "reference solution, the hidden tests and the course secret: write it "
                    f"elsewhere (e.g. --out {course.root / target.name})"
                )
        package_root = Path(__file__).resolve().parent.parent
        remove_abandoned_temporaries(target)  # an export killed while writing (SIGKILL)
        try:
            atomic_write_bytes(target, build_bundle(course, assignment, package_root))
        except OSError as exc:
            what = describe(exc)
            raise OutputError(f"cannot write the Gradescope autograder {target} ({what})") from None
        print(f"wrote Gradescope autograder {target}: upload it as the assignment's autograder")
        return 0
    from autograder.nbgrader_export import export_to_gradebook, flagged_students
    from autograder.summary import shown_id

    if args.grades is None:
        raise_usage("export nbgrader needs --grades DIR (the --out of 'autograder grade')")
    if args.grades.is_dir():  # the --out folder, as 'report' takes it
        args.grades = args.grades / "grades.json"
    db = args.db or Path("gradebook.db")
    count = export_to_gradebook(args.grades, assignment.rubric(), db)
    print(
        f"exported {count} submissions of {args.assignment} to nbgrader gradebook {db} "
        "(students without one are on the roster, not given 0)"
    )
    flagged = flagged_students(args.grades)
    if flagged:
        names = ", ".join(shown_id(s) for s in flagged[:5]) + (", ..." if len(flagged) > 5 else "")
        print(
            f"warning: the grader failed on {len(flagged)} of them ({names}): their 0 is no "
            "grade, and formgrader lists them as needing manual grading; grade again, then "
            "export again",
            file=sys.stderr,
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from autograder.class_report import build_report, check_document, render_text
    from autograder.report import read_grades

    if args.top < 1:
        raise_usage("--top must be at least 1")
    path = args.grades / "grades.json" if args.grades.is_dir() else args.grades
    document = read_grades(path)
    check_document(document, path)
    report = build_report(document)
    if args.json:
        print(json.dumps(report.as_json(), indent=1, ensure_ascii=False, allow_nan=False))
    else:
        sys.stdout.write(render_text(report, top=args.top, source=str(path)))
    return 0


COMMANDS = {
    "export": cmd_export,
    "report": cmd_report,
    "release": cmd_release,
    "check": cmd_check,
    "grade": cmd_grade,
    "sort-canvas": cmd_sort_canvas,
    "verify": cmd_verify,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill PID``, a scheduler's time limit) or SIGHUP (the terminal or ssh session
    closed): stop as cleanly as for Ctrl-C, exit 128 + the signal's number. A kind of
    KeyboardInterrupt, so that pytest (``check``) stops for it as it does for Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_stopped_by: list[int] = []  # the signal that stopped us, once pytest has turned it into Ctrl-C


def _terminate(signum: int, frame: object) -> None:
    _stopped_by.append(signum)
    raise Terminated(signum)


def _sturdy_streams() -> None:
    """Output that cannot be shown as it is never stops a command: a closed stdout or stderr
    writes nowhere, a terminal that cannot show a character (José in an ASCII locale) gets '?'.
    """
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        elif hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    _sturdy_streams()
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said with the command's own usage line, not the overview's
        getattr(args, "command_parser", parser).error(
            f"unrecognized arguments: {' '.join(unknown)}"
        )
    if not args.command:
        parser.print_help()
        return 2
    try:
        os.getcwd()
    except FileNotFoundError:  # relative paths and the course are looked up from it
        print(
            "error: the current folder no longer exists (it was deleted or moved): cd into "
            "one that does and run the command again",
            file=sys.stderr,
        )
        return 2
    # Unwinds like Ctrl-C: grading processes stopped, the journal closed, no half-written file.
    signal.signal(signal.SIGTERM, _terminate)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:  # under nohup: keep going
        signal.signal(signal.SIGHUP, _terminate)
    resume = ""
    if args.command == "grade":
        again = "rerun without --fresh" if args.fresh else "rerun"
        resume = f"; finished results are journaled, {again} to resume"
    try:
        return COMMANDS[args.command](args)
    except AutograderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as stop:
        signum = stop.signum if isinstance(stop, Terminated) else next(iter(_stopped_by), None)
        if signum is None:
            print(f"\ninterrupted{resume}", file=sys.stderr)
            return 130
        how = "hung up" if signum == signal.SIGHUP else "terminated"
        with contextlib.suppress(OSError):  # the terminal that hung up may take no more
            print(f"\n{how}{resume}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:  # `autograder grade ... | head`: the reader has gone, nothing lost
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
            raise
        # Printing the summary to a full disk (`> /dev/full`): what was written is kept.
        print(f"error: cannot write the output ({describe(exc)})", file=sys.stderr)
        return 4


if __name__ == "__main__":
    sys.exit(main())
