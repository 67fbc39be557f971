from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import run_cli


@pytest.mark.parametrize(
    "command", ["release", "check", "grade", "verify", "export", "report", "sort-canvas"]
)
def test_every_command_explains_itself_with_an_example(command: str, tmp_path: Path) -> None:
    result = run_cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "example" in result.stdout
    assert f"autograder {command}" in result.stdout
    for status in ("130 interrupted", "143 terminated", "129 hung up", "141 the reader"):
        assert status in result.stdout


def test_no_command_prints_overview_and_exits_2(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    for command in ("check", "release", "grade", "verify", "export", "report", "sort-canvas"):
        assert f"autograder {command}" in result.stdout
    for status in ("2 bad command line", "4 cannot write", "130 interrupted", "141 the reader"):
        assert status in result.stdout


def test_an_unknown_option_is_said_with_the_commands_own_usage(tmp_path: Path) -> None:
    result = run_cli("grade", "linear", tmp_path, "--out", tmp_path / "o", "--bogus", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: autograder grade ")
    assert "autograder grade: error: unrecognized arguments: --bogus" in result.stderr
    result = run_cli("--bogus", cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: autograder [-h] COMMAND" in result.stderr


def test_missing_course_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("grade", "linear", tmp_path, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "no course.yml found" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["grade", "linear", "{bad}", "--out", "{tmp}/out"],
        ["grade", "linear", "{tmp}", "--out", "{bad}"],
        ["grade", "linear", "{tmp}", "--out", "{tmp}/out", "--course", "{bad}"],
        ["report", "{bad}"],
        ["export", "nbgrader", "linear", "--grades", "{bad}"],
        ["export", "nbgrader", "linear", "--grades", "{tmp}", "--db", "{bad}"],
        ["export", "gradescope", "linear", "--out", "{bad}"],
        ["sort-canvas", "linear", "{bad}"],
        ["release", "--course", "{bad}"],
        ["verify", "--course", "{bad}"],
        ["check", "{bad}"],
    ],
    ids=lambda args: "-".join(a for a in args if not a.startswith(("{", "-"))),
)
@pytest.mark.parametrize("kind", ["too-long", "link-loop"])
def test_a_path_the_system_cannot_look_up_is_refused_not_a_traceback(
    args: list[str], kind: str, tmp_path: Path
) -> None:
    """A name over 255 bytes (ENAMETOOLONG) or a loop of symbolic links (ELOOP, or Python's
    RuntimeError as a path is resolved) was a traceback, wherever the path was first used."""
    if kind == "too-long":
        bad, why = tmp_path / ("a" * 300), "File name too long"
    else:
        (tmp_path / "loop").symlink_to("loop")
        bad, why = tmp_path / "loop" / "x", "Too many levels of symbolic links"
    given = [arg.format(bad=bad, tmp=tmp_path) for arg in args]
    result = run_cli(*given, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{bad}: {why}" in result.stderr


def test_a_current_folder_that_was_deleted_is_said_not_a_traceback(tmp_path: Path) -> None:
    """Relative paths and the course are looked up from the current folder: one deleted
    under the shell (``rm -r`` from another terminal) made a traceback."""
    gone = tmp_path / "gone"
    program = f"""
import os, sys
from autograder import cli
os.mkdir({str(gone)!r}); os.chdir({str(gone)!r}); os.rmdir({str(gone)!r})
sys.exit(cli.main(sys.argv[1:]))
"""
    for args in (["release", "linear"], ["grade", "linear", ".", "--out", "out"]):
        result = run_cli(*args, cwd=tmp_path, program=program)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "error: the current folder no longer exists" in result.stderr


def test_a_class_that_does_not_exist_writes_nothing(course_copy: Path, tmp_path: Path) -> None:
    # It created the course secret and --out/.autograder/ first, for a run that cannot start.
    result = run_cli("grade", "linear", "nope", "--out", tmp_path / "out", cwd=course_copy)
    assert result.returncode == 2
    assert f"submissions folder {course_copy / 'nope'} does not exist" in result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert not (course_copy / ".autograder").exists()


def test_course_may_name_the_course_folder(course_copy: Path, tmp_path: Path) -> None:
    # "--course ~/course" was refused as "not a regular file": the folder holding it is meant.
    result = run_cli("release", "linear", "--course", course_copy, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "released linear" in result.stdout
    result = run_cli("release", "linear", "--course", course_copy / "solutions", cwd=tmp_path)
    assert result.returncode == 2
    assert "solutions is a folder without a course.yml; name the course.yml" in result.stderr
    assert "Traceback" not in result.stderr


# While the command's own modules load (numpy, yaml), Ctrl-C must already be handled as the
# command handles it later: SIGINT here is sent by the process itself the moment yaml
# starts to load, inside `from autograder.cli import ...`.
CTRL_C_WHILE_LOADING = """\
import importlib.abc, os, signal, sys

class SignalOnYaml(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "yaml":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, SignalOnYaml())
sys.argv = ["autograder", "grade", "--help"]
from autograder.__main__ import main
sys.exit(main())
"""


def test_ctrl_c_while_the_command_starts_is_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CTRL_C_WHILE_LOADING],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "interrupted"
    assert result.returncode == 130


def test_starting_the_command_loads_neither_numpy_nor_yaml() -> None:
    # What stands between the start and the handlers: keep it to the standard library.
    program = "import sys, autograder.__main__; print(sorted({'numpy', 'yaml'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_the_package_still_hands_out_its_helpers() -> None:
    import autograder

    for name in autograder.__all__:
        assert getattr(autograder, name) is not None
    assert autograder.expect_array.__module__ == "autograder.checks"
    assert set(autograder.__all__) <= set(dir(autograder))
    with pytest.raises(AttributeError, match="no attribute 'expect_nothing'"):
        autograder.expect_nothing  # noqa: B018


def test_a_facade_name_is_not_hidden_by_its_submodule() -> None:
    # autograder.checks imports the submodule autograder.diagnose, which the import system
    # binds on the package: the facade's diagnose must still be the function.
    program = (
        "import autograder.checks\n"
        "from autograder import diagnose\n"
        "import autograder\n"
        "print(callable(diagnose), callable(autograder.diagnose))"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.stdout.split() == ["True", "True"], result.stderr
