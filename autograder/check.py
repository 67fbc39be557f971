"""``autograder check``: a student's instant, rubric-shaped feedback from the public tests.

The public tests run through the same plugin and sandbox as grading (``local`` mode of
``autograder.plugin``), so what the student sees here is what the grader does, minus the hidden
inputs.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import signal
from pathlib import Path
from typing import IO

import pytest

from autograder.errors import UsageError
from autograder.limits import GradingLimits
from autograder.plugin import STATE, SUMMARY_PRINTED_BY_CALLER
from autograder.rubric import load_rubric
from autograder.scoring import PASSED, TestOutcome
from autograder.submissions import choose_local_file, copies_beside, read_source
from autograder.summary import print_check_summary


class _Collector:
    """Picks up the outcomes the plugin recorded, once the session is over."""

    def __init__(self, *, prints_summary: bool = True) -> None:
        self.prints_summary = prints_summary  # check prints it (else pytest's report ends with it)
        self.outcomes: list[TestOutcome] = []
        self.exit_status: int = 0
        self.failed: list[str] = []  # test ids of every failed report, recorded or not
        self.note = ""  # the cells of a notebook that raised, if any
        self.printed = ""  # what the student's code printed
        self.ran = True  # False: the student's file itself did not run (a SyntaxError, ...)
        self.interrupted = False  # Ctrl-C (pytest's exit status 2 also means a collection error)
        # Test files that could not be collected: (file, pytest's words, trimmed).
        self.uncollected: list[tuple[str, str]] = []
        self.folder = Path.cwd()  # pytest's rootdir, once configured

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SUMMARY_PRINTED_BY_CALLER] = self.prints_summary
        self.folder = config.rootpath.resolve()

    def pytest_keyboard_interrupt(self) -> None:
        self.interrupted = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            parts = report.nodeid.split("::")
            self.failed.append(f"{Path(parts[0]).name}::{parts[-1]}")  # as plugin.test_id names it

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.failed.append(report.nodeid or "collecting the tests")
            self.uncollected.append(
                (report.nodeid or "collecting the tests", _why(report, self.folder))
            )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        state = session.config.stash.get(STATE, None)
        self.outcomes = list(state.outcomes) if state is not None else []
        if state is not None and state.run is not None:
            self.note = state.run.cells_note()
            self.ran = state.run.load_error is None
            self.printed = state.run.close()
        self.exit_status = int(exitstatus)


_FRAME = re.compile(r"(\S[^:]*\.py):\d+: in ")  # a frame in pytest's report


def _why(report: pytest.CollectReport, folder: Path) -> str:
    """pytest's report of a test file that could not be imported, without pytest's and
    importlib's own frames: the frames in ``folder`` and the error itself."""
    lines = report.longreprtext.splitlines()
    kept: list[str] = []
    for n, line in enumerate(lines):
        frame = _FRAME.match(line)
        if frame and Path(frame[1]).absolute().resolve().is_relative_to(folder):
            kept += [line, *lines[n + 1 : n + 2]]
        elif line.startswith("E "):
            kept.append(line[2:].removeprefix("  "))
    return "\n".join(kept) or report.longreprtext


def _as_typed(path: Path) -> str:
    """``path`` as the student would type it here: its name in its own folder, else relative
    to the current folder (``autograder check assignments/linear`` from the course's root)."""
    here = Path.cwd().resolve()
    shown = path.name if path.parent == here else os.path.relpath(path, here)
    return shlex.quote(shown)


def _verbatim(stream: IO[str], report: str) -> None:
    """pytest's own report, as pytest laid it out (not wrapped: it quotes code)."""
    getattr(stream, "verbatim", stream.write)(report)


def _quiet_pytest(args: list[str], collector: _Collector) -> tuple[int, str]:
    """``pytest -q`` with its output captured: (exit status, what it printed)."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        code = pytest.main([*args, "-q"], plugins=[collector])
    return int(code), captured.getvalue()


def run_check(path: Path, *, verbose: bool, stream: IO[str]) -> int:
    """Run the public tests for ``path`` (an assignment folder, or the student's file in one);
    print the summary; 0 when every check passed."""
    # Ctrl-Z stops this process, not the sandboxed code, which runs in a session of its own;
    # time limits are measured here, so a call may end "in time" during a pause, or a long
    # pause use up the time of the checks after it. Say so: the result may be the pause's.
    continued: list[int] = []
    try:
        before = signal.signal(signal.SIGCONT, lambda *_: continued.append(1))
    except ValueError:  # not the main thread: nothing to watch with
        before = None
    try:
        code = _run_check(path, verbose=verbose, stream=stream)
    finally:
        if before is not None:
            signal.signal(signal.SIGCONT, before)
    if continued:
        stream.write(
            "\n(This check was stopped and continued (Ctrl-Z, then fg) while it ran: time "
            "limits are measured by the clock, so a check may have passed or failed because "
            "of the pause. Run autograder check again.)\n"
        )
    return code


def _run_check(path: Path, *, verbose: bool, stream: IO[str]) -> int:
    path = path.absolute()  # not resolved: a linked file still belongs to this folder
    if not path.exists():
        raise UsageError(f"{path} does not exist")
    folder = (path.parent if path.is_file() else path).resolve()
    rubric_path = folder / "rubric.yml"
    if not rubric_path.is_file():
        raise UsageError(
            f"{folder} has no rubric.yml: run 'autograder check' inside an assignment folder "
            "(e.g. assignments/linear)"
        )
    rubric = load_rubric(rubric_path)
    notebook = folder / f"{rubric.module_stem}.ipynb"
    module = folder / rubric.module
    if path.is_file():
        if path.suffix not in (".py", ".ipynb"):
            raise UsageError(f"{path.name} is not a .py file or a notebook: name {module.name}")
        if (
            path.name.startswith("test_")
            or path.stem.endswith("_test")
            or path.name == "conftest.py"
        ):
            raise UsageError(f"{path.name} holds the checks, not your code: name {module.name}")
        chosen, reason = folder / path.name, ""
    else:
        chosen, reason = choose_local_file(folder, rubric.module)
    if chosen.exists() and not chosen.is_file():
        raise UsageError(f"{chosen} is not a file")
    if not chosen.is_file():
        raise UsageError(f"{folder} has no {rubric.module} (or {notebook.name}) to check")
    try:  # the plugin reads it again per test; a file it cannot read is said once, here
        source = read_source(chosen)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    collector = _Collector(prints_summary=not verbose)
    # A test file that does not import (the student's own, say) is reported, and the other
    # files' checks still run.
    args = [str(folder), "--rootdir", str(folder), "-p", "no:cacheprovider"]
    args += ["--continue-on-collection-errors"]
    args += ["--autograder-file", str(chosen)]
    if verbose:
        code, report = pytest.main(args, plugins=[collector]), ""
    else:
        # Without tracebacks: formatting pytest's report of every failed check, only to
        # discard it, was most of check's time (the mlp stub: 1.9 s, now 0.6 s).
        code, report = _quiet_pytest([*args, "--tb=line"], collector)
    if collector.interrupted:  # Ctrl-C: pytest caught it; exit 130 like the rest
        raise KeyboardInterrupt
    # pytest's own verdict: a conftest that fails to import ends it before any session hook.
    collector.exit_status = int(code)
    # A test that failed in a way the plugin did not record (its own fixture raised, a
    # conftest did not import) is the test's problem: say so, with pytest's own words.
    recorded = {o.nodeid for o in collector.outcomes}
    uncollected = dict(collector.uncollected)
    if uncollected and not verbose:
        # --tb=line keeps no frame of an error raised as a file is imported (a NameError at
        # line 2): collect again, only collect, with the frames.
        again = _Collector()
        _quiet_pytest([*args, "--collect-only", "--tb=short"], again)
        if again.interrupted:
            raise KeyboardInterrupt
        uncollected |= {name: why for name, why in again.uncollected if name in uncollected}
    broken = sorted(set(collector.failed) - recorded - set(uncollected))
    if broken and not verbose:
        # A check broken by itself is shown with pytest's own report, where it broke.
        again = _Collector()
        code, report = _quiet_pytest([*args, "--tb=short"], again)
        if again.interrupted:
            raise KeyboardInterrupt
        _verbatim(stream, report)
    if not collector.outcomes and not broken and not uncollected:
        if collector.exit_status in (0, 5):  # 5: pytest found no tests
            stream.write("No public check ran: are the test files (test_*.py) in this folder?\n")
        else:
            if not verbose:
                _verbatim(stream, report)
            stream.write("No public check ran: pytest stopped, for the reason shown above.\n")
        return 1
    if collector.outcomes and not verbose:  # with -v, pytest's own report ends with it
        print_check_summary(
            rubric,
            collector.outcomes,
            stream,
            collector.note,
            collector.printed,
            file_ran=collector.ran,
        )
    if not module.exists() and chosen == notebook and not path.is_file():
        others = sorted(
            f.name
            for f in folder.glob("*.py")
            if not (
                f.name.startswith("test_") or f.stem.endswith("_test") or f.name == "conftest.py"
            )
        )
        renamed = (
            f" {', '.join(others)} {'is' if len(others) == 1 else 'are'} not checked, nor graded: "
            f"the grader takes {module.name} (or {notebook.name})."
            if others
            else ""
        )
        stream.write(
            f"\n(This checked {notebook.name}: there is no {module.name} here.{renamed})\n"
        )
    elif chosen not in (module, notebook):  # named on the command line
        stream.write(
            f"\n(This checked {chosen.name}, which is not graded: only {module.name} "
            f"(or {notebook.name}) is graded.)\n"
        )
    elif copies := copies_beside(chosen, source, rubric.module, ()):
        # A browser's "linear (1).py" may be the file the student edited; grade takes the exact
        # name, as this did.
        stream.write(
            f"\n(This checked {chosen.name}, not {', '.join(copies)} beside it: only "
            f"{module.name} (or {notebook.name}) is graded.)\n"
        )
    if module.is_file() and notebook.is_file() and chosen in (module, notebook):
        other = notebook if chosen == module else module
        why = f": {reason}" if reason else ""
        stream.write(
            f"\n(This checked {chosen.name}{why}. To check the other one: autograder check "
            f"{_as_typed(other)}. Hand in only one: if both differ from the release, "
            "neither is graded.)\n"
        )
    if rubric.limits is None and collector.outcomes:
        default = GradingLimits()
        stream.write(
            f"\n(rubric.yml here has no limits: block, so this ran under the default limits "
            f"({default.call_timeout:g} s a call); grading uses the course's, which may be "
            "stricter. A release writes them at the end of rubric.yml.)\n"
        )
    for name, why in uncollected.items():
        stream.write(f"\n{name} could not be imported, so none of its checks ran:\n")
        stream.writelines(f"    {line}\n" for line in why.splitlines())
    if uncollected and not collector.outcomes:
        stream.write(
            "\nNo public check ran. If the file above is one you were given, not one of your "
            "own, tell your instructor.\n"
        )
    if broken:
        stream.write(
            f"\n{len(broken)} public check(s) could not run: the error is in the check itself "
            f"(shown above), not in your code: {', '.join(broken[:5])}\n"
        )
    if broken or uncollected:
        return 1
    return 0 if all(o.outcome == PASSED for o in collector.outcomes) else 1
