from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import run_cli


@pytest.mark.parametrize("command", ["release", "check", "grade", "verify", "export"])
def test_every_command_explains_itself_with_an_example(command: str, tmp_path: Path) -> None:
    result = run_cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "example" in result.stdout
    assert f"autograder {command}" in result.stdout


def test_no_command_prints_overview_and_exits_2(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert "autograder check" in result.stdout and "autograder grade" in result.stdout


def test_missing_course_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli("grade", "linear", tmp_path, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "no course.yml found" in result.stderr
    assert "Traceback" not in result.stderr
