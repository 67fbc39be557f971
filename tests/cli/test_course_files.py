"""The instructor's files as release, grade and verify read them.

An instructor's broken file (reference, hidden tests, mutant, README) stops release, grade and
verify with exit 2 and the file (and line) to fix, before anyone is graded on it; a reference
that breaks only when it runs makes grade exit 1 instead of handing out zeros with exit 0.
A conftest.py above the assignment is never loaded; the due date in course.yml decides whether
``after_due_date`` items show in the feedback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import run_cli
from tests.cli.toy_course import REFERENCE, make_toy


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    return make_toy(tmp_path / "toy-course")


def solution(course: Path) -> Path:
    return course / "solutions" / "toy"


def klass(tmp_path: Path) -> Path:
    folder = tmp_path / "class" / "ann"
    folder.mkdir(parents=True)
    (folder / "scale.py").write_text(REFERENCE)
    return folder.parent


def reference_syntax_error(course: Path) -> None:
    path = solution(course) / "scale.py"
    path.write_text(REFERENCE.replace("def scale_sum(x, w):", "def scale_sum(x, w)"))


def reference_missing(course: Path) -> None:
    (solution(course) / "scale.py").unlink()


def reference_a_folder(course: Path) -> None:
    (solution(course) / "scale.py").unlink()
    (solution(course) / "scale.py").mkdir()


def reference_not_utf8(course: Path) -> None:
    (solution(course) / "scale.py").write_bytes(REFERENCE.encode() + b"# \xff\n")


def hidden_tests_missing(course: Path) -> None:
    (solution(course) / "tests" / "test_hidden.py").unlink()
    (solution(course) / "tests").rmdir()


def conftest_syntax_error(course: Path) -> None:
    (solution(course) / "tests" / "conftest.py").write_text("import numpy\ndef (:\n")


def conftest_import_error(course: Path) -> None:
    (solution(course) / "tests" / "conftest.py").write_text("import no_such_module_here\n")


def assignment_conftest_syntax_error(course: Path) -> None:
    (solution(course) / "conftest.py").write_text("import numpy\n\ndef (:\n")


def stdlib_name_beside_the_reference(course: Path) -> None:
    (solution(course) / "random.py").write_text("x = 1\n")


def hidden_test_module_exits(course: Path) -> None:
    (solution(course) / "tests" / "test_extra.py").write_text("raise SystemExit(3)\n")


def _extra_test(course: Path, decorator: str, arguments: str = "submission") -> None:
    (solution(course) / "tests" / "test_extra.py").write_text(
        "import sys\nimport pytest\n\n\n"
        f'@pytest.mark.rubric("value")\n{decorator}\ndef test_extra({arguments}):\n    pass\n'
    )


def hidden_test_skipped_here(course: Path) -> None:
    _extra_test(course, '@pytest.mark.skipif(sys.platform == "linux", reason="windows only")')


def hidden_test_xfail(course: Path) -> None:
    _extra_test(course, '@pytest.mark.xfail(reason="flaky")')


def hidden_test_empty_parametrize(course: Path) -> None:
    _extra_test(course, '@pytest.mark.parametrize("a", [])', "submission, a")


def hidden_test_unknown_fixture(course: Path) -> None:
    _extra_test(course, "", "submision")


def marker_indented_unlike_its_code(course: Path) -> None:
    path = solution(course) / "scale.py"
    path.write_text(REFERENCE.replace("    ### BEGIN SOLUTION", "### BEGIN SOLUTION"))


def markers_missing(course: Path) -> None:
    path = solution(course) / "scale.py"
    path.write_text("".join(x for x in REFERENCE.splitlines(True) if "SOLUTION" not in x))


def marker_mistyped(course: Path) -> None:
    path = solution(course) / "scale.py"
    path.write_text(REFERENCE.replace("### END SOLUTION", "## END SOLUTION"))


def mutant_a_folder(course: Path) -> None:
    (solution(course) / "mutants" / "odd.py").mkdir()


def mutant_header_without_commas(course: Path) -> None:
    path = solution(course) / "mutants" / "mean.py"
    path.write_text(path.read_text().replace("# loses: value", "# loses: value layout"))


def mutant_header_without_colon(course: Path) -> None:
    path = solution(course) / "mutants" / "mean.py"
    path.write_text(path.read_text().replace("# loses: value", "# loses value"))


def mutant_not_utf8(course: Path) -> None:
    (solution(course) / "mutants" / "odd.py").write_bytes(b"# loses: value\n\xff\n")


def readme_not_utf8(course: Path) -> None:
    (solution(course) / "README.md").write_bytes(b"# Toy \xff\n")


def rubric_not_utf8(course: Path) -> None:
    path = solution(course) / "rubric.yml"
    path.write_bytes(path.read_bytes().replace(b"module: scale.py", b"module: sc\xe9le.py"))


REF = "solutions/toy/scale.py"
ALL = ("release", "grade", "verify")
RUNS = ("grade", "verify")  # what reads the hidden tests
CASES: list[tuple[Callable[[Path], None], str, tuple[str, ...]]] = [
    (
        mutant_header_without_commas,
        "mutants/mean.py:1: unknown rubric item(s): value layout (separate item ids with commas)",
        ("verify",),
    ),
    (
        mutant_header_without_colon,
        "mutants/mean.py:1: write the header as '# loses: <item ids>' (a colon)",
        ("verify",),
    ),
    (reference_syntax_error, f"{REF}:4: syntax error in the reference module", ALL),
    (
        reference_missing,
        f"{REF}: the reference module does not exist (rubric.yml names it in 'module:'; the "
        ".py files in toy/: ",
        ALL,
    ),
    (reference_a_folder, f"{REF}: the reference module is not a regular file", ALL),
    (reference_not_utf8, f"{REF}:11: the reference module is not UTF-8 text (byte 0xff at", ALL),
    (
        rubric_not_utf8,
        "solutions/toy/rubric.yml:2: the file is not UTF-8 text (byte 0xe9 at column 11)",
        ALL,
    ),
    (hidden_tests_missing, "solutions/toy/tests: the hidden tests folder does not exist", RUNS),
    (conftest_syntax_error, "tests/conftest.py:2: syntax error in a hidden test file", RUNS),
    (conftest_import_error, "the hidden tests cannot be loaded: tests/conftest.py:1: in", RUNS),
    (
        assignment_conftest_syntax_error,
        "solutions/toy/conftest.py:3: syntax error in a conftest.py the hidden tests load",
        RUNS,
    ),
    (
        stdlib_name_beside_the_reference,
        "solutions/toy/random.py: this file hides the module 'random' that the grader imports",
        RUNS,
    ),
    (hidden_test_module_exits, "the hidden tests cannot be loaded (a grading process", RUNS),
    (hidden_test_skipped_here, "is marked to be skipped (windows only), so every", RUNS),
    (hidden_test_xfail, "xfailed (flaky), so every student would lose its points; remove", RUNS),
    (hidden_test_empty_parametrize, "its points; give parametrize some values", RUNS),
    (
        hidden_test_unknown_fixture,
        "test_extra.py::test_extra: asks for 'submision', which is no fixture here",
        RUNS,
    ),
    (
        marker_indented_unlike_its_code,
        f"{REF}:6: the stub made from this region is not valid Python",
        ("release", "verify"),
    ),
    (
        markers_missing,
        f"{REF}: no '### BEGIN SOLUTION' ... '### END SOLUTION' region",
        ("release", "verify"),
    ),
    (
        marker_mistyped,
        f"{REF}:9: '## END SOLUTION' looks like a solution marker but is not one",
        ("release", "verify"),
    ),
    (mutant_a_folder, "solutions/toy/mutants/odd.py: a mutant is not a regular file", ("verify",)),
    (mutant_not_utf8, "solutions/toy/mutants/odd.py:2: a mutant is not UTF-8 text", ("verify",)),
    (
        readme_not_utf8,
        "solutions/toy/README.md:1: the README is not UTF-8 text",
        ("release", "verify"),
    ),
]


@pytest.mark.parametrize(
    ("breakage", "message", "commands"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_a_broken_instructor_file_stops_each_command_with_exit_2(
    toy: Path,
    tmp_path: Path,
    breakage: Callable[[Path], None],
    message: str,
    commands: tuple[str, ...],
) -> None:
    breakage(toy)
    arguments = {
        "release": ("release",),
        "grade": ("grade", "toy", klass(tmp_path), "--out", tmp_path / "out"),
        "verify": ("verify",),
    }
    for name in commands:
        result = run_cli(*arguments[name], cwd=toy)
        output = result.stdout + result.stderr
        assert result.returncode == 2, (name, output)
        assert message in output, (name, output)
        assert "Traceback" not in output, (name, output)
    assert not (tmp_path / "out" / "grades.json").exists()


def test_a_reference_saved_with_a_byte_order_mark_is_read_as_python_reads_it(
    toy: Path, tmp_path: Path
) -> None:
    """Windows editors write a UTF-8 BOM, which Python accepts; release and grade said
    ':1: syntax error ... invalid non-printable character U+FEFF'."""
    path = solution(toy) / "scale.py"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    for args in (("release",), ("grade", "toy", klass(tmp_path), "--out", tmp_path / "out")):
        result = run_cli(*args, cwd=toy)
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_reference_that_fails_when_it_runs_makes_grade_exit_1(toy: Path, tmp_path: Path) -> None:
    path = solution(toy) / "scale.py"
    path.write_text(REFERENCE.replace("import numpy as np", "import numpy as np\nimport nope_x"))
    result = run_cli("grade", "toy", klass(tmp_path), "--out", tmp_path / "out", cwd=toy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "error: grader failed on ann: " in result.stderr
    assert "ModuleNotFoundError" in result.stderr
    assert "Traceback" not in result.stderr
    # The grades are written (and say the checks could not complete), so nothing is lost.
    assert (tmp_path / "out" / "grades.json").exists()
    verified = run_cli("verify", cwd=toy)
    assert verified.returncode == 2, verified.stdout
    assert "grader failed on" in verified.stdout
    # Said once: not again per item, secret and mutant, as though they were graded.
    assert "  [FAIL] reference, stub and mutants judged\n         - not judged: the grader " in (
        verified.stdout
    )
    assert "regraded" not in verified.stdout and "earns full marks" not in verified.stdout
    assert "verify-seed-2" not in verified.stdout  # the other secrets would fail the same way


def test_a_hidden_test_that_breaks_by_itself_scores_nothing_and_is_graded_again(
    toy: Path, tmp_path: Path
) -> None:
    """An instructor's bug in one test (here a KeyError) used to leave every student 'graded'
    with that test's points docked; the instructor now gets where it broke, the students are
    'error' (not scored), and once the test is fixed the same command grades them again."""
    import json

    tests = solution(toy) / "tests" / "test_hidden.py"
    good = tests.read_text()
    tests.write_text(
        good + '\n\n@pytest.mark.rubric("layout")\ndef test_oops(submission):\n'
        '    raise KeyError("instructor bug")\n'
    )
    line = len(tests.read_text().splitlines())
    out, students = tmp_path / "out", klass(tmp_path)
    result = run_cli("grade", "toy", students, "--out", out, cwd=toy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "error: grader failed on ann: test_hidden.py::test_oops: the grader's test could not "
        f"complete (test_hidden.py:{line}: KeyError: 'instructor bug')\n" in result.stderr
    )
    assert "not your fault" not in result.stderr  # it is the instructor's test
    assert "marked 'error' and score nothing" in result.stderr
    # The table counts them apart from files that could not run, as the report does.
    records = json.loads((out / "grades.json").read_text())["students"].values()
    failed = sum(1 for r in records if r["status"] == "error")
    assert failed >= 1
    assert re.search(rf"^the grader failed on +{failed}$", result.stdout, re.M), result.stdout
    assert re.search(r"^could not run +0$", result.stdout, re.M), result.stdout
    ann = json.loads((out / "grades.json").read_text())["students"]["ann"]
    assert (ann["status"], ann["score"]) == ("error", 0)
    assert "The grader itself failed" in (out / "feedback" / "ann.md").read_text()
    # A slip in a name of the reference says "the reference", not the name it was loaded as.
    tests.write_text(
        good + '\n\n@pytest.mark.rubric("layout")\ndef test_oops(submission, reference):\n'
        "    reference.scale_sun\n"
    )
    result = run_cli("grade", "toy", students, "--out", out, cwd=toy)
    assert "AttributeError: module 'reference' has no attribute 'scale_sun'" in result.stderr
    tests.write_text(good)
    again = run_cli("grade", "toy", students, "--out", out, cwd=toy)
    assert again.returncode == 0, again.stdout + again.stderr
    ann = json.loads((out / "grades.json").read_text())["students"]["ann"]
    assert (ann["status"], ann["score"]) == ("graded", 4)


def test_a_conftest_above_the_assignment_is_never_loaded(toy: Path, tmp_path: Path) -> None:
    # pytest would load it when the course has an ini file (pyproject.toml, pytest.ini):
    # the grader must not depend on what else lives in the course folder.
    (toy / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = ""\n')
    (toy / "solutions" / "conftest.py").write_text("import no_such_module_above\n")
    (toy / "conftest.py").write_text("import no_such_module_at_the_root\n")
    result = run_cli("grade", "toy", klass(tmp_path), "--out", tmp_path / "out", cwd=toy)
    assert result.returncode == 0, result.stderr


def test_feedback_shows_after_due_date_items_once_the_due_date_has_passed(
    toy: Path, tmp_path: Path
) -> None:
    rubric = solution(toy) / "rubric.yml"
    rubric.write_text(
        rubric.read_text().replace("  - id: layout\n", "  - id: layout\n    title: Layout\n")
        + "    visibility: after_due_date\n"
    )
    course = toy / "course.yml"
    course.write_text(course.read_text().replace("toy: {}", "toy: {due: 2999-01-01}"))
    out = tmp_path / "out"
    args = ("grade", "toy", klass(tmp_path), "--out", out)
    assert run_cli(*args, cwd=toy).returncode == 0
    page = (out / "feedback" / "ann.md").read_text()
    assert "(`value`)" in page and "(`layout`)" not in page
    assert "**Score: not shown" in page  # the total would tell how layout went
    course.write_text(course.read_text().replace("2999-01-01", "2000-01-01"))
    again = run_cli(*args, cwd=toy)
    assert again.returncode == 0 and "1 reused from an earlier run" in again.stdout
    page = (out / "feedback" / "ann.md").read_text()
    assert "(`layout`)" in page and "**Score: 4 / 4**" in page


def test_an_error_quotes_this_runs_log_not_an_earlier_ones(toy: Path, tmp_path: Path) -> None:
    extra = solution(toy) / "tests" / "test_extra.py"
    args = ("grade", "toy", klass(tmp_path), "--out", tmp_path / "out")
    extra.write_text("raise SystemExit('first failure')\n")
    first = run_cli(*args, cwd=toy)
    assert first.returncode == 2 and "first failure" in first.stderr, first.stderr
    extra.write_text("import os\nprint('second failure', flush=True)\nos._exit(0)\n")
    second = run_cli(*args, cwd=toy)
    assert second.returncode == 2 and "second failure" in second.stderr, second.stderr
    assert "first failure" not in second.stderr


def test_a_skipif_that_does_not_apply_here_is_fine(toy: Path, tmp_path: Path) -> None:
    _extra_test(toy, '@pytest.mark.skipif(sys.platform == "win32", reason="not on windows")')
    result = run_cli("grade", "toy", klass(tmp_path), "--out", tmp_path / "out", cwd=toy)
    assert result.returncode == 0, result.stderr


def test_release_of_every_assignment_writes_none_if_one_is_broken(course_copy: Path) -> None:
    """`autograder release` (every assignment) used to release the ones before a broken one,
    then stop: a half-released course."""
    order = ["linear", "mlp", "linear_nd"]
    text = (course_copy / "course.yml").read_text()
    assert all(f"  {name}:" in text for name in order)
    rubric = course_copy / "solutions" / order[-1] / "rubric.yml"
    rubric.write_text(rubric.read_text() + "  - id: [broken\n")
    stub = course_copy / "assignments" / order[0] / "linear.py"
    stub.write_text("# an edit the release would overwrite\n")
    result = run_cli("release", cwd=course_copy)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "solutions/linear_nd/rubric.yml" in result.stderr and "released" not in result.stdout
    assert stub.read_text() == "# an edit the release would overwrite\n"


def test_every_release_is_written_when_the_output_cannot_be_shown(course_copy: Path) -> None:
    """`autograder release | head -1`: the first line failed (the reader had gone) and the
    command stopped there with exit 141, every assignment after the first not released."""
    from autograder.course import load_course
    from autograder.release import diff_release

    for name in ("linear", "linear_nd", "mlp"):
        with (course_copy / "solutions" / name / "README.md").open("a") as readme:
            readme.write("\nA line added after the last release.\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", "release"],
        cwd=course_copy,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, AUTOGRADER_SECRET="cli-test-secret"),
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader goes away before the first line
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 141, stderr
    course = load_course(course_copy / "course.yml")
    for name in ("linear", "linear_nd", "mlp"):
        assert diff_release(course.assignment(name)) == [], name


def test_a_release_that_fails_ends_with_its_own_error_when_the_output_cannot_be_shown(
    course_copy: Path,
) -> None:
    """What was released before the failure is said as the error unwinds; a reader that had
    gone made that raise BrokenPipeError, and exit 141 replaced the failure's own exit 4."""
    program = """
import sys
from autograder import cli, release as releasing
from autograder.errors import OutputError
calls, real = [], releasing.release
def release(assignment, content):
    calls.append(assignment)
    if len(calls) == 2:
        raise OutputError("cannot write the release (a full disk)")
    return real(assignment, content)
releasing.release = release
sys.exit(cli.main(["release"]))
"""
    process = subprocess.Popen(
        [sys.executable, "-c", program],
        cwd=course_copy,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, AUTOGRADER_SECRET="cli-test-secret"),
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader goes away before the first line
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 4, stderr
    assert "cannot write the release (a full disk)" in stderr
