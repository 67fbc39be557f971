"""The pytest plugin: hidden and public tests are ordinary pytest functions.

Registered through the ``pytest11`` entry point, so it is active in every pytest run but inert
unless a test asks for one of its fixtures:

* ``submission`` -- a proxy for the student's module. Each call runs in an isolated worker
  process (``autograder.sandbox``); only plain data comes back, anything else stays in the
  worker behind an opaque ``Handle``.
* ``reference`` -- the instructor's reference module, imported here in the trusted process.
* ``rng`` -- a numpy Generator seeded by (course secret, student id, test id); ``rng_for``
  gives one per label instead, for inputs several tests share.
* ``submission.memo(key, compute)`` -- compute a value (say, the student's gradients on one
  input) once per submission and share it between tests.
* ``submission.batch(steps)`` -- several calls in one round trip, later ones taking items of
  earlier results (``Ref``); each ends exactly as the same calls one by one would.

Each test is bound to one rubric item with ``@pytest.mark.rubric("dW")``.

Two ways the plugin is driven:

* **grading** (``autograder grade``/``verify``): ``autograder.shard`` installs a
  ``GradingState`` in ``config.stash`` and runs the collected tests once per submission;
* **local** (plain ``pytest`` or ``autograder check`` in an assignment folder): the state is
  built on first use from the ``rubric.yml`` beside the tests, the submission is the module
  file beside it, and a terminal summary shows the rubric items.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import io
import re
import time
import traceback
from collections.abc import Callable, Generator, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from autograder.errors import (
    CELL_COUNTING,
    AutograderError,
    BudgetExhausted,
    NotImplementedByStudent,
    StudentCrash,
    StudentError,
    StudentTimeout,
    UsageError,
    WrongAnswer,
    beside_note,
    exception_hint,
    failed_cells_note,
    students_failure,
)
from autograder.limits import GradingLimits
from autograder.rubric import Rubric, TestBinding, load_rubric
from autograder.sandbox import codec
from autograder.sandbox.model import Handle, Ref, Step, StepResult
from autograder.scoring import ERROR, FAILED, INTERNAL, PASSED, TestOutcome
from autograder.submissions import choose_local_file, files_beside, read_source

RUBRIC_MARK = "rubric"
PUBLIC_SECRET = "public"  # students can reproduce public tests; hidden ones use the course secret


def limits_for_sandbox(limits: GradingLimits) -> Any:
    """The sandbox's per-worker limits from the course's grading limits."""
    from autograder.sandbox import Limits

    return Limits(
        call_timeout=limits.call_timeout,
        import_timeout=limits.import_timeout,
        cpu_seconds=limits.cpu_seconds,
        memory_mb=limits.memory_mb,
        output_kb=limits.output_kb,
    )


# ``if __name__ == "__main__":`` at the top level: what is under it does not run when graded.
_MAIN_GUARD = re.compile(r"""^if\s+__name__\s*==\s*['"]__main__['"]\s*:""", re.M)


def _missing_hint(source: str, function: str) -> str:
    """Why ``function`` may not be there when graded although the file defines it: under
    ``if __name__ == "__main__":``, in a Markdown or raw cell of a notebook, or in a cell
    written out by ``%%writefile``. A file that ``%run``s another may have it there."""
    defined = rf"def\s+{re.escape(function)}\s*\("
    if _MAIN_GUARD.search(source) and re.search(rf"^[ \t]+{defined}", source, re.M):
        return (
            ' (code under `if __name__ == "__main__":` does not run when your work is graded, '
            "since it is imported, not run as a script: define your functions outside it)"
        )
    elsewhere = re.search(rf"^# \(cell ([0-9]+), not run\) {defined}", source, re.M)
    if elsewhere:
        return (
            f" (it is in cell {elsewhere[1]} ({CELL_COUNTING}), which is not a code cell, so "
            "it does not run: make that cell a code cell)"
        )
    written = re.search(rf"^# \(IPython cell removed\) *{defined}", source, re.M)
    run = re.search(r"# \(IPython line removed\) %run\b", source)
    if written or (run and not re.search(defined, source)):
        return (
            " (%%writefile cells and %run lines do nothing when your work is graded: put your "
            "functions in the notebook's own cells)"
        )
    if re.search(r"^def\s+__getattr__\s*\(", source, re.M):
        return (
            " (a module-level __getattr__ is not asked for the graded functions: define "
            f"{function} with def, or assign it by name, e.g. {function} = _my_{function})"
        )
    return ""


# The most of one function's text parsed in the grader's own process (the file is the
# student's: a 2 MiB file took 2 s and 600 MB to parse, and a long enough expression makes
# the parser raise RecursionError).
PARSED_DEFINITION_CHARS = 64 * 1024


def _definition(source: str, function: str) -> str:
    """The text of ``function``'s top-level ``def`` in ``source``, up to the next top-level
    ``def`` or ``class``, found by a line scan; ``""`` if there is none."""
    start = re.search(rf"^def\s+{re.escape(function)}\s*\(", source, re.M)
    if start is None:
        return ""
    following = re.search(r"^(def|class)\s", source[start.end() :], re.M)
    return source[start.start() : start.end() + following.start() if following else None]


def _raise_left_beside_code(source: str, function: str) -> bool:
    """Whether ``function`` (at the top level of ``source``) has code of its own above or below
    a ``raise NotImplementedError`` in its body (below it, more than the stub's last
    ``return``): the student wrote the function but left the stub's ``raise`` line in, which a
    message that it "is not implemented yet" does not tell. Only the definition's own text is
    parsed, up to ``PARSED_DEFINITION_CHARS``; past that, or if it does not parse, no."""
    text = _definition(source, function)
    if len(text) > PARSED_DEFINITION_CHARS:
        return False
    try:
        tree = ast.parse(text)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == function:
                return _code_beside_raise(node.body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    return False


def _code_beside_raise(body: list[ast.stmt]) -> bool:
    """``_raise_left_beside_code`` for a function's parsed ``body``."""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    for index, statement in enumerate(body):
        if isinstance(statement, ast.Raise) and "NotImplementedError" in ast.unparse(statement):
            after = body[index + 1 :]
            if after and isinstance(after[-1], ast.Return):
                after = after[:-1]
            return any(not isinstance(s, ast.Pass) for s in body[:index] + after)
    return False


class StudentRun:
    """One submission under test: its worker (respawned after a crash) and its time budget."""

    def __init__(
        self,
        student: str,
        source: str,
        filename: str,
        module: str,
        limits: GradingLimits,
        sandbox: Any,
        clock: Callable[[], float] = time.monotonic,
        entropy: int | None = None,
        beside: Sequence[str] = (),
        locate_timeouts: bool = False,
    ) -> None:
        self.student = student
        self.beside = tuple(beside)  # the other files in the student's folder
        # A timeout says where the code was: for check and plain pytest, where a student
        # debugs; not when grading, whose feedback must be the same in every run.
        self.locate_timeouts = locate_timeouts
        # Seeds what the submission draws without a seed, per worker (see ``worker``).
        self.entropy = entropy
        self._spawns = 0
        self.source = source
        self._written: dict[str, bool] = {}  # _raise_left_beside_code, by function
        self.filename = filename
        self.module = module
        self.limits = limits
        self.sandbox = sandbox
        self._clock = clock
        self._spent = 0.0
        self._worker: Any = None
        self._outputs: list[str] = []
        self.load_error: StudentError | None = None
        # A notebook's cells that raised while it loaded (the others ran anyway).
        self.failed_cells: list[StudentError] = []
        self.failed_total = 0
        self._memo: dict[Hashable, tuple[bool, Any]] = {}
        # Functions that ran out of time: the input size they first did so at, and how often;
        # and the largest input size each function returned in time on.
        self._timed_out: dict[str, tuple[int, int]] = {}
        self._returned: dict[str, int] = {}
        # (worker, function, handle id): that function returned from a call given that object.
        self._given: set[tuple[int, str, int]] = set()

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per submission and key; later tests reuse the value or the error.

        Hidden tests share expensive work this way (one forward and backward per shape serves
        the dx, dW and db tests), and a crashing function is not called again for each test.
        """
        __tracebackhide__ = students_failure
        if key in self._memo:
            ok, value = self._memo[key]
            if ok:
                return value
            raise value.with_traceback(None)  # see ``worker``
        try:
            value = compute()
        except Exception as exc:
            self._memo[key] = (False, exc)
            raise
        self._memo[key] = (True, value)
        return value

    def worker(self) -> Any:
        """The live worker, spawning (or respawning after a crash) as needed."""
        __tracebackhide__ = students_failure
        if self.load_error is not None:
            # The same exception for every test: without its old traceback, or each raise
            # would add the frames of every earlier test to it (N copies in the Nth report).
            raise self.load_error.with_traceback(None)
        if self._worker is not None and self._worker.alive:
            return self._worker
        if self._worker is not None:
            self._retire()
        self._charge_budget()
        started = self._clock()
        worker = None
        try:
            worker = self.sandbox.spawn(
                self.source,
                filename=self.filename,
                module=self.module,
                limits=limits_for_sandbox(self.limits),
                entropy=self._worker_entropy(),
                locate_timeouts=self.locate_timeouts,
            )
        finally:
            # Running the file is charged like a call: without the worker's waits for a CPU.
            self._charge(started, worker.waited() if worker is not None else 0.0)
        self._worker = worker
        self.failed_cells, self.failed_total = worker.failed_cells, worker.failed_total
        if worker.load_error is not None:
            self.load_error = worker.load_error
            if not self.beside_note():  # which says why the module or file is not there
                self.load_error.hint = exception_hint(
                    self.load_error.exc_type, self.load_error.message
                )
                self.load_error.args = (self.load_error.describe(),)
            raise self.load_error
        return worker

    def cells_note(self) -> str:
        """What the student is told about the cells of their notebook that raised (and about
        the files beside it that the code looked for)."""
        note = failed_cells_note(
            self.filename, self.failed_cells, self.source, self.failed_total, self.beside
        )
        return " ".join(filter(None, [note, self.beside_note()]))

    def beside_note(self) -> str:
        """Said when running the file looked for a module or file that the student handed in
        beside it: only the file itself is graded."""
        errors = [self.load_error] if self.load_error is not None else self.failed_cells
        return beside_note(self.filename, errors, self.beside)

    def _explained(self, exc: StudentError, function: str, again: str) -> StudentError:
        """``exc``, raised by a call of ``function``, in the student's words (``_name_call``);
        one that looked for a module or file handed in beside the file says it is not there, and
        a stub's raise left beside the student's code says that it is still there."""
        written = False
        if isinstance(exc, NotImplementedByStudent):
            if function not in self._written:  # once a function: each of its calls raises
                self._written[function] = _raise_left_beside_code(self.source, function)
            written = self._written[function]
        exc = _name_call(exc, function, again, written=written)
        if note := beside_note(self.filename, [exc], self.beside):
            exc.hint = note
            exc.args = (exc.describe(),)
        return exc

    def _charge(self, started: float, waited: float) -> None:
        """Charge the budget for the time since ``started``, less ``waited`` (the worker's
        waits for a CPU, which never exceed that time), never less than nothing."""
        elapsed = self._clock() - started
        self._spent += elapsed - min(max(waited, 0.0), elapsed)

    def _worker_entropy(self) -> int | None:
        """The seed of the next worker's randomness: the first, second, ... worker of a
        submission draws the same coins on every regrade (one respawns after a crash)."""
        self._spawns += 1
        if self.entropy is None:
            return None
        return seed_for(str(self.entropy), self.student, f"worker:{self._spawns}")

    def call(
        self, function: str, args: tuple[Any, ...], echo_args: bool, keep: Sequence[int] = ()
    ) -> Any:
        __tracebackhide__ = students_failure
        refused = self._refused(function, args)
        if refused:
            raise StudentTimeout(refused)
        worker = self.worker()
        if function not in worker.functions:
            from autograder.errors import MissingFunction

            raise MissingFunction(
                f"{self.filename} does not define a function named {function}"
                + _missing_hint(self.source, function),
                exc_type=None,
            )
        self._charge_budget()
        started, waited = self._clock(), worker.waited()
        try:
            value = worker.call(function, *args, echo_args=echo_args, keep=keep)
            self._note_returned(function, args)
            return value
        except StudentError as exc:
            if isinstance(exc, StudentTimeout):
                self._note_timeout(exc, function, args)
            raise self._explained(exc, function, self._given_again(function, args)) from None
        finally:
            self._charge(started, worker.waited() - waited)

    def _refused(self, function: str, args: Sequence[Any]) -> str:
        """Why ``function`` is not called again on ``args``, or ``""``.

        A call that ran out of time is evidence about later calls at least as large: retrying
        an endless loop in each remaining check would spend the whole budget (and everyone's
        wall time) on it. Smaller calls still run, so code too slow only for the largest case
        loses that case, not the small ones after it; so do calls no larger than one that
        returned in time (size is not all that makes code slow). After ``MAX_TIMEOUTS`` none
        run: an endless loop costs one timeout when the smallest case comes first, two at most.
        """
        if function not in self._timed_out:
            return ""
        size, count = self._timed_out[function]
        limit = f"over {self.limits.call_timeout:g} s"
        if count >= MAX_TIMEOUTS:
            return (
                f"{function} did not finish in {count} earlier checks ({limit} each), so it "
                "was not run again"
            )
        asked = _input_size(args)
        if asked >= size and asked > self._returned.get(function, -1):
            return (
                f"{function} did not finish in an earlier check on inputs no larger than these "
                f"({limit}), so it was not run again"
            )
        return ""

    def _note_returned(self, function: str, args: Sequence[Any]) -> None:
        """``function`` returned in time on ``args``: calls up to their size are not refused,
        and an object of the worker's it was given is known to have been given it once."""
        self._returned[function] = max(self._returned.get(function, -1), _input_size(args))
        for arg in args:
            if isinstance(arg, Handle):
                self._given.add((self._spawns, function, arg.id))

    def _given_again(self, function: str, args: Sequence[Any]) -> str:
        """What to add to the error of a call that was given an object (a cache) an earlier
        call of the same function was given and returned from: a backward pass that deletes
        or empties its cache fails only the second time, which the error alone does not say."""
        for arg in args:
            if isinstance(arg, Handle) and (self._spawns, function, arg.id) in self._given:
                return (
                    f" (an earlier {function} call was given this same {arg.type_name} object "
                    f"and returned: does {function} delete or change what it is given?)"
                )
        return ""

    def _note_timeout(self, exc: StudentTimeout, function: str, args: Sequence[Any]) -> None:
        """Remember that ``function`` ran out of time on ``args`` (see ``_refused``), and point
        at a function that did so before if this one calls it: a loop in a helper times out
        every function that calls it (mlp_loss_and_grads calling a stuck relu_forward)."""
        earlier = [
            name
            for name in sorted(self._timed_out)
            if name != function
            and _calls(self.source, function, name)
            and f", in {name})" not in exc.message  # where it was says so already
        ]
        size, count = self._timed_out.get(function, (_input_size(args), 0))
        self._timed_out[function] = (size, count + 1)
        if earlier:
            exc.message += (
                f" ({', '.join(earlier)}, which {function} calls, did not finish in an earlier "
                "check either: the time may have gone there)"
            )
        elif self._worker is not None and self._worker.printed_past_cap:
            # Not how much: that depends on how fast it printed, and the words must not.
            exc.message += (
                f" (by then it had printed more than the {self.limits.output_kb} KiB of output "
                "kept: printing takes time, large arrays most, and the time may have gone there)"
            )

    def batch(self, steps: Sequence[Step]) -> list[StepResult]:
        """Run ``steps`` in order, as ``call`` would one by one, in as few round trips as can be.

        ``Ref`` arguments stand for items of earlier steps' results (a step whose ``Ref`` does
        not resolve is ``skipped``). Every step ends exactly as the same sequence of ``call``s
        would have ended it: each error is the one ``call`` raises; after a crash or timeout
        the remaining steps run one by one in a new worker (as later calls would), and once
        the time budget is spent the rest are refused.
        """
        __tracebackhide__ = students_failure
        results: list[StepResult] = []
        worker = None
        if not any(self._refused(step.function, step.args) for step in steps):
            try:
                worker = self.worker()
            except StudentError:
                worker = None  # the one-by-one path below raises it for every step
        if worker is not None and all(step.function in worker.functions for step in steps):
            try:
                self._charge_budget()
            except BudgetExhausted:
                pass
            else:
                started, waited = self._clock(), worker.waited()
                try:
                    done = worker.batch(steps, budget=self.limits.budget_seconds - self._spent)
                finally:
                    self._charge(started, worker.waited() - waited)
                for step, result in zip(steps, done, strict=True):
                    if result.not_run:
                        break
                    # The step's arguments as the worker had them (a Ref as the handle it was).
                    given = [
                        _item(steps, results, arg.step, arg.index, arg.length)
                        if type(arg) is Ref
                        else arg
                        for arg in step.args
                    ]
                    if result.error is None:
                        self._note_returned(step.function, given)
                    else:
                        if isinstance(result.error, StudentTimeout):
                            self._note_timeout(result.error, step.function, given)
                        again = self._given_again(step.function, given)
                        result = StepResult(
                            error=self._explained(result.error, step.function, again)
                        )
                    results.append(result)
        for step in steps[len(results) :]:
            args: list[Any] = []
            ok = all(_item(steps, results, s, 0, n) is not _UNRESOLVED for s, n in step.requires)
            for arg in step.args if ok else ():
                if type(arg) is Ref:
                    arg = _item(steps, results, arg.step, arg.index, arg.length)
                    if arg is _UNRESOLVED:
                        ok = False
                        break
                args.append(arg)
            if not ok:
                results.append(StepResult(skipped=True))
                continue
            try:
                value = self.call(step.function, tuple(args), step.echo, step.keep)
                results.append(StepResult(value))
            except StudentError as exc:
                results.append(StepResult(error=exc))
        return results

    def _charge_budget(self) -> None:
        if self._spent >= self.limits.budget_seconds:
            raise BudgetExhausted(
                f"this submission used up its {self.limits.budget_seconds:g} s time budget, "
                "so the remaining checks were not run"
            )

    def _retire(self) -> None:
        if self._worker is not None:
            self._outputs.append(self._worker.output)
            self._worker.close()
            self._worker = None

    def close(self) -> str:
        """Stop the worker; return everything the submission printed (capped per worker)."""
        self._retire()
        return "".join(self._outputs)


_UNRESOLVED = object()
MAX_TIMEOUTS = 2  # per function and submission: then it is not called again at all


def _calls(source: str, caller: str, callee: str) -> bool:
    """Whether the text of ``caller``'s definition in ``source`` names ``callee``: a guess at a
    call, from the source alone (up to the next top-level ``def`` or ``class``)."""
    body = _definition(source, caller).partition("(")[2]  # not the caller's own name
    return re.search(rf"\b{re.escape(callee)}\b", body) is not None


def _input_size(value: Any) -> int:
    """How many numbers a call's arguments hold (arrays, also inside tuples, lists and dicts;
    handles and ``Ref``s count nothing): the measure of "as large" for timeouts."""
    if isinstance(value, np.ndarray):
        return int(value.size)
    if isinstance(value, tuple | list):
        return sum(_input_size(item) for item in value)
    if isinstance(value, dict):
        return sum(_input_size(item) for item in value.values())
    return 0


def _item(
    steps: Sequence[Step], results: Sequence[StepResult], step: int, index: int, length: int
) -> Any:
    """Item ``index`` of step ``step``'s value if that is a tuple or list of ``length`` items
    (how ``Worker.batch`` resolves a ``Ref`` or a requirement), else ``_UNRESOLVED``."""
    if not 0 <= step < len(results) or not results[step].ok:
        return _UNRESOLVED
    value = results[step].value
    if steps[step].echo:
        value = value[0]  # (value, arguments after): a Ref means the value
    if type(value) not in (tuple, list) or len(value) != length or not 0 <= index < length:
        return _UNRESOLVED
    return value[index]


def _name_call(
    exc: StudentError, function: str, again: str = "", *, written: bool = False
) -> StudentError:
    """Say which function failed, in words a student recognises (and, for an exception it
    raised, ``again``: that it had returned from a call given the same object before).

    The message partly comes from student code (an exception's text): it is flattened to one
    line here so it can never pose as more feedback (a forged heading or score) further on.
    """
    exc.message = codec.CONTROL.sub(" ", exc.message).strip()
    if isinstance(exc, NotImplementedByStudent):
        where = f" at {exc.where}" if exc.lineno is not None else ""
        if written:  # code of the student's own beside the stub's raise line
            exc.message = (
                f"{function} still raises NotImplementedError{where}, beside code of yours: "
                "the stub's `raise NotImplementedError(...)` line is still in it; delete that line"
            )
        else:
            exc.message = (
                f"{function} is not implemented yet (it raises NotImplementedError{where})"
            )
        exc.exc_type = exc.lineno = exc.cell = None
    elif isinstance(exc, StudentTimeout | StudentCrash):
        exc.message = f"while running {function}: {exc.message}"
    else:
        if exc.raised_in and exc.raised_in != function and exc.lineno is not None:
            # The line is in a helper: name it, or the line seems to belong to the function.
            where = f"in {exc.raised_in}, called from {function}"
        else:
            where = f"in {function}"
        exc.message = f"{where}: {exc.message}" if exc.message else where
        exc.hint = exception_hint(exc.exc_type, exc.message)
        exc.message += again
    exc.args = (exc.describe(),)
    return exc


class SubmissionProxy:
    """``submission.linear_forward(x, W, b)`` runs the student's function in its worker."""

    def __init__(self, run: StudentRun) -> None:
        self._run = run

    def call(
        self, function: str, *args: Any, echo_args: bool = False, keep: Sequence[int] = ()
    ) -> Any:
        """Call ``function``; with ``echo_args`` also return the arguments as they are after it.
        Items ``keep`` of its result stay in the worker (a forward's cache: ``Worker.call``)."""
        __tracebackhide__ = students_failure
        return self._run.call(function, args, echo_args, keep)

    def batch(self, steps: Sequence[Step]) -> list[StepResult]:
        """Several calls in one round trip, later ones using earlier results (StudentRun.batch)."""
        __tracebackhide__ = students_failure
        return self._run.batch(steps)

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per submission and ``key`` (errors included); see StudentRun.memo."""
        __tracebackhide__ = students_failure
        return self._run.memo(key, compute)

    def __getattr__(self, function: str) -> Callable[..., Any]:
        if function.startswith("_"):
            raise AttributeError(function)

        def call(*args: Any) -> Any:
            __tracebackhide__ = students_failure
            return self._run.call(function, args, False)

        call.__name__ = function
        return call


@dataclass
class GradingState:
    """What the fixtures point at: the rubric, the reference, the secret, the current run."""

    rubric: Rubric
    reference_path: Path | None
    secret: str
    run: StudentRun | None = None
    outcomes: list[TestOutcome] = field(default_factory=list)
    local: bool = False
    _reference: ModuleType | None = None

    def reference(self) -> ModuleType:
        if self._reference is None:
            if self.reference_path is None or not self.reference_path.is_file():
                raise UsageError(
                    "the reference solution is not available here (it is only on the grader)"
                )
            self._reference = _import_reference(self.reference_path)
        return self._reference


STATE = pytest.StashKey[GradingState]()
LOCAL_SANDBOX = pytest.StashKey[Any]()
# Set by ``autograder check``, which prints the summary itself, after pytest's report.
SUMMARY_PRINTED_BY_CALLER = pytest.StashKey[bool]()


def _import_reference(path: Path) -> ModuleType:
    name = f"_autograder_reference_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import the reference solution {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # What a hidden test's slip names it by ("module 'reference' has no attribute 'forwrd'"),
    # rather than the unique name it was loaded under.
    module.__name__ = "reference"
    return module


def seed_for(secret: str, student: str, test_id: str) -> int:
    """A 128-bit seed: unpredictable without the secret, identical on every regrade."""
    digest = hashlib.sha256(f"{secret}\0{student}\0{test_id}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


def rng_factory(secret: str, student: str) -> Callable[[str], np.random.Generator]:
    """``rng_for``'s value: label -> a Generator seeded by (secret, student, label)."""
    return lambda label: np.random.default_rng(seed_for(secret, student, label))


def test_id(item: pytest.Item) -> str:
    """A test's identity independent of where pytest was started: ``file.py::name[params]``."""
    return f"{item.path.name}::{item.name}"


def binding_of(item: pytest.Item) -> TestBinding:
    """Which rubric item a collected test scores (or what is wrong with its marker)."""
    marks = list(item.iter_markers(RUBRIC_MARK))
    path, line = _location(item)
    if not marks:
        return TestBinding(item.nodeid, None, path, line, "has no @pytest.mark.rubric(...) marker")
    if len(marks) > 1:
        return TestBinding(item.nodeid, None, path, line, "has more than one rubric marker")
    mark = marks[0]
    if len(mark.args) != 1 or not isinstance(mark.args[0], str) or mark.kwargs:
        return TestBinding(
            item.nodeid, None, path, line, "rubric marker must be rubric('<item id>')"
        )
    unknown = _unknown_fixtures(item)
    if unknown:
        # pytest would say so only when the test runs: for every student, as a broken test.
        names = ", ".join(f"'{name}'" for name in unknown)
        problem = (
            f"asks for {names}, which is no fixture here (the grader's fixtures: "
            f"{', '.join(GRADER_FIXTURES)}; or pytest's, such as record_property)"
        )
        return TestBinding(item.nodeid, mark.args[0], path, line, problem)
    # A check that does not run is one no student can pass: a skip or skipif that applies
    # here, an xfail (and parametrize with no values, which pytest turns into a skip) would
    # cost everyone its points.
    skipped = _not_run(item)
    if skipped:
        reason = _reason(item)
        fix = (
            "give parametrize some values"
            if reason.startswith("got empty parameter set")
            else "remove the marker"
        )
        problem = (
            f"is marked to be {skipped} ({reason}), so every student would lose its points; {fix}"
        )
        return TestBinding(item.nodeid, mark.args[0], path, line, problem)
    return TestBinding(item.nodeid, mark.args[0], path, line)


GRADER_FIXTURES = ("submission", "reference", "rng", "rng_for")


def _unknown_fixtures(item: pytest.Item) -> list[str]:
    """The arguments of a test that no fixture, parameter or ``request`` provides (a typo such
    as ``submision``)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:  # not a function, or another pytest: it says so when the test runs
        return []
    params = getattr(getattr(item, "callspec", None), "params", {})
    known = {*info.name2fixturedefs, *params, "request"}
    return [name for name in info.names_closure if name not in known]


def _not_run(item: pytest.Item) -> str:
    from _pytest.skipping import evaluate_skip_marks, evaluate_xfail_marks

    try:
        if evaluate_skip_marks(item) is not None:
            return "skipped"
        if evaluate_xfail_marks(item) is not None:
            return "xfailed"
    except Exception:  # a condition that cannot be evaluated: pytest reports it when it runs
        return ""
    return ""


def _reason(item: pytest.Item) -> str:
    for mark in item.iter_markers():
        if mark.name in ("skip", "skipif", "xfail"):
            return str(mark.kwargs.get("reason") or mark.name)
    return "skip"


def _location(item: pytest.Item) -> tuple[Path, int | None]:
    fspath, lineno, _ = item.location
    base = item.config.rootpath
    return base / fspath, (lineno + 1 if lineno is not None else None)


# -- hooks ------------------------------------------------------------------------------------


SUBMISSION_OPTION = "autograder_file"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--autograder-file",
        dest=SUBMISSION_OPTION,
        default=None,
        metavar="FILE",
        help="autograder: the student's file to check (default: the module beside rubric.yml, "
        "or its notebook edition, whichever was filled in)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{RUBRIC_MARK}(item_id): the rubric item this test scores (autograder)"
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None and state.local and state.run is not None:
        state.run.close()
    sandbox = config.stash.get(LOCAL_SANDBOX, None)
    if sandbox is not None:
        sandbox.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = item.config.stash.get(STATE, None)
    if state is None or state.run is None:
        return report
    if call.when == "call" or (call.when == "setup" and not report.passed):
        binding = binding_of(item)
        exc = call.excinfo.value if call.excinfo is not None else None
        outcome, message = classify(exc, report.skipped, Path(item.path).parent)
        props = tuple((str(k), plain(v)) for k, v in item.user_properties)
        state.outcomes.append(
            TestOutcome(
                test_id(item), binding.item_id or "", outcome, message, props, error_kind(exc)
            )
        )
    return report


def classify(
    exc: BaseException | None, skipped: bool, tests: Path | None = None
) -> tuple[str, str]:
    """Map how a test ended (the exception it raised, if any) to (outcome, student-safe message).

    A test that broke by itself (``INTERNAL``) is said with where, in ``tests`` (the test's
    folder), it broke: the instructor reads it (students are told only that the grader failed).
    """
    if exc is None:
        return (PASSED, "") if not skipped else (FAILED, "check was not run")
    if skipped or type(exc).__name__ == "Skipped":
        return FAILED, f"check was not run: {getattr(exc, 'msg', '') or 'skipped'}"
    if isinstance(exc, StudentError):
        return ERROR, exc.describe()
    if isinstance(exc, WrongAnswer):
        return FAILED, str(exc)
    if isinstance(exc, AssertionError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        # A bare `assert a == b` would print the values it compared: hidden inputs stay hidden.
        if not first or first.startswith("assert "):
            return FAILED, "a check on your result failed"
        return FAILED, first
    where = _where_it_broke(exc, tests)
    what = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    return INTERNAL, f"the grader's test could not complete ({where}{what}); not your fault"


def _where_it_broke(exc: BaseException, tests: Path | None) -> str:
    """``file.py:LINE: `` of the innermost frame of ``exc`` in the folder ``tests``, or ""."""
    if tests is None:
        return ""
    where = ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(tests):
            where = f"{path.relative_to(tests)}:{line}: "
    return where


def error_kind(exc: BaseException | None) -> str:
    """The kind of a student error ("timeout", "crash", ...), or "" for anything else."""
    return exc.kind if isinstance(exc, StudentError) else ""


def plain(value: Any) -> Any:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float | np.floating):
        return float(value)
    return str(value)


# -- fixtures ---------------------------------------------------------------------------------


def _state(request: pytest.FixtureRequest) -> GradingState:
    config = request.config
    state = config.stash.get(STATE, None)
    if state is None:
        state = _local_state(request)
        config.stash[STATE] = state
    return state


def _local_state(request: pytest.FixtureRequest) -> GradingState:
    """Plain ``pytest`` in an assignment folder: grade the module file beside ``rubric.yml``."""
    start = Path(request.node.path).parent
    for folder in (start, *start.parents):
        if (folder / "rubric.yml").is_file():
            break
    else:
        raise UsageError(f"no rubric.yml in {start} or its parents; is this an assignment folder?")
    try:
        rubric = load_rubric(folder / "rubric.yml")
    except AutograderError as exc:
        raise UsageError(str(exc)) from None
    chosen = request.config.getoption(SUBMISSION_OPTION, None)
    module_path = Path(chosen) if chosen else choose_local_file(folder, rubric.module)[0]
    if not module_path.is_file():
        raise UsageError(f"no {rubric.module} in {folder}")
    try:
        source = read_source(module_path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from autograder.sandbox import Sandbox

    sandbox = Sandbox(slot=0)
    sandbox.start()
    request.config.stash[LOCAL_SANDBOX] = sandbox
    run = StudentRun(
        student="local",
        source=source,
        filename=module_path.name,
        module=rubric.module_stem,
        limits=rubric.limits or GradingLimits(),  # a release's are the course's
        beside=files_beside(module_path),
        sandbox=sandbox,
        entropy=seed_for(PUBLIC_SECRET, "local", "entropy"),
        locate_timeouts=True,
    )
    # Beside its rubric in solutions/<a>/ the module is the reference itself (it has solution
    # markers), so an instructor can run the hidden tests on it with plain pytest. A student's
    # release has no markers, and the reference stays unavailable there.
    is_reference = module_path.suffix == ".py" and "### BEGIN SOLUTION" in source
    return GradingState(
        rubric=rubric,
        reference_path=module_path if is_reference else None,
        secret=PUBLIC_SECRET,
        run=run,
        local=True,
    )


@pytest.fixture
def submission(request: pytest.FixtureRequest) -> SubmissionProxy:
    """The student's module; each call runs isolated in a worker process."""
    state = _state(request)
    assert state.run is not None
    return SubmissionProxy(state.run)


@pytest.fixture
def reference(request: pytest.FixtureRequest) -> ModuleType:
    """The instructor's reference module (only on the grader, never released)."""
    return _state(request).reference()


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """Random inputs seeded by (course secret, student id, test id)."""
    state = _state(request)
    student = state.run.student if state.run is not None else "local"
    return np.random.default_rng(seed_for(state.secret, student, test_id(request.node)))


@pytest.fixture
def rng_for(request: pytest.FixtureRequest) -> Callable[[str], np.random.Generator]:
    """``rng_for("case:small")``: a Generator seeded by (course secret, student id, label).

    Tests that share inputs (and, with ``submission.memo``, the student's outputs on them) ask
    for the same label; like ``rng`` it is unpredictable to students and stable on regrade.
    """
    state = _state(request)
    student = state.run.student if state.run is not None else "local"
    return rng_factory(state.secret, student)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Plain ``pytest`` in an assignment folder ends with the rubric-shaped summary."""
    state = config.stash.get(STATE, None)
    if state is None or not state.local or not state.outcomes:
        return
    if config.stash.get(SUMMARY_PRINTED_BY_CALLER, False):
        return
    from autograder.summary import print_check_summary, wrap_lines

    buffer = io.StringIO()
    note = state.run.cells_note() if state.run else ""
    ran = state.run is None or state.run.load_error is None
    printed = state.run.close() if state.run else ""
    print_check_summary(state.rubric, state.outcomes, buffer, note, printed, file_ran=ran)
    text = buffer.getvalue()
    if getattr(terminalreporter, "isatty", False):  # as `autograder check` does on a terminal
        text = wrap_lines(text, terminalreporter._tw.fullwidth)
    terminalreporter.write(text)
