from __future__ import annotations

import datetime as dt
import errno
import multiprocessing
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from autograder.course import find_course, load_course
from autograder.errors import ConfigError, UsageError
from autograder.limits import GradingLimits

COURSE = """\
name: Test course
secret:
  env: TEST_AG_SECRET
  file: .autograder/secret
limits:
  call_timeout: 7
assignments:
  linear:
    title: Linear
    due: 2026-12-11T23:59:00Z
    limits:
      memory_mb: 256
"""


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    (tmp_path / "solutions" / "linear").mkdir(parents=True)
    (tmp_path / "course.yml").write_text(COURSE)
    return tmp_path


def test_loads_assignments_limits_and_due(course_dir: Path) -> None:
    course = load_course(course_dir / "course.yml")
    linear = course.assignment("linear")
    assert linear.title == "Linear"
    assert linear.due == dt.datetime(2026, 12, 11, 23, 59, tzinfo=dt.UTC)
    assert linear.limits == GradingLimits(call_timeout=7.0, memory_mb=256)
    assert linear.solution_dir == course_dir / "solutions" / "linear"
    assert linear.release_dir == course_dir / "assignments" / "linear"


@pytest.mark.parametrize(
    ("written", "due"),
    [
        ("2026-12-11", dt.datetime(2026, 12, 11, 23, 59, 59, tzinfo=dt.UTC)),
        ('"2026-12-11"', dt.datetime(2026, 12, 11, 23, 59, 59, tzinfo=dt.UTC)),  # quoted
        ("'2026-12-11'", dt.datetime(2026, 12, 11, 23, 59, 59, tzinfo=dt.UTC)),
        ('"2026-12-11 09:30"', dt.datetime(2026, 12, 11, 9, 30, tzinfo=dt.UTC)),
        ('"2026-12-11T09:30:00+01:00"', dt.datetime(2026, 12, 11, 8, 30, tzinfo=dt.UTC)),
    ],
)
def test_a_date_alone_is_the_end_of_that_day_quoted_or_not(
    course_dir: Path, written: str, due: dt.datetime
) -> None:
    path = course_dir / "course.yml"
    path.write_text(path.read_text().replace("due: 2026-12-11T23:59:00Z", f"due: {written}"))
    assert load_course(path).assignment("linear").due == due


def test_unknown_assignment_is_a_usage_error(course_dir: Path) -> None:
    with pytest.raises(UsageError, match="no assignment 'mlp'"):
        load_course(course_dir / "course.yml").assignment("mlp")


@pytest.mark.parametrize(
    ("old", "new", "line", "needle"),
    [
        ("call_timeout: 7", "call_timout: 7", 6, "unknown key 'call_timout'"),
        ("call_timeout: 7", "call_timeout: -1", 6, "must be positive"),
        ("call_timeout: 7", "call_timeout: .nan", 6, "must be positive"),
        ("env: TEST_AG_SECRET", "env: MY SECRET", 3, "must be an environment variable name"),
        ("call_timeout: 7", "call_timeout: .inf", 6, "at most 86400"),
        ("call_timeout: 7", "call_timeout: 0.000001", 6, "must be at least 0.01 (below it, no"),
        ("memory_mb: 256", "memory_mb: 8", 12, "must be at least 64"),
        ("memory_mb: 256", "memory_mb: 99999999999999999999", 12, "at most 1048576"),
        (
            "call_timeout: 7",
            "call_timout: 7",
            6,
            "known keys: budget_seconds, call_timeout, cpu_seconds, import_timeout, memory_mb",
        ),
        ("due: 2026-12-11T23:59:00Z", "due: 2026-13-45", 10, "'2026-13-45' is not a valid date"),
        ("  linear:", "  ? [linear, mlp]\n  :", 8, "a key must be a plain value, not a list"),
        ("due: 2026-12-11T23:59:00Z", "due: next friday", 10, "not an ISO date"),
        ("name: Test course", "nam: Test course", 1, "did you mean 'name'"),
        ("  linear:\n", "  other: {}\n  my-mlp:\n", 9, "assignment name 'my-mlp' must be an"),
        (
            "    limits:\n      memory_mb: 256",
            "  limits:\n    memory_mb: 256",
            11,
            "'limits' is a course key, not an assignment: indent it like 'assignments:'",
        ),
    ],
)
def test_bad_course_names_line(
    course_dir: Path, old: str, new: str, line: int, needle: str
) -> None:
    path = course_dir / "course.yml"
    path.write_text(COURSE.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_course(path)
    assert needle in str(info.value)
    assert info.value.line == line, str(info.value)


def test_secret_from_env_then_file_created_once(
    course_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    course = load_course(course_dir / "course.yml")
    monkeypatch.setenv("TEST_AG_SECRET", "from-env-0123456789")
    assert course.secret() == "from-env-0123456789"
    monkeypatch.delenv("TEST_AG_SECRET")
    first = course.secret()
    path = course_dir / ".autograder" / "secret"
    assert path.read_text().strip() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert f"note: created a new course secret in {path}" in capsys.readouterr().err
    assert course.secret() == first  # stable: regrades see the same inputs
    assert capsys.readouterr().err == ""  # said once, when it happens


def _first_secret(course_yml: str, start: float) -> str:
    # Another process, as a second 'autograder grade' started at the same moment would be.
    course = load_course(Path(course_yml))
    while time.time() < start:
        pass
    return course.secret()


def test_runs_that_start_together_in_a_fresh_clone_agree_on_one_secret(
    course_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two grading runs (two --out folders) started at once in a fresh clone: both create the
    # secret. Each must end up with the one that was stored, never its own, an empty file's
    # "the secret file is empty", or "cannot use the course secret file".
    monkeypatch.delenv("TEST_AG_SECRET", raising=False)
    path = course_dir / ".autograder" / "secret"
    context = multiprocessing.get_context("fork")
    for _ in range(10):
        shutil.rmtree(path.parent, ignore_errors=True)
        start = time.time() + 0.1
        with context.Pool(4) as pool:
            seen = pool.starmap(_first_secret, [(str(course_dir / "course.yml"), start)] * 4)
        assert set(seen) == {path.read_text().strip()}
        assert sorted(os.listdir(path.parent)) == ["secret"]  # no temporary file left


def test_a_secret_is_created_on_a_file_system_without_hard_links(
    course_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: object, target: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.delenv("TEST_AG_SECRET", raising=False)
    monkeypatch.setattr(os, "link", no_links)
    course = load_course(course_dir / "course.yml")
    first = course.secret()
    path = course_dir / ".autograder" / "secret"
    assert path.read_text() == first + "\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sorted(os.listdir(path.parent)) == ["secret"]
    assert course.secret() == first


def test_a_secret_from_the_environment_is_stripped_like_the_files(
    course_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = load_course(course_dir / "course.yml")
    monkeypatch.setenv("TEST_AG_SECRET", "from-env-0123456789\n")  # stored from a file
    assert course.secret() == "from-env-0123456789"
    monkeypatch.setenv("TEST_AG_SECRET", "  \n")  # blank: as if unset
    assert course.secret() == (course_dir / ".autograder" / "secret").read_text().strip()


def test_find_course_walks_up(course_dir: Path) -> None:
    deep = course_dir / "solutions" / "linear"
    assert find_course(deep) == course_dir / "course.yml"
    with pytest.raises(UsageError):
        find_course(Path("/"))


def test_short_secret_is_refused(course_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    course = load_course(course_dir / "course.yml")
    monkeypatch.setenv("TEST_AG_SECRET", "x")
    with pytest.raises(UsageError, match="shorter than 12 characters"):
        course.secret()


def _secret_is_a_folder(path: Path) -> None:
    path.mkdir(parents=True)


def _secret_is_dev_zero(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.symlink_to("/dev/zero")  # read to the end, it would fill the memory


def _secret_too_long(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("s" * 5000)


def _secret_not_utf8(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe" * 20)


def _secret_blank(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("  \n")


def _secret_dangling_link(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.symlink_to(path.parent / "gone")


def _secret_folder_is_a_file(path: Path) -> None:
    path.parent.write_text("not a folder")


@pytest.mark.parametrize(
    ("breakage", "needle"),
    [
        (_secret_is_a_folder, "is not a regular file"),
        (_secret_is_dev_zero, "is not a regular file"),
        (_secret_too_long, "is longer than 4096 bytes"),
        (_secret_not_utf8, "is not UTF-8 text"),
        (_secret_blank, "is empty: write a long random value in it, or delete it"),
        (_secret_dangling_link, "No such file or directory"),
        (_secret_folder_is_a_file, "autograder is a file"),
    ],
)
def test_a_broken_secret_file_is_a_usage_error(
    course_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    breakage: Callable[[Path], None],
    needle: str,
) -> None:
    monkeypatch.delenv("TEST_AG_SECRET", raising=False)
    path = course_dir / ".autograder" / "secret"
    breakage(path)
    course = load_course(course_dir / "course.yml")
    with pytest.raises(UsageError) as info:
        course.secret()
    assert needle in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("value", ['""', '" "', "secrets/"])
def test_a_secret_file_setting_that_is_no_file_names_its_line(course_dir: Path, value: str) -> None:
    path = course_dir / "course.yml"
    path.write_text(COURSE.replace("file: .autograder/secret", f"file: {value}"))
    with pytest.raises(ConfigError) as info:
        load_course(path)
    assert info.value.line == 4
    assert "must be the path of a file" in str(info.value)


def test_make_clean_keeps_the_course_secret(tmp_path: Path) -> None:
    """``make clean`` removes the venv and the demo's output, never ``.autograder/secret``."""
    repo = Path(__file__).resolve().parents[1]
    shutil.copy(repo / "Makefile", tmp_path / "Makefile")
    for folder in (".venv", "out", ".autograder"):
        (tmp_path / folder).mkdir()
    (tmp_path / ".autograder" / "secret").write_text("keep-this-secret-value\n")
    subprocess.run(["make", "-s", "clean"], cwd=tmp_path, check=True, timeout=60)
    assert not (tmp_path / ".venv").exists() and not (tmp_path / "out").exists()
    assert (tmp_path / ".autograder" / "secret").read_text() == "keep-this-secret-value\n"


def test_a_course_file_that_is_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "course.yml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        load_course(fifo)


def test_an_assignment_without_its_folder_stops_only_itself(course_dir: Path) -> None:
    path = course_dir / "course.yml"
    path.write_text(COURSE + "  mlp:\n    title: Not written yet\n")
    course = load_course(path)  # linear can still be used
    assert course.assignment("linear").solution_dir.is_dir()
    with pytest.raises(ConfigError) as info:
        course.assignment("mlp").rubric()
    assert (info.value.path, info.value.line) == (path, 13)
    assert "assignment 'mlp' has no folder solutions/mlp/" in str(info.value)
