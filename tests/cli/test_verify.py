"""``autograder verify`` on a small course: it passes, and each way of breaking it is named."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import verify
from autograder.course import load_course
from tests.cli.conftest import run_cli
from tests.cli.toy_course import HIDDEN, REFERENCE, make_toy


def run_verify(course: Path) -> tuple[int, str]:
    result = run_cli("verify", cwd=course, timeout=600)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    return make_toy(tmp_path / "toy-course")


def test_verify_passes_on_a_sound_course(toy: Path) -> None:
    code, output = run_verify(toy)
    assert code == 0, output
    for check in (
        "config",
        "reference earns full marks",
        "released stub earns zero",
        "mutants are caught",
        "reference passes the public checks",
        "release in sync",
        "nothing leaks",
    ):
        assert f"[ok  ] {check}" in output
    assert "verify passed" in output


def test_a_wrong_reference_fails_verify(toy: Path) -> None:
    reference = toy / "solutions" / "toy" / "scale.py"
    reference.write_text(REFERENCE.replace("total * w", "total * w * 2"))
    run_cli("release", cwd=toy)  # keep the release in sync: only the reference is wrong
    code, output = run_verify(toy)
    assert code == 1
    assert "[FAIL] reference earns full marks" in output
    # Which tests failed, so the instructor knows where to look.
    assert re.search(r"item 'value' got [\d.]+/3 \(failed: test_hidden.py::test_value_", output)


def test_a_test_the_stub_passes_is_named(toy: Path) -> None:
    hidden = toy / "solutions" / "toy" / "tests" / "test_hidden.py"
    hidden.write_text(
        HIDDEN + '\n\n@pytest.mark.rubric("layout")\ndef test_todo(submission):\n    pass\n'
    )
    code, output = run_verify(toy)
    assert code == 1
    assert "[FAIL] released stub earns zero" in output
    assert re.search(r"stub earns [\d.]+ on 'layout' \(passed: test_hidden.py::test_todo\)", output)


def test_a_deleted_hidden_test_lets_mutants_survive(toy: Path) -> None:
    hidden = toy / "solutions" / "toy" / "tests" / "test_hidden.py"
    hidden.write_text(
        HIDDEN.split('@pytest.mark.rubric("value")\n@pytest.mark.parametrize')[0]
        + HIDDEN.split(
            "expect_array(submission.scale_sum(x, w), reference"
            '.scale_sum(x, w), name="y", strict=False)\n'
        )[1]
    )
    code, output = run_verify(toy)
    assert code == 1
    assert "[FAIL] mutants are caught" in output
    assert "earns full marks: the hidden tests miss this mistake" in output
    assert re.search(r"then end line \d+ of the reference with '# equivalent: \w+'", output)
    # What the survivor changed: its source is unparsed, without the reference's line numbers.
    assert "(line 7: `x.sum(axis=0)` becomes `x.mean(axis=0)`)" in output
    assert "mutants/mean.py: declared to lose {value}, lost {}" in output


PUBLIC = """\
import numpy as np
import pytest

from autograder.checks import expect_array


@pytest.mark.rubric("value")
def test_value_worked_example(submission):
    expect_array(submission.scale_sum(np.ones((2, 3)), 2.0), np.full(3, EXPECTED), name="y")
"""


def release_and_verify(toy: Path, test: str) -> tuple[int, str]:
    """``test`` as the toy's public test_scale.py, released, then verify's exit and output."""
    public = toy / "solutions" / "toy" / "public"
    public.mkdir(exist_ok=True)
    (public / "test_scale.py").write_text(test)
    assert run_cli("release", cwd=toy).returncode == 0
    return run_verify(toy)


def test_a_public_check_the_reference_fails_fails_verify(toy: Path) -> None:
    # A correct student would be told they are wrong: verify must say so, not just the grader.
    code, output = release_and_verify(toy, PUBLIC.replace("EXPECTED", "4.0"))
    assert code == 0, output
    assert "[ok  ] reference passes the public checks" in output
    assert "1/1 public checks passed" in output

    code, output = release_and_verify(toy, PUBLIC.replace("EXPECTED", "2.0"))  # wrong example
    assert code == 1
    assert "[FAIL] reference passes the public checks" in output
    assert "'autograder check' fails on the reference (exit 1)" in output
    assert "0/1 public checks passed" in output


def test_a_public_check_the_stub_passes_fails_verify(toy: Path) -> None:
    # A student who has written nothing would be told that part is done.
    code, output = release_and_verify(toy, PUBLIC.replace("EXPECTED", "4.0"))
    assert code == 0, output
    assert "[ok  ] released stub fails every public check" in output

    code, output = release_and_verify(
        toy,
        PUBLIC.replace("EXPECTED", "4.0")
        + '\n\n@pytest.mark.rubric("layout")\ndef test_todo(submission):\n    pass\n',
    )
    assert code == 1
    assert "[ok  ] reference passes the public checks" in output
    assert "[FAIL] released stub fails every public check" in output
    assert "the stub passes public checks" in output
    assert "(item 'layout': 1/1 public checks passed)" in output


def test_public_tests_of_a_hidden_item_are_warned_about_not_refused(toy: Path) -> None:
    """Allowed (a taste of what the hidden tests check), but students see how they do on
    them with 'autograder check', under the item: likely not what 'hidden' was meant for."""
    public = toy / "solutions" / "toy" / "public"
    public.mkdir()
    (public / "test_scale.py").write_text(PUBLIC.replace("EXPECTED", "4.0"))
    rubric = toy / "solutions" / "toy" / "rubric.yml"
    rubric.write_text(
        rubric.read_text().replace("points: 3\n", "points: 3\n    visibility: hidden\n")
    )
    released = run_cli("release", cwd=toy)
    assert released.returncode == 0, released.stderr
    warning = (
        f"warning: {public / 'test_scale.py'}:7: 1 public test(s) score item 'value', which "
        "rubric.yml hides (visibility: hidden); 'autograder check' shows students how they "
        "do on them, under that item"
    )
    assert warning in released.stdout, released.stdout
    code, output = run_verify(toy)
    assert code == 0, output
    assert "[ok  ] reference passes the public checks" in output
    assert warning in output.replace("\n         ", " "), output
    rubric.write_text(rubric.read_text().replace("    visibility: hidden\n", ""))
    released = run_cli("release", cwd=toy)
    assert released.returncode == 0 and "warning" not in released.stdout, released.stdout


def test_a_mutant_losing_more_than_it_declares_names_the_tests(toy: Path) -> None:
    mutant = toy / "solutions" / "toy" / "mutants" / "mean.py"
    mutant.write_text(mutant.read_text().replace("# loses: value", "# loses: layout"))
    code, output = run_verify(toy)
    assert code == 1
    assert re.search(
        r"mutants/mean.py: declared to lose \{layout\}, lost \{value\} \(not lost: layout; "
        r"lost but not declared: value \(failed: test_hidden.py::test_value_",
        output,
    ), output


def test_a_mutant_that_does_not_compile_is_named_as_such(toy: Path) -> None:
    mutant = toy / "solutions" / "toy" / "mutants" / "mean.py"
    mutant.write_text(mutant.read_text() + "def (\n")
    code, output = run_verify(toy)
    assert code == 1
    assert "mutants/mean.py: declared to lose {value}, lost {layout, value}" in output
    assert "it does not compile (mean.py:7: " in output


def test_an_edited_stub_fails_verify(toy: Path) -> None:
    stub = toy / "assignments" / "toy" / "scale.py"
    stub.write_text(stub.read_text() + "\n# a helpful tip\n")
    code, output = run_verify(toy)
    assert code == 1
    assert "[FAIL] release in sync" in output
    assert "assignments/toy/scale.py differs from its source" in output


def test_a_stub_replaced_by_the_solution_is_said_once(toy: Path) -> None:
    # One line that points at the cause, not one per secret and item for what it earned.
    (toy / "assignments" / "toy" / "scale.py").write_text(REFERENCE)
    code, output = run_verify(toy)
    assert code == 1
    assert not re.search(r"stub earns [\d.]+ on|stub fails '", output), output
    assert "scale.py is not the stub 'autograder release' makes (see 'release in sync')" in output
    assert "[FAIL] release in sync" in output


def test_a_solution_line_pasted_into_the_release_fails_verify(toy: Path) -> None:
    readme = toy / "assignments" / "toy" / "README.md"
    readme.write_text(
        readme.read_text() + "\nHint: `total = x.sum(axis=0)`\n    total = x.sum(axis=0)\n"
    )
    code, output = run_verify(toy)
    assert code == 1
    assert "[FAIL] nothing leaks into assignments/toy/" in output
    assert "leaks instructor-only line 'total = x.sum(axis=0)'" in output


def test_a_solution_in_a_notebook_checkpoint_of_the_release_fails_verify(toy: Path) -> None:
    # Jupyter writes .ipynb_checkpoints/ beside a notebook: not part of the release (the sync
    # check ignores it) but easily committed with it, with the filled-in solution inside.
    checkpoints = toy / "assignments" / "toy" / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "scale-checkpoint.py").write_text(REFERENCE)
    code, output = run_verify(toy)
    assert code == 1
    assert "[ok  ] release in sync" in output
    assert "[FAIL] nothing leaks into assignments/toy/" in output
    assert ".ipynb_checkpoints/scale-checkpoint.py" in output


def test_a_released_stub_that_is_not_text_fails_verify_without_a_traceback(toy: Path) -> None:
    stub = toy / "assignments" / "toy" / "scale.py"
    stub.write_bytes(stub.read_bytes() + b"# \xff\n")
    code, output = run_verify(toy)
    assert code == 1
    assert f"{stub} is not UTF-8 text (run: autograder release)" in output
    assert "[FAIL] release in sync" in output


def test_a_killed_verify_leaves_no_copy_of_the_solution_behind(toy: Path, tmp_path: Path) -> None:
    # SIGKILL skips every clean-up: the run's folder (reference and mutants) stays; the next
    # verify removes it before it starts, and its own when it ends.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = dict(os.environ, AUTOGRADER_SECRET="cli-test-secret", TMPDIR=str(scratch))
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder", "verify"],
        cwd=toy,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(scratch.glob("autograder-verify-toy-*/class/reference")):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        process.kill()
        process.wait()
    left = list(scratch.glob("autograder-verify-*"))
    assert left  # what a kill leaves
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "verify"],
        cwd=toy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(scratch.glob("autograder-verify-*")) == []


@pytest.mark.parametrize("name", ["scale.py", "rubric.yml"])
def test_a_public_file_in_place_of_a_generated_one_is_refused(toy: Path, name: str) -> None:
    # Released, public/scale.py would be the stub: the whole solution, and "nothing leaks".
    public = toy / "solutions" / "toy" / "public"
    public.mkdir()
    (public / name).write_text(REFERENCE)
    for command in ("release", "verify"):
        result = run_cli(command, cwd=toy)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 2, result.stdout + result.stderr
        output = result.stdout + result.stderr
        assert f"{public / name}: this public file would replace {name} in the release" in output
    assert "total = x.sum(axis=0)" not in (toy / "assignments" / "toy" / "scale.py").read_text()


def test_a_public_test_that_needs_the_reference_through_a_fixture_is_refused(
    toy: Path,
) -> None:
    """Students have no reference: the test would fail for every one of them, correct or not."""
    public = toy / "solutions" / "toy" / "public"
    public.mkdir()
    (public / "conftest.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef expected(reference):\n    return reference\n"
    )
    test = PUBLIC.replace("EXPECTED", "4.0").replace("(submission):", "(submission, expected):")
    (public / "test_scale.py").write_text(test)
    result = run_cli("release", cwd=toy)
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        f"{public / 'test_scale.py'}:7: test test_scale.py::test_value_worked_example: asks for "
        "'reference', the reference solution, which students do not have (it is only on the "
        "grader); give the expected values in the test, or make it a hidden test"
    ) in result.stderr


def test_a_solution_line_in_the_stub_leaks_even_if_a_public_file_shares_it(toy: Path) -> None:
    # Public files' lines are not leaks anywhere else, but the stub's text comes only from the
    # reference outside its regions.
    from autograder.course import load_course
    from autograder.verify import _check_leaks

    public = toy / "solutions" / "toy" / "public"
    public.mkdir()
    (public / "notes.txt").write_text("The answer:\n    total = x.sum(axis=0)\n")
    assert run_cli("release", cwd=toy).returncode == 0
    stub = toy / "assignments" / "toy" / "scale.py"
    stub.write_text(stub.read_text().replace("# YOUR CODE HERE", "total = x.sum(axis=0)"))
    course = load_course(toy / "course.yml")
    toy_assignment = course.assignment("toy")
    check = _check_leaks(course, toy_assignment, toy_assignment.rubric())
    assert check.problems == [f"{stub}:6: leaks instructor-only line 'total = x.sum(axis=0)'"], (
        check.problems
    )


@pytest.mark.parametrize(
    ("change", "line", "needle"),
    [
        (('rubric("value")', 'rubric("nosuch")'), 7, "is marked rubric('nosuch'), which is not"),
        (('@pytest.mark.rubric("value")\n', ""), 7, "has no @pytest.mark.rubric(...) marker"),
        (("import pytest\n", "import pytest\nimport no_such_module\n"), 3, "No module named"),
        (("import pytest\n", "import pytest\ndef (\n"), 3, "syntax error in a public test file"),
        (("(submission):", "(submission, reference):"), 7, "asks for 'reference', the reference"),
    ],
)
def test_public_tests_broken_or_bound_to_no_item_are_refused(
    toy: Path, change: tuple[str, str], line: int, needle: str
) -> None:
    public = toy / "solutions" / "toy" / "public"
    public.mkdir()
    (public / "test_scale.py").write_text(PUBLIC.replace("EXPECTED", "4.0").replace(*change))
    for command in ("release", "verify"):
        result = run_cli(command, cwd=toy)
        output = result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 2, output
        assert f"{public / 'test_scale.py'}:{line}: " in output
        assert needle in output


@pytest.mark.parametrize(
    ("stdout", "problem"),
    [
        # A summary this cannot read is a problem, not a stub that passes nothing.
        ("Traceback (most recent call last):\n", "printed no 'N/M public checks passed' line"),
        # Passed checks counted only in the total (no item line to name) are still found.
        ("3/27 public checks passed. Your grade comes from hidden tests\n", "(3/27 public"),
    ],
)
def test_the_stub_check_reads_the_total_of_autograder_check(
    toy: Path, monkeypatch: pytest.MonkeyPatch, stdout: str, problem: str
) -> None:
    assignment = load_course(toy / "course.yml").assignment("toy")
    assert run_cli("release", cwd=toy).returncode == 0
    done = subprocess.CompletedProcess(["check"], 1, stdout=stdout, stderr="")
    monkeypatch.setattr(verify, "_run_public_checks", lambda *args: done)
    check = verify._check_public_on_stub(assignment, "scale.py")
    assert any(problem in line for line in check.problems), check.problems
