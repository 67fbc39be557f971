"""One exception hierarchy for the whole package.

Two families live here, and they must never be confused:

* ``AutograderError`` and its subclasses are *the instructor's* problems (a broken rubric,
  a missing folder). The CLI catches the base class and maps it to an exit code, so a user
  sees ``file:line: problem`` instead of a traceback.
* ``StudentError`` and its subclasses describe what *a submission* did (raised, timed out,
  crashed, returned something that is not data). They never stop a run: the grader turns
  them into feedback and a score of zero for the affected tests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class AutograderError(Exception):
    """Base class for every error the CLI reports to the user without a traceback."""

    exit_code = 1


class ConfigError(AutograderError):
    """A course.yml, rubric.yml or test binding is invalid; reported as ``file:line: problem``."""

    exit_code = 2

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {problem}")


class BindingError(AutograderError):
    """The hidden tests cannot be collected or bound to the rubric; the message names the
    test's ``file:line`` (it is reported by the grading process that collected them)."""

    exit_code = 2


class UsageError(AutograderError):
    """The command line names something that does not exist or does not fit together."""

    exit_code = 2


class OutputError(AutograderError):
    """The output folder cannot be written (a full disk, no permission). Whatever was graded
    before is journaled, and no report is left half-written: the same command resumes."""

    exit_code = 4


# A grading process whose sandbox runner died under a submission exits with this, giving no
# result for it; the grader retries the submission in a new process.
RUNNER_LOST_EXIT = 75
# ... and with this when it was stopped and continued while it graded one (Ctrl-Z, SIGSTOP).
STOPPED_EXIT = 76


def describe(exc: OSError) -> str:
    """An OSError as a user reads it: ``No space left on device: /path`` (no errno, no repr)."""
    return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")


def beside_note(filename: str, errors: Sequence[StudentError], beside: Sequence[str]) -> str:
    """If the errors are imports or reads of files the student handed in beside ``filename``
    (``helpers.py``, ``mylib/``, ``data.txt``), say that only ``filename`` is graded."""
    present = set(beside)
    wanted = set()
    for error in errors:
        if error.exc_type in ("ModuleNotFoundError", "ImportError"):
            module = re.search(r"No module named '(\w+)", error.message)
            if module and f"{module.group(1)}.py" in present:
                wanted.add(f"{module.group(1)}.py")
            elif module and module.group(1) in present:
                wanted.add(f"{module.group(1)}/")
        elif error.exc_type == "FileNotFoundError":
            # open()'s words, or numpy's (np.loadtxt, np.genfromtxt): "data.txt not found."
            path = re.search(r"No such file or directory: '([^']+)'", error.message) or re.search(
                r"(?:^|: )([^:]+?) not found\.$", error.message
            )
            name = path.group(1).rstrip("/").rsplit("/", 1)[-1] if path else ""
            if name in present:
                wanted.add(name)
    if not wanted:
        return ""
    names = ", ".join(sorted(wanted))
    return (
        f"Only {filename} is graded, on its own: {names} beside it cannot "
        f"be imported or read while it runs. Put what it needs into {filename} itself."
    )


def failed_cells_note(
    filename: str,
    failed: Sequence[StudentError],
    source: str = "",
    total: int = 0,
    beside: Sequence[str] = (),
) -> str:
    """What a student is told about the cells of their notebook (whose script is ``source``)
    that raised (the others ran anyway, as nbgrader runs them); ``failed`` may be the first
    of ``total``. Empty when none did."""
    if not failed:
        return ""
    total = max(total, len(failed))
    if total == 1:
        which, what = "A cell", "that cell defines after the error"
    else:
        which, what = f"{total} cells", "each defines after its error"
    errors = "; ".join(error.describe() for error in failed)
    if total > len(failed):
        errors += f"; and {total - len(failed)} more"
    # A module the notebook wrote itself with %%writefile is no missing package.
    written = set(
        re.findall(r"^# \(IPython cell removed\) *%%writefile(?: +-a)? +(\w+)\.py", source, re.M)
    )
    wanted = {
        match.group(1)
        for error in failed
        if error.exc_type == "ModuleNotFoundError"
        and (match := re.match(r"No module named '(\w+)", error.message))
    } - {name.removesuffix(".py") for name in beside}  # handed in beside it: beside_note
    hint = ""
    if wanted & written:
        hint = (
            " Cells that write files (%%writefile) do nothing when your work is graded: put "
            "your code in the notebook's own cells."
        )
    elif wanted:
        hint = (
            " A package that is not installed where your work is graded stops its cell at the "
            "import: import such packages in a cell of their own."
        )
    return (
        f"{which} of {filename} raised an error, so what {what} is missing; the other "
        f"cells ran anyway, as nbgrader runs them. {errors}.{hint}"
    )


# Jupyter shows no cell numbers (an execution count "[7]" changes with every run): say how
# the number in an error's place is counted, or the student counts code cells only.
CELL_COUNTING = "counting every cell from the top, markdown included"


def place(cell: int | None, line: int | None) -> str:
    """Where a line is: ``line 12``, or in a notebook ``cell 3 (counting every cell from the
    top, markdown included), line 2``; ``cell 3 (...)`` alone without a line."""
    if not cell:
        return f"line {line}" if line is not None else ""
    counted = f"cell {cell} ({CELL_COUNTING})"
    return f"{counted}, line {line}" if line is not None else counted


class SandboxError(AutograderError):
    """The isolation machinery itself failed (not the student's code)."""

    exit_code = 3


class StudentError(Exception):
    """Something a submission did that made a call fail.

    ``kind`` is a short machine-readable tag; ``message`` is already safe to show to the
    student (capped in length, no hidden inputs added by the grader).
    """

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        exc_type: str | None = None,
        lineno: int | None = None,
        filename: str | None = None,
        cell: int | None = None,
        raised_in: str | None = None,
    ) -> None:
        self.message = message
        self.raised_in = raised_in  # the function of the student's that ``lineno`` is in
        self.exc_type = exc_type
        self.lineno = lineno  # in a notebook: the line within ``cell``
        self.filename = filename
        self.cell = cell  # a notebook's cell, counted as Jupyter shows them (from 1)
        self.hint = ""  # ours, never the student's text: what such an error usually means
        super().__init__(self.describe())

    @property
    def where(self) -> str:
        """``line 12``, or ``cell 3 (...), line 2`` (or ``cell 3 (...)``) in a notebook (see
        ``place``); empty without."""
        return place(self.cell, self.lineno)

    def describe(self) -> str:
        """One line for feedback, e.g. ``ValueError at linear.py line 12: shapes not aligned``."""
        if self.exc_type is None and not self.where and self.message:
            return self.message  # already a whole sentence (e.g. "f is not implemented yet")
        head = self.exc_type or self.kind
        if self.where:
            head += f" at {self.filename or 'your file'} {self.where}"
        line = f"{head}: {self.message}" if self.message else head
        return f"{line}\nHint: {self.hint}" if self.hint else line


# What numpy's most common errors in a backward pass usually mean, by exception type and the
# start of numpy's message. Only ever added to errors: a hint never makes code right or wrong.
_EXCEPTION_HINTS = (
    (
        "ValueError",
        re.compile(
            r"matmul: Input operand \d has a mismatch in its core dimension"
            r"|shapes \([\d, ]*\) and \([\d, ]*\) not aligned"
        ),
        "the inner sizes of a matrix product must agree, (n, k) @ (k, m): write down the shape "
        "of each factor. A missing or extra .T is the usual cause; on an array of more than "
        "two axes .T reverses all of them (np.swapaxes or a reshape to 2-D swaps just two).",
    ),
    (
        "ValueError",
        re.compile(r"operands could not be broadcast together"),
        "two arrays of an elementwise operation have shapes numpy cannot line up: write down "
        "the shape of each. A gradient has the shape of the variable it is taken with respect to.",
    ),
    (
        "ValueError",
        re.compile(r"cannot reshape array of size 0 into shape"),
        "reshape cannot work out a -1 when the array is empty (a batch of 0 examples): give "
        "that size itself, e.g. x.reshape(-1, D) rather than x.reshape(N, -1).",
    ),
    (
        "ValueError",
        re.compile(r"cannot reshape array of size \d+ into shape"),
        "reshape keeps every number of the array, so the sizes asked for must multiply to its "
        "size: write down the array's shape and the one asked for. To view x of shape "
        "(..., D) as rows, x.reshape(-1, D) lets numpy work out the number of rows.",
    ),
    (
        "ValueError",
        re.compile(r"output has more dimensions than subscripts given in einstein sum"),
        "np.einsum never sums away the axes that '...' stands for: with '...' in an input, the "
        "output must keep '...' too. To sum over every leading axis, name each axis with a "
        "letter, keep '...' in the output and sum those axes afterwards, or view the arrays as "
        "2-D first (x.reshape(-1, D)), which works for any number of leading axes.",
    ),
    (
        "ValueError",
        re.compile(
            r"operand has more dimensions than subscripts given in einstein sum"
            r"|einstein sum subscripts string contains too many subscripts for operand"
        ),
        "np.einsum needs one letter for each axis of each array, and the letters given do not "
        "match this array's number of axes: subscripts written for one shape ('bti' for "
        "(B, T, D)) fail on arrays with more or fewer axes. Write '...' for the leading axes, "
        "or view the arrays as 2-D first (x.reshape(-1, D)).",
    ),
    # What students leave at the top level of a script that the grader, importing the file,
    # trips on: a package of their own machine, a question to the keyboard, an exit.
    (
        "ModuleNotFoundError",
        re.compile(r"No module named '"),
        "that module is not there when your work is graded: your file runs on its own, with "
        "the packages of the grader's Python (numpy and the standard library). Remove the "
        "import and put what you need from a file of your own into this one; code that "
        'plots or compares with another library can stay under `if __name__ == "__main__":`, '
        "with its imports, since grading does not run that block.",
    ),
    (
        "EOFError",
        re.compile(r"EOF when reading a line"),
        "input() waits for someone to type, and nobody does while your work is graded: remove "
        'it, or keep it under `if __name__ == "__main__":`, which grading does not run.',
    ),
    (
        "SystemExit",
        re.compile(""),
        "sys.exit(), exit() and quit() stop the program, and your file is imported (and its "
        "functions called) when it is graded: remove them, or keep them under "
        '`if __name__ == "__main__":`, which grading does not run.',
    ),
)


def exception_hint(exc_type: str | None, message: str) -> str:
    """What an exception raised in student code usually means, or ``""``."""
    for kind, pattern, hint in _EXCEPTION_HINTS:
        if exc_type == kind and pattern.search(message):
            return hint
    return ""


class StudentException(StudentError):
    """The student's code raised an exception (``exc_type`` names it)."""

    kind = "exception"


class NotImplementedByStudent(StudentException):
    """The student's code raised ``NotImplementedError``: the stub has not been filled in."""

    kind = "not_implemented"


class MissingFunction(StudentError):
    """The submission does not define the function the test calls."""

    kind = "missing"


class StudentTimeout(StudentError):
    """A call (or the import) ran past its time or CPU limit; the worker was killed.

    Time limits count the worker's own time (wall clock minus waiting for a CPU)."""

    kind = "timeout"


class StudentCrash(StudentError):
    """The worker died (signal, ``os._exit``, memory limit, protocol violation)."""

    kind = "crash"


class BadReturn(StudentError):
    """The submission returned something that cannot cross the boundary as data."""

    kind = "bad_return"


class BudgetExhausted(StudentError):
    """The submission used up its total time budget; remaining tests are not run."""

    kind = "budget"


class WrongAnswer(AssertionError):
    """A hidden test's verdict that the submission's answer is wrong.

    Raised by the check helpers in the grader process. Its message is written for the
    student: it names shapes, dtypes, relative errors and a diagnosis, never hidden inputs.
    """


def students_failure(excinfo: Any) -> bool:
    """pytest's ``__tracebackhide__`` for the grader's frames between a test and the student's
    code: hidden when the failure is the student's (a wrong answer, an error in their code), so
    their report ends at the test's line and the message; a bug of ours still shows where."""
    return bool(excinfo.errisinstance((WrongAnswer, StudentError)))
