"""A student's view: ``autograder check`` and plain ``pytest`` in the released folder."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from autograder.summary import WrappedStream, wrap_line
from tests.cli.conftest import REPO, plain_pytest, run_cli


def student_folder(tmp_path: Path, solution: bool) -> Path:
    folder = tmp_path / "linear"
    shutil.copytree(REPO / "assignments" / "linear", folder)
    if solution:
        shutil.copy(REPO / "solutions" / "linear" / "linear.py", folder / "linear.py")
    return folder


def test_check_on_a_correct_solution_passes(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    result = run_cli("check", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "public checks passed" in result.stdout
    assert "✘" not in result.stdout
    for item in ("forward", "dx", "dW", "db"):
        assert f"[{item}," in result.stdout
    # The release has the notebook edition beside linear.py: say which one was checked.
    assert (
        "(This checked linear.py: linear.ipynb has more of the released stub left. To check "
        in (result.stdout)
    )


def test_check_on_the_stub_says_what_to_implement(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=False)
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1
    assert "linear_forward is not implemented yet (it raises NotImplementedError" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    # With the forward pass done, the gradients point at linear_backward instead.
    stub = (folder / "linear.py").read_text()
    reference = (REPO / "solutions" / "linear" / "linear.py").read_text()
    forward_done = (
        reference.split("def linear_backward")[0]
        + "def linear_backward"
        + (stub.split("def linear_backward")[1])
    )
    (folder / "linear.py").write_text(forward_done)
    result = run_cli("check", cwd=folder)
    assert "✔ Forward pass" in result.stdout
    assert "linear_backward is not implemented yet" in result.stdout


def test_check_explains_a_transposed_gradient(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    source = (folder / "linear.py").read_text().replace("dW = x.T @ dy", "dW = (x.T @ dy).T")
    (folder / "linear.py").write_text(source)
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1
    assert "transpose" in result.stdout


def test_check_runs_the_code_under_the_courses_limits(tmp_path: Path) -> None:
    """course.yml gives linear 3 s a call; check must not let a student believe 3.5 s is fine
    (with the default 10 s, it passed every check here and then lost most points in grading)."""
    folder = student_folder(tmp_path, solution=True)
    source = (folder / "linear.py").read_text()
    begin = source.index("### BEGIN SOLUTION", source.index("def linear_backward"))
    slow = source[:begin] + "import time; time.sleep(3.5)\n    " + source[begin:]
    (folder / "linear.py").write_text(slow)
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1
    assert "linear_backward did not return within 3 s" in result.stdout


def test_check_says_when_it_has_no_limits_to_run_under(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    assert "rubric.yml here has no limits" not in run_cli("check", cwd=folder).stdout
    rubric = (folder / "rubric.yml").read_text()
    (folder / "rubric.yml").write_text(
        rubric[: rubric.index("\n# Written by 'autograder release'")]
    )
    result = run_cli("check", cwd=folder)
    assert result.returncode == 0, result.stdout
    assert "rubric.yml here has no limits: block, so this ran under the default limits" in (
        result.stdout
    )


def test_an_error_in_a_helper_names_the_helper_and_its_caller(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    source = (folder / "linear.py").read_text()
    source = source.replace(
        "def linear_backward(",
        "def grads_of(dy, x, W):\n    return dy @ W\n\n\ndef linear_backward(",
        1,
    )
    begin = source.index("### BEGIN SOLUTION", source.index("def linear_backward("))
    source = source[:begin] + "grads_of(dy, *cache)\n    " + source[begin:]
    (folder / "linear.py").write_text(source)
    line = source.splitlines().index("    return dy @ W") + 1
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1
    assert (
        f"ValueError at linear.py line {line}: in grads_of, called from linear_backward: matmul"
        in result.stdout
    ), result.stdout


def test_check_outside_an_assignment_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "no rubric.yml" in result.stderr


def test_check_on_a_broken_notebook_says_so_once(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=False)
    (folder / "linear.py").unlink()
    (folder / "linear.ipynb").write_text('{"cells": 5}')
    result = run_cli("check", cwd=folder)
    assert result.returncode == 2
    assert "linear.ipynb is not a valid Jupyter notebook: it has no list of cells" in result.stderr
    assert len((result.stdout + result.stderr).splitlines()) < 5
    assert "Traceback" not in result.stdout + result.stderr


def test_plain_pytest_in_the_folder_works_too(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    result = plain_pytest(folder)
    assert result.returncode == 0, result.stdout
    assert "public checks by rubric item" in result.stdout


def test_a_check_that_breaks_by_itself_is_not_blamed_on_the_student(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    (folder / "test_a_first.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef setup_data():\n"
        "    raise RuntimeError('the instructor fixture broke')\n\n\n"
        "@pytest.mark.rubric('forward')\ndef test_with_data(setup_data):\n    pass\n"
    )
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1
    assert "the instructor fixture broke" in result.stdout  # pytest's own report of it
    assert "test_a_first.py:6: in setup_data" in result.stdout  # with where it broke
    assert "1 public check(s) could not run: the error is in the check itself" in result.stdout
    assert "test_a_first.py::test_with_data" in result.stdout
    assert result.stdout.count("public checks by rubric item") == 1  # the summary once


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("import numpy as np\ndef test_mine(:\n    pass\n", ["line 2", "SyntaxError"]),
        (
            "import os\nimport no_such_module_here\n",
            ["test_mine.py:2: in <module>", "No module named 'no_such_module_here'"],
        ),
        (
            "import os\nfoo = undefined_name\n",
            ["test_mine.py:2: in <module>", "NameError: name 'undefined_name' is not defined"],
        ),
    ],
)
def test_a_students_own_test_file_that_does_not_import_is_named_and_the_checks_still_run(
    tmp_path: Path, source: str, said: list[str]
) -> None:
    """pytest's exit status 2 means a collection error as well as Ctrl-C: check used to print
    only "interrupted" and exit 130, and no public check ran."""
    folder = student_folder(tmp_path, solution=True)
    (folder / "test_mine.py").write_text(source)
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "interrupted" not in result.stdout + result.stderr
    assert "test_mine.py could not be imported, so none of its checks ran:" in result.stdout
    for words in said:
        assert words in result.stdout
    assert "_pytest" not in result.stdout and "importlib" not in result.stdout  # only its frames
    assert result.stdout.count("public checks by rubric item") == 1
    assert "27/27 public checks passed" in result.stdout


def test_a_released_test_file_that_does_not_import_says_no_check_ran(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    with (folder / "test_linear.py").open("a") as tests:
        tests.write("\ndef (:\n")
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "test_linear.py could not be imported, so none of its checks ran:" in result.stdout
    assert "SyntaxError" in result.stdout
    assert "No public check ran. If the file above is one you were given" in result.stdout


def test_a_conftest_that_does_not_import_is_shown(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    (folder / "conftest.py").write_text("import no_such_module_for_check\n")
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1
    assert "No module named 'no_such_module_for_check'" in result.stdout
    assert "pytest stopped, for the reason shown above" in result.stdout
    assert "are the test files" not in result.stdout


def test_a_module_that_is_a_folder_is_named(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=False)
    (folder / "linear.py").unlink()
    (folder / "linear.py").mkdir()
    result = run_cli("check", cwd=folder)
    assert result.returncode == 2
    assert "linear.py is not a file" in result.stderr


def test_check_verbose_shows_pytest_and_the_summary_once(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    result = run_cli("check", "-v", cwd=folder)
    assert result.returncode == 0, result.stdout
    assert "passed" in result.stdout and "test_linear.py" in result.stdout  # pytest's report
    assert result.stdout.count("public checks by rubric item") == 1


def started_check(folder: Path) -> subprocess.Popen[str]:
    """``autograder check`` in ``folder``, running (to be signalled), its output piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "autograder", "check"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_a_signal_during_check_stops_it_with_its_exit_status(
    tmp_path: Path, signum: int, code: int
) -> None:
    folder = student_folder(tmp_path, solution=True)
    (folder / "linear.py").write_text("while True:\n    pass\n")
    process = started_check(folder)
    time.sleep(3)  # inside the first test, waiting for the endless import
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert process.returncode == code, out + err
    assert "Traceback" not in out + err


def test_a_check_stopped_and_continued_says_its_result_may_be_the_pauses(
    tmp_path: Path,
) -> None:
    """Ctrl-Z stops check, not the sandboxed code: a call that ran past its limit during the
    pause came back "in time". The student is told to run it again."""
    folder = student_folder(tmp_path, solution=True)
    with (folder / "linear.py").open("a") as module:
        module.write("\n\nimport time\n\ntime.sleep(2)\n")
    process = started_check(folder)
    time.sleep(1)  # the file's import is sleeping in its sandbox
    process.send_signal(signal.SIGSTOP)
    time.sleep(0.5)
    process.send_signal(signal.SIGCONT)
    out, err = process.communicate(timeout=120)
    assert "This check was stopped and continued (Ctrl-Z, then fg) while it ran" in out, out + err
    assert "Run autograder check again.)" in out
    # Not paused: not said.
    result = run_cli("check", cwd=folder)
    assert "public checks passed" in result.stdout and "stopped and continued" not in result.stdout


def test_printing_in_a_graded_function_costs_nothing(tmp_path: Path) -> None:
    # The public checks call linear_forward many times: 4 KB printed each time adds up past
    # the 64 KiB kept, and must not fail the later checks (grade would give full marks).
    folder = student_folder(tmp_path, solution=True)
    with (folder / "linear.py").open("a") as module:
        module.write(
            "\n\n_forward = linear_forward\n\n\n"
            "def linear_forward(x, W, b):\n    print('f' * 4000)\n    return _forward(x, W, b)\n"
        )
    result = run_cli("check", cwd=folder)
    assert result.returncode == 0, result.stdout
    assert "✘" not in result.stdout
    # What was printed is shown: the 64 KiB kept (and said to be cut), each line cut short.
    assert "\nYour code printed, or numpy warned (all that was kept of more):\n" in result.stdout, (
        result.stdout
    )
    assert result.stdout.count("   | " + "f" * 200 + " [...]\n") > 10, result.stdout
    assert "[output truncated]" not in result.stdout


def test_check_and_plain_pytest_show_what_the_code_printed(tmp_path: Path) -> None:
    """print() in a student's function runs in the worker; without this, a student debugging
    by printing would see nothing at all (grading shows it on the feedback page)."""
    folder = student_folder(tmp_path, solution=True)
    source = (folder / "linear.py").read_text()
    (folder / "linear.py").write_text(
        source.replace("    x, W = cache\n", "    x, W = cache\n    print('DEBUG', dy.shape)\n", 1)
    )
    for out in (run_cli("check", cwd=folder).stdout, plain_pytest(folder).stdout):
        assert "\nYour code printed, or numpy warned (the first 20 of" in out, out
        assert "   | DEBUG (2, 4)\n" in out, out  # the worked example's dy comes first


def test_a_numpy_warning_is_shown_with_what_the_code_printed(tmp_path: Path) -> None:
    # Warnings reach the same output as print(): the heading must not call them the student's.
    folder = student_folder(tmp_path, solution=True)
    source = (folder / "linear.py").read_text()
    (folder / "linear.py").write_text(
        source.replace("    x, W = cache\n", "    x, W = cache\n    np.log(np.zeros(1))\n", 1)
    )
    out = run_cli("check", cwd=folder).stdout
    assert "\nYour code printed, or numpy warned" in out, out
    assert "RuntimeWarning: divide by zero encountered in log" in out, out


def notebook_with_the_reference(folder: Path) -> None:
    """Fill in the released notebook's stub cells with the reference's functions."""
    reference = (REPO / "solutions" / "linear" / "linear.py").read_text()
    notebook = json.loads((folder / "linear.ipynb").read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "not implemented yet" in source:
            name = re.search(r"def (\w+)", source).group(1)  # type: ignore[union-attr]
            cell["source"] = re.search(rf"(def {name}\(.*?)(?=\ndef |\Z)", reference, re.S).group(1)  # type: ignore[union-attr]
    (folder / "linear.ipynb").write_text(json.dumps(notebook))


def test_check_takes_the_notebook_a_student_filled_in(tmp_path: Path) -> None:
    # The release has linear.py and linear.ipynb; the student did the notebook. As grade does,
    # check takes the file that is no longer the stub, not the untouched linear.py.
    folder = student_folder(tmp_path, solution=False)
    notebook_with_the_reference(folder)
    # A cell that fails (as in nbgrader, the others still run) is named above the checks.
    notebook = json.loads((folder / "linear.ipynb").read_text())
    notebook["cells"].append({"cell_type": "code", "source": "plt.plot(losses)\n"})
    (folder / "linear.ipynb").write_text(json.dumps(notebook))
    failed = (
        "Note: A cell of linear.ipynb raised an error, so what that cell defines after the "
        "error is missing; the other cells ran anyway, as nbgrader runs them. NameError at "
        f"linear.ipynb cell {len(notebook['cells'])} (counting every cell from the top, "
        "markdown included), line 1: name 'plt' is not defined.\n"
    )  # Jupyter shows no cell numbers: the student counts, so say how
    result = run_cli("check", cwd=folder)
    assert result.returncode == 0, result.stdout
    assert failed in result.stdout
    assert "(This checked linear.ipynb: linear.py has more of the released stub left." in (
        result.stdout
    )
    # Naming a file checks that one.
    result = run_cli("check", "linear.py", cwd=folder)
    assert result.returncode == 1
    assert "linear_forward is not implemented yet" in result.stdout
    assert "(This checked linear.py. To check the other one: autograder check linear.ipynb." in (
        result.stdout
    )
    # What grading does with both files, in short: the handout and the notebook say it whole.
    assert "Hand in only one: if both differ from the release, neither is graded.)" in (
        result.stdout
    )
    assert len(result.stdout.rsplit("\n(This checked", 1)[1]) < 200, result.stdout
    # Checked from the folder above, the command offered works from there too.
    result = run_cli("check", folder.name, cwd=folder.parent)
    assert result.returncode == 0, result.stdout
    assert f"To check the other one: autograder check {folder.name}/linear.py." in result.stdout
    # Plain pytest in the folder picks the same file as check.
    done = plain_pytest(folder)
    assert done.returncode == 0, done.stdout
    assert failed in done.stdout


def test_check_of_a_path_that_does_not_exist_says_so(tmp_path: Path) -> None:
    result = run_cli("check", tmp_path / "nowhere", cwd=tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path / 'nowhere'} does not exist" in result.stderr


def test_a_students_own_failing_test_is_shown(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    (folder / "test_mine.py").write_text('def test_mine():\n    assert 1 == 2, "my own check"\n')
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1
    assert "✘ Other tests (no rubric item, not graded): 0/1 passed" in result.stdout
    assert "- failed: test_mine.py::test_mine: my own check" in result.stdout
    # Not a public check: the total counts those alone, the items' checks.
    counts = re.findall(r"\[\w+, [\d.]+ pts?\]: \d+/(\d+) public checks", result.stdout)
    total = sum(map(int, counts))
    assert total > 0 and f"\n{total}/{total} public checks passed." in result.stdout


def test_check_names_the_files_it_cannot_take(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=True)
    result = run_cli("check", "test_linear.py", cwd=folder)
    assert result.returncode == 2
    assert "test_linear.py holds the checks, not your code: name linear.py" in result.stderr
    # A broken notebook beside the stub: check the readable one, and say what is wrong.
    (folder / "linear.py").write_text((REPO / "assignments" / "linear" / "linear.py").read_text())
    (folder / "linear.ipynb").write_text("{ not json")
    result = run_cli("check", cwd=folder)
    assert "(This checked linear.py: linear.ipynb is not a valid Jupyter notebook" in result.stdout


def test_check_of_a_linked_file_stays_in_its_folder(tmp_path: Path) -> None:
    folder = student_folder(tmp_path, solution=False)
    elsewhere = tmp_path / "work" / "mine.py"
    elsewhere.parent.mkdir()
    elsewhere.write_text((REPO / "solutions" / "linear" / "linear.py").read_text())
    (folder / "linear.py").unlink()
    (folder / "linear.py").symlink_to(elsewhere)
    result = run_cli("check", "linear.py", cwd=folder)
    assert "has no rubric.yml" not in result.stderr
    assert "linear.py is a symbolic link" in result.stderr  # as grade would refuse it


def test_the_mlp_worked_examples_tell_an_extra_one_over_b_from_a_factor_of_two(
    tmp_path: Path,
) -> None:
    # The worked examples have B = 3, not 2: dividing by B again makes dW 1/B of the right
    # answer, and the hint can say so without hedging between a factor of 2 and of B.
    folder = tmp_path / "mlp"
    shutil.copytree(REPO / "assignments" / "mlp", folder)
    reference = (REPO / "solutions" / "mlp" / "mlp.py").read_text()
    wrong = reference.replace("    return dx, dW, db\n", "    return dx, dW / x.shape[0], db\n", 1)
    assert wrong != reference
    (folder / "mlp.py").write_text(wrong)
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1
    assert "dW is 1/B of the right answer (B = 3): there is an extra division" in result.stdout
    assert "here the batch size B is 2 as well" not in result.stdout


def test_check_says_an_error_and_a_hint_once(tmp_path: Path) -> None:
    """A file that does not run fails every check the same way, and float32 outputs give the
    same hint for every output: shown once, then 'as under [item] above (N checks)' or the
    headline alone."""
    folder = student_folder(tmp_path, solution=True)
    source = (folder / "linear.py").read_text()
    (folder / "linear.py").write_text(
        source.replace("\ndef linear_forward", "\nX = (1\ndef linear_forward", 1)
    )
    out = run_cli("check", cwd=folder).stdout
    assert out.count("'(' was never closed") == 1, out
    assert "'(' was never closed (2 checks)\n" in out, out  # forward's two, said once
    assert out.count("- error: as under [forward] above (") == 5, out  # one per other item
    assert "- error: as under [forward] above (12 checks)" in out  # shapes: every check
    float32 = source.replace("return y, cache", "return y.astype(np.float32), cache")
    float32 = float32.replace("return dx, dW, db", "return dx, dW, db.astype(np.float32)")
    (folder / "linear.py").write_text(float32)
    out = run_cli("check", cwd=folder).stdout
    assert out.count("has dtype float32, expected float64") > 3, out
    assert out.count("float32 keeps only about 7 significant digits") == 1, out


def test_functions_from_a_module_getattr_are_said_to_need_a_def(tmp_path: Path) -> None:
    """PEP 562: ``from linear import linear_forward`` works in plain Python, but the grader
    calls only what the module defines; it said just "does not define"."""
    folder = student_folder(tmp_path, solution=True)
    source = (folder / "linear.py").read_text()
    source = source.replace("def linear_forward(", "def _forward(")
    source += "\n\ndef __getattr__(name):\n    return {'linear_forward': _forward}[name]\n"
    (folder / "linear.py").write_text(source)
    out = run_cli("check", cwd=folder).stdout
    assert (
        "linear.py does not define a function named linear_forward (a module-level __getattr__ "
        "is not asked for the graded functions: define linear_forward with def"
    ) in out, out


def test_check_says_which_file_it_took_when_the_module_was_renamed(tmp_path: Path) -> None:
    """With linear.py renamed, check quietly checked the notebook's stub instead."""
    folder = student_folder(tmp_path, solution=True)
    (folder / "linear.py").rename(folder / "my_linear.py")
    out = run_cli("check", cwd=folder).stdout
    assert (
        "(This checked linear.ipynb: there is no linear.py here. my_linear.py is not checked, "
        "nor graded: the grader takes linear.py (or linear.ipynb).)"
    ) in out, out


def test_check_says_a_copy_beside_the_file_is_not_graded(tmp_path: Path) -> None:
    """A student who edited their browser's second download, "linear (1).py", got feedback on
    the untouched linear.py with no hint why; grade names the copy, and now check does too."""
    folder = student_folder(tmp_path, solution=False)
    copy = folder / "linear (1).py"
    copy.write_text((REPO / "solutions" / "linear" / "linear.py").read_text())
    later = (folder / "linear.py").stat().st_mtime + 60
    os.utime(copy, (later, later))
    result = run_cli("check", cwd=folder)
    assert result.returncode == 1
    assert (
        "(This checked linear.py, not linear (1).py (saved after linear.py) beside it: only "
        "linear.py (or linear.ipynb) is graded.)"
    ) in result.stdout, result.stdout
    # Checked by its name, the copy passes: it is still not the file graded.
    result = run_cli("check", copy.name, cwd=folder)
    assert result.returncode == 0, result.stdout
    assert (
        "(This checked linear (1).py, which is not graded: only linear.py (or linear.ipynb) is "
        "graded.)"
    ) in result.stdout, result.stdout
    assert "To check the other one" not in result.stdout


def test_an_item_of_one_point_is_one_pt(tmp_path: Path) -> None:
    from tests.cli.toy_course import make_toy

    toy = make_toy(tmp_path / "toy-course")
    public = toy / "solutions" / "toy" / "public"
    public.mkdir()
    (public / "test_layout.py").write_text(
        'import pytest\n\n\n@pytest.mark.rubric("layout")\ndef test_runs(submission):\n'
        "    submission.scale_sum\n"
    )
    assert run_cli("release", cwd=toy).returncode == 0
    result = run_cli("check", cwd=toy / "assignments" / "toy")
    assert "[layout, 1 pt]: 1/1 public checks passed" in result.stdout, result.stdout


def on_a_terminal(command: list[str], cwd: Path, columns: int) -> str:
    """What ``command`` shows on a terminal ``columns`` wide (a pseudo-terminal)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env
    )
    os.close(terminal)
    shown, deadline = bytearray(), time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if not select.select([controller], [], [], 1)[0]:
                if process.poll() is not None:  # ended, and all it showed was read
                    break
                continue  # not a word yet (a loaded machine): it has not ended
            try:
                data = os.read(controller, 1 << 16)
            except OSError:  # EIO: the command has ended and closed the terminal
                break
            if not data:
                break
            shown += data
    finally:
        os.close(controller)
        process.wait(timeout=60)
    return shown.decode().replace("\r\n", "\n")


def test_what_a_terminal_shows_is_read_however_late_the_first_word(tmp_path: Path) -> None:
    """A command silent for a second (a slow start on a loaded machine) showed nothing."""
    late = [sys.executable, "-c", "import time; time.sleep(1.5); print('late')"]
    assert on_a_terminal(late, tmp_path, columns=72) == "late\n"


def transposed_dw_and_mean_db(tmp_path: Path) -> Path:
    """A student folder whose dW is transposed and whose db is a mean: long hints."""
    folder = student_folder(tmp_path, solution=True)
    code = (folder / "linear.py").read_text()
    code = code.replace("dW = x.T @ dy", "dW = (x.T @ dy).T").replace(
        "dy.sum(axis=0)", "dy.mean(axis=0)"
    )
    (folder / "linear.py").write_text(code)
    return folder


def test_check_wraps_its_lines_to_the_terminal_under_their_own_text(tmp_path: Path) -> None:
    folder = transposed_dw_and_mean_db(tmp_path)
    piped = run_cli("check", cwd=folder).stdout
    hint = next(line for line in piped.splitlines() if "Hint: dW is exactly the transpose" in line)
    assert len(hint) > 100  # one line where nothing wraps it: a log, a pipe, an editor's pane

    shown = on_a_terminal([sys.executable, "-m", "autograder", "check"], folder, columns=72)
    lines = shown.splitlines()
    assert "Weight gradient dL/dW" in shown and lines, shown
    assert max(len(line) for line in lines) <= 72, shown
    start = next(n for n, line in enumerate(lines) if "Hint: dW is exactly the transpose" in line)
    rest = []  # the hint's continuation lines: under its first word, not at column 0
    for line in lines[start + 1 :]:
        if not line.startswith(" " * 7) or line.lstrip().startswith("Hint:"):
            break
        rest.append(line)
    assert rest and all(line[7] != " " for line in rest), shown
    # Every word is there, in its order: wrapping only moved the breaks.
    assert " ".join(lines[start : start + 1 + len(rest)]).split() == hint.split()
    assert shown.split() == piped.split()


def test_plain_pytest_wraps_the_rubric_summary_to_the_terminal(tmp_path: Path) -> None:
    folder = transposed_dw_and_mean_db(tmp_path)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no"]
    lines = on_a_terminal(command, folder, columns=72).splitlines()
    first = next(n for n, line in enumerate(lines) if "public checks by rubric item" in line)
    last = next(n for n, line in enumerate(lines) if "public checks passed. Your grade" in line)
    summary = lines[first : last + 2]
    assert any("Hint: dW is exactly the transpose" in line for line in summary), lines
    assert max(len(line) for line in summary) <= 72, "\n".join(summary)


@pytest.mark.parametrize(
    "line",
    [
        "   | " + "printed " * 30,  # what the student's code printed: as it was
        " " * 50 + "a narrow terminal leaves too few columns " * 3,
    ],
    ids=["printed", "narrow"],
)
def test_lines_that_wrapping_would_spoil_stay_as_they_are(line: str) -> None:
    assert wrap_line(line, 72) == line


def test_a_word_longer_than_the_line_is_not_broken() -> None:
    path = "/very/long/path" * 10
    assert wrap_line(f"     - error: cannot read {path}", 72).splitlines() == [
        "     - error: cannot read",
        f"       {path}",
    ]


def test_a_wrapped_stream_wraps_whole_lines_and_leaves_pytests_report_alone() -> None:
    out = io.StringIO()
    stream = WrappedStream(out, 40)
    stream.write("     - wrong: one two three four five six ")
    stream.write("seven eight nine\n")
    stream.verbatim("E   code = x.T @ dy  # a long line of pytest's report, as it was\n")
    stream.writelines([" ✘ An item with a long title [dW, 4 pts]: 0/3 public checks passed\n"])
    stream.flush()
    assert out.getvalue().splitlines() == [
        "     - wrong: one two three four five",
        "       six seven eight nine",
        "E   code = x.T @ dy  # a long line of pytest's report, as it was",
        " ✘ An item with a long title [dW, 4",
        "   pts]: 0/3 public checks passed",
    ]


def test_check_on_a_terminal_shows_a_last_line_without_its_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wrapped stream keeps a line until its newline: one never ended was never shown."""
    import argparse

    from autograder import check, cli

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def checked(path: Path, *, verbose: bool, stream: io.StringIO) -> int:
        stream.write("1/2 public checks passed.\n(a note with no newline)")
        return 1

    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(check, "run_check", checked)
    assert cli.cmd_check(argparse.Namespace(folder=tmp_path, verbose=False)) == 1
    assert terminal.getvalue() == "1/2 public checks passed.\n(a note with no newline)"
