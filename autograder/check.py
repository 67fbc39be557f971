"""``autograder check``: a student's instant, rubric-shaped feedback from the public tests.

The public tests run through the same plugin and sandbox as grading (``local`` mode of
``autograder.plugin``), so what the student sees here is what the grader does, minus the hidden
inputs.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import IO

import pytest

from autograder.errors import UsageError
from autograder.plugin import STATE
from autograder.rubric import load_rubric
from autograder.scoring import PASSED, TestOutcome
from autograder.submissions import read_source
from autograder.summary import print_check_summary


class _Collector:
    """Picks up the outcomes the plugin recorded, once the session is over."""

    def __init__(self) -> None:
        self.outcomes: list[TestOutcome] = []
        self.exit_status: int = 0

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        state = session.config.stash.get(STATE, None)
        self.outcomes = list(state.outcomes) if state is not None else []
        self.exit_status = int(exitstatus)


def run_check(folder: Path, *, verbose: bool, stream: IO[str]) -> int:
    """Run the public tests in ``folder``; print the summary; 0 when every check passed."""
    folder = folder.resolve()
    rubric_path = folder / "rubric.yml"
    if not rubric_path.is_file():
        raise UsageError(
            f"{folder} has no rubric.yml: run 'autograder check' inside an assignment folder "
            "(e.g. assignments/linear)"
        )
    rubric = load_rubric(rubric_path)
    notebook = folder / f"{rubric.module_stem}.ipynb"
    module = folder / rubric.module
    if not module.is_file() and not notebook.is_file():
        raise UsageError(f"{folder} has no {rubric.module} (or {notebook.name}) to check")
    try:  # the plugin reads it again per test; a file it cannot read is said once, here
        read_source(module if module.is_file() else notebook)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    collector = _Collector()
    args = [str(folder), "--rootdir", str(folder), "-p", "no:cacheprovider"]
    if verbose:
        pytest.main(args, plugins=[collector])
    else:
        captured = io.StringIO()
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            pytest.main([*args, "-q", "--tb=short"], plugins=[collector])
        if not collector.outcomes and collector.exit_status not in (0,):
            stream.write(captured.getvalue())
    if not collector.outcomes:
        stream.write("No public check ran: are the test files (test_*.py) in this folder?\n")
        return 1
    print_check_summary(rubric, collector.outcomes, stream)
    return 0 if all(o.outcome == PASSED for o in collector.outcomes) else 1
