from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "submissions" / "linear"


def run_cli(
    *args: str | Path,
    cwd: Path,
    timeout: float = 300,
    env: dict[str, str] | None = None,
    program: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``autograder`` as a user would: a separate process, output captured. ``program``
    runs instead of ``-m autograder`` (given ``args`` as its own): one that patches something,
    then calls ``cli.main``."""
    full_env = dict(os.environ, AUTOGRADER_SECRET="cli-test-secret", **(env or {}))
    start = ["-c", program] if program is not None else ["-m", "autograder"]
    return subprocess.run(
        [sys.executable, *start, *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def plain_pytest(folder: Path) -> subprocess.CompletedProcess[str]:
    """``pytest`` in a student's folder, as a student would run it."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    """The repository's course (course.yml, solutions/, assignments/) copied into tmp."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(REPO / "course.yml", root / "course.yml")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "solutions", root / "solutions", ignore=ignore)
    shutil.copytree(REPO / "assignments", root / "assignments", ignore=ignore)
    return root
