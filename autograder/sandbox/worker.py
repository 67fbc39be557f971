"""The grader's side of one worker: calls under a deadline, capped reads, typed failures.

Everything read from the worker is hostile input. Every frame is length-checked before its
buffer is allocated, output is kept up to ``output_kb`` (the rest is dropped), every
reply is decoded by :mod:`autograder.sandbox.codec` (no pickle, numeric ``.npy`` only), and
every failure becomes one of the ``StudentError`` subclasses, never an exception of ours.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from autograder.errors import (
    BadReturn,
    MissingFunction,
    NotImplementedByStudent,
    StudentCrash,
    StudentError,
    StudentException,
    StudentTimeout,
    place,
    students_failure,
)
from autograder.sandbox import codec
from autograder.sandbox.model import (
    MAX_FAILED_CELLS,
    OUTPUT_TRUNCATED,
    STACK_SIGNAL,
    Handle,
    Limits,
    Ref,
    Step,
    StepResult,
    WorkerExit,
)

# How long a worker that closed its channel gets to finish exiting before it is killed.
EXIT_GRACE = 0.5
# How long the runner may take to report an exit it has certainly seen (it reaps at once).
REPORT_TIMEOUT = 10.0
DRAIN_READS = 64  # 4 MiB of output read per wake-up, at most
OUTPUT_CLOSE_MB = 64  # output read (most of it dropped) before the pipe is closed
_TRUNCATED = "\n" + OUTPUT_TRUNCATED
# Where Python's reprs put an object's address (``<Cache object at 0x7f3a...>``, ``<weakref
# at 0x7f...; to 'K' at 0x7f...>``): it changes from run to run, and in an error message it
# would change the feedback a regrade writes. Printed output is left as it was printed.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,79}")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{4,16}\b")
# A deadline is moved back by the time the worker spent waiting for a CPU, but never past
# this many times its limit from the start (a backstop for a machine overloaded by others).
# A timed-out worker is asked where it was before it is killed (``Worker._where_stuck``).
STACK_WAIT = 0.2  # seconds, at most, for its answer
STACK_BYTES = 16384
_STACK_HEADER = b"Stack (most recent call first):"
_STACK_FRAME = re.compile(
    r'^  File "(?P<file>[^"\n]*)", line (?P<line>\d{1,7}) in (?P<fn>\S+)$', re.M
)
MAX_STRETCH = 4.0
MIN_STRETCH = 0.01  # less waiting than this since the last look is not worth another look
_ERRORS: dict[str, type[StudentError]] = {
    "missing": MissingFunction,
    "not_implemented": NotImplementedByStudent,
    "exception": StudentException,
    "bad_return": BadReturn,
}


class _Closed(Exception):
    """The worker's end of the channel is gone (it exited or closed fd 3)."""


class _Violation(Exception):
    """The worker sent something the protocol does not allow; the message says what."""


_CELL_MARK = re.compile(r"# In\[([0-9]+)\]")


def cell_starts(source: str) -> list[tuple[int, int]]:
    """Where each cell of a notebook's script begins: ``(line of its "# In[n]" mark, n)``
    (``submissions.notebook_source`` puts the mark above every code cell)."""
    starts = []
    for number, line in enumerate(source.split("\n"), start=1):
        match = _CELL_MARK.fullmatch(line)
        if match:
            starts.append((number, int(match.group(1))))
    return starts


def locate_cell(starts: Sequence[tuple[int, int]], line: int) -> tuple[int | None, int]:
    """A line of the notebook's script as ``(cell, line within it)``; ``(None, line)`` before
    the first cell."""
    cell = None
    for mark, number in starts:
        if mark >= line:
            break
        cell, within = number, line - mark
    return (cell, within) if cell is not None else (None, line)


class _FrameReader:
    """Reassembles one length-prefixed frame from a non-blocking socket, refusing big ones."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.prefix = b""
        self.body: bytearray | None = None
        self.got = 0

    def feed(self, sock: socket.socket) -> bytearray | None:
        """Read what is available; return the body once complete."""
        try:
            while self.body is None:
                chunk = sock.recv(codec.PREFIX.size - len(self.prefix))
                if not chunk:
                    raise _Closed
                self.prefix += chunk
                if len(self.prefix) < codec.PREFIX.size:
                    return None
                (size,) = codec.PREFIX.unpack(self.prefix)
                if size > self.cap:
                    raise _Violation(
                        f"sent a message of {size / 2**20:.0f} MiB, more than the "
                        f"limit of {self.cap >> 20} MiB"
                    )
                self.body = bytearray(size)
            view = memoryview(self.body)
            while self.got < len(self.body):
                n = sock.recv_into(view[self.got :])
                if n == 0:
                    raise _Closed
                self.got += n
            return self.body
        except BlockingIOError:
            return None
        except ConnectionError:
            raise _Closed from None


class Worker:
    """One loaded submission in its own confined process. Create with ``Sandbox.spawn``."""

    def __init__(
        self,
        *,
        spawn: int,
        pid: int,
        pidfd: int,
        channel: socket.socket,
        output: int,
        limits: Limits,
        filename: str,
        handle_base: int,
        await_exit: Callable[[int, float], dict[str, Any] | None],
        on_close: Callable[[Worker], None],
        locate_timeouts: bool = False,
    ) -> None:
        self.pid = pid
        # Say where a timed-out call was. Off when grading: where a loop is caught varies from
        # run to run (line 11 or 12 of a two-line loop), and grades.json must not.
        self.locate_timeouts = locate_timeouts
        self._spawn = spawn
        self.limits = limits
        self.filename = filename
        self._cells: list[tuple[int, int]] = []  # a notebook's (line of "# In[n]", n)
        self.load_error: StudentError | None = None
        # A notebook's cells that raised (the others ran anyway, as nbgrader runs them).
        self.failed_cells: list[StudentError] = []
        self.failed_total = 0  # how many failed: the list holds the first MAX_FAILED_CELLS
        self.functions: frozenset[str] = frozenset()
        self._pidfd = pidfd
        self._channel = channel
        self._channel.setblocking(False)
        self._output_fd: int | None = output
        os.set_blocking(output, False)
        self._output = bytearray()
        self._truncated = False
        self._output_read = 0  # bytes read from the output pipe, kept or not
        self._read_when_asked = 0  # _output_read as the last call or step began
        self._output_closed = False  # we closed it: the worker printed past OUTPUT_CLOSE_MB
        self._asked_stack = False  # it was asked for its stack (``_where_stuck``)
        self._handle_base = handle_base
        self._handles: set[int] = set()
        self._seq = 0
        self._await_exit = await_exit
        self._on_close = on_close
        self._dead: str | None = None  # why the worker is gone, once it is
        self._exit_record: dict[str, Any] | None = None
        self._exit: WorkerExit | None = None
        self._schedstat = _open_schedstat(pid, pidfd)
        self._waited = 0.0

    # -- public API -----------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """True until the worker died, was killed, or was closed."""
        if self._dead is None and self._exit is None:
            readable, _, _ = select.select([self._pidfd], [], [], 0)
            if readable:
                self._dead = "it exited on its own"
        return self._dead is None and self._exit is None

    def waited(self) -> float:
        """Seconds the worker has spent runnable but waiting for a CPU, since it started.

        This is the time the load of the machine (our own other grading processes included)
        added to its calls. Limits are charged without it (see ``_await_reply``), so a call
        times out after the same work whether the grader runs alone or with a full pool.
        0.0 where the kernel does not say (no ``/proc/PID/schedstat``): limits are wall clock.
        Once the worker is gone, the last value read.

        Only the main thread's waits count. Other threads' cannot be told apart from waits
        the submission causes itself: twenty busy threads on two CPUs "wait" nine times as
        long as the call takes, and counting that would let a call sleep past its limit.
        """
        if self._schedstat is not None:
            with contextlib.suppress(OSError, ValueError, IndexError):  # it exited
                self._waited = int(os.pread(self._schedstat, 128, 0).split()[1]) / 1e9
        return self._waited

    @property
    def printed_past_cap(self) -> bool:
        """Whether the worker printed more than the output it keeps (``output_kb``) since the
        last call, or step of a batch, was asked for: not in earlier calls that returned."""
        self._drain_output()
        return self._output_read - self._read_when_asked > self.limits.output_kb * 1024

    @property
    def output(self) -> str:
        """Everything the worker printed so far (stdout and stderr, capped)."""
        self._drain_output()
        text = self._output.decode("utf-8", errors="replace")
        return text + _TRUNCATED if self._truncated else text

    def call(
        self, function: str, *args: Any, echo_args: bool = False, keep: Sequence[int] = ()
    ) -> Any:
        """Call ``function(*args)`` in the worker and return its (plain data) result.

        With ``echo_args`` the result is ``(result, args_after)``. Items ``keep`` of a tuple
        or list result stay in the worker and come back as handles even if they are plain
        data: a forward's cache, given back to every backward as the very object the forward
        made, as in plain Python (a backward that changes it changes it for the next call).
        Raises a StudentError subclass for anything the submission did wrong (see
        ``autograder.sandbox``).
        """
        __tracebackhide__ = students_failure  # see autograder.errors
        if self._exit is not None or self._dead is not None:
            raise StudentCrash(
                f"the worker is no longer running ({self._dead or 'closed'})",
                filename=self.filename,
            )
        if function not in self.functions:
            if self.load_error is not None:
                raise MissingFunction(
                    f"{function} is not available: {self.filename} failed "
                    f"to load ({self.load_error.describe()})",
                    filename=self.filename,
                )
            raise MissingFunction(
                f"{self.filename} does not define {function}", filename=self.filename
            )
        self._check_handles(args)
        tree, blobs = codec.encode(tuple(args), _not_plain)
        header = {"op": "call", "fn": function, "args": tree, "echo": echo_args, "keep": [*keep]}
        reply, payload = self._exchange(
            header, blobs, self.limits.call_timeout, f"during a call to {function}"
        )
        return self._result(reply, payload, len(args), echo_args)

    def batch(self, steps: Sequence[Step], *, budget: float | None = None) -> list[StepResult]:
        """Run ``steps`` in order in one round trip; a result for each, never an exception.

        Each step is a ``call`` (same limits, errors and values), with two differences: its
        arguments may be ``Ref``s to earlier steps' results, which never travel to the grader
        and back, and the worker answers each step as soon as it is done, so each still has
        its own ``call_timeout`` and a timeout names the right function. When the worker dies
        or times out, the later steps are marked ``not_run``; so are they once ``budget``
        seconds have passed since the batch was sent (the worker is stopped then).
        """
        __tracebackhide__ = students_failure  # see autograder.errors
        if self._exit is not None or self._dead is not None:
            raise StudentCrash(
                f"the worker is no longer running ({self._dead or 'closed'})",
                filename=self.filename,
            )
        plain: list[Any] = []
        for number, step in enumerate(steps):
            if step.function not in self.functions:
                raise MissingFunction(
                    f"{self.filename} does not define {step.function}", filename=self.filename
                )
            for needed, length in step.needs():
                if not 0 <= needed < number or length < 1:
                    raise ValueError(f"step {number} needs step {needed}, which is not earlier")
            for arg in step.args:
                if type(arg) is Ref:
                    if not 0 <= arg.index < arg.length:
                        raise ValueError(f"{arg} does not point into an earlier step's result")
                else:
                    self._check_handles(arg)
                    plain.append(arg)
        tree, blobs = codec.encode(tuple(plain), _not_plain)
        values = iter(tree["T"])
        wire = []
        for step in steps:
            args = [
                {"ref": [a.step, a.index, a.length]} if type(a) is Ref else {"v": next(values)}
                for a in step.args
            ]
            requires = [list(pair) for pair in step.requires]
            wire.append(
                {
                    "fn": step.function,
                    "echo": step.echo,
                    "args": args,
                    "requires": requires,
                    "keep": list(step.keep),
                }
            )
        header = {"op": "batch", "steps": wire}
        results: list[StepResult] = []
        sent, waited = time.monotonic(), self.waited()
        for number, step in enumerate(steps):
            phase = f"during a call to {step.function}"
            spent = time.monotonic() - sent - (self.waited() - waited) if number else 0.0
            if number and budget is not None and spent >= budget:
                self._finish("it was stopped: its time budget ran out", 0)
                break
            try:
                if number == 0:
                    reply, payload = self._exchange(
                        header, blobs, self.limits.call_timeout, phase, step=0
                    )
                else:
                    reply, payload = self._next_reply(self.limits.call_timeout, phase, number)
                if reply.get("r") == "skip":
                    results.append(StepResult(skipped=True))
                    continue
                results.append(StepResult(self._result(reply, payload, len(step.args), step.echo)))
            except StudentError as exc:
                results.append(StepResult(error=exc))
                if self._dead is not None:
                    break
        results.extend(StepResult(not_run=True) for _ in steps[len(results) :])
        return results

    def _result(
        self, reply: dict[str, Any], payload: list[memoryview], n_args: int, echo: bool
    ) -> Any:
        """A call's value from its reply (with ``echo``: and the arguments as they are after)."""
        __tracebackhide__ = students_failure  # see autograder.errors
        if reply.get("r") == "err":
            raise self._student_error(reply)
        if reply.get("r") != "ok":
            raise self._fail(StudentCrash, "broke the protocol: an answer of the wrong kind")
        try:
            value = codec.decode(reply.get("v"), payload, self._make_handle)
            if not echo:
                return value
            echoed = codec.decode(reply.get("e"), payload, self._make_handle)
            # The echo is written by the student's own process: it must at least have the shape
            # of what was sent, so the grader's checks never trip over it.
            if type(echoed) is not tuple or len(echoed) != n_args:
                raise codec.ProtocolError(
                    f"the echo of {n_args} arguments is a {type(echoed).__name__}"
                )
            return value, echoed
        except (codec.ProtocolError, ValueError, RecursionError) as exc:
            raise self._fail(StudentCrash, f"returned malformed data: {exc}") from None

    def close(self) -> WorkerExit:
        """End the worker (asking first, then SIGKILL), reap it and report how it ended."""
        if self._exit is not None:
            return self._exit
        self._channel.close()  # EOF: a healthy worker exits 0 at once
        record = self._exit_record or self._await_exit(self._spawn, EXIT_GRACE)
        if record is None:
            self._kill()
            record = self._await_exit(self._spawn, REPORT_TIMEOUT)
        self._drain_output()
        if self._output_fd is not None:
            os.close(self._output_fd)
            self._output_fd = None
        os.close(self._pidfd)
        if self._schedstat is not None:
            os.close(self._schedstat)
            self._schedstat = None
        if record is None:
            self._exit = WorkerExit("lost (the runner died)", 0.0, 0)
        else:
            self._exit = WorkerExit(record["status"], float(record["cpu"]), int(record["maxrss"]))
        self._dead = self._dead or "it was closed"
        self._on_close(self)
        return self._exit

    # -- loading (used by Sandbox.spawn) ---------------------------------------------------

    def load(self, source: str, module: str, entropy: int | None = None) -> None:
        """Send the source and wait for READY; sets ``load_error`` or ``functions``.

        With ``entropy`` (a non-negative int), everything the module draws without a seed
        comes from a stream seeded by it (``child.fix_randomness``).
        """
        header: dict[str, Any] = {
            "op": "load",
            "source": source,
            "filename": self.filename,
            "module": module,
            "handle_base": self._handle_base,
        }
        if self.filename.endswith(".ipynb"):
            self._cells = cell_starts(source)
            header["cells"] = [mark for mark, _ in self._cells]
        if entropy is not None:
            header["entropy"] = entropy
        try:
            reply, _ = self._exchange(
                header, [], self.limits.import_timeout, "while loading the module"
            )
        except StudentError as exc:
            self.load_error = exc
            return
        kind = reply.get("r")
        if kind not in ("ready", "err"):
            self.load_error = self._fail(StudentCrash, "broke the protocol while loading")
        elif kind == "ready":
            names = reply.get("fns")
            if type(names) is not list or not all(type(n) is str for n in names):
                self.load_error = self._fail(StudentCrash, "sent a malformed function list")
                return
            self.functions = frozenset(n[:200] for n in names[:10_000])
            failed = reply.get("failed_cells", [])
            if type(failed) is not list or not all(type(f) is dict for f in failed):
                self.load_error = self._fail(StudentCrash, "sent a malformed list of cells")
                return
            self.failed_cells = [self._student_error(f) for f in failed[:MAX_FAILED_CELLS]]
            count = reply.get("failed_count", len(failed))
            self.failed_total = max(count, len(self.failed_cells)) if type(count) is int else 0
        else:
            self.load_error = self._student_error(reply)

    # -- the exchange ----------------------------------------------------------------------

    def _exchange(
        self,
        header: dict[str, Any],
        blobs: list[bytes],
        timeout: float,
        phase: str,
        step: int | None = None,
    ) -> tuple[dict[str, Any], list[memoryview]]:
        """Send one request and return its (first) reply, draining output meanwhile."""
        self._seq += 1
        data = memoryview(codec.pack({**header, "seq": self._seq}, blobs))
        return self._await_reply(data, timeout, phase, step)

    def _next_reply(
        self, timeout: float, phase: str, step: int
    ) -> tuple[dict[str, Any], list[memoryview]]:
        """The reply to the next step of the batch in flight, within ``timeout`` from now."""
        return self._await_reply(None, timeout, phase, step)

    def _await_reply(
        self,
        data: memoryview | None,
        timeout: float,
        phase: str,
        step: int | None,
    ) -> tuple[dict[str, Any], list[memoryview]]:
        """Send ``data`` (if any) and wait for the next reply, for ``timeout`` seconds of the
        worker's own time: wall clock minus what it spent waiting for a CPU, up to
        ``MAX_STRETCH`` times ``timeout`` of wall clock."""
        __tracebackhide__ = students_failure  # see autograder.errors
        self._drain_output()  # what earlier calls (steps) printed: theirs, printed before reply
        self._read_when_asked = self._output_read
        started, waited = time.monotonic(), self.waited()
        deadline = started + timeout
        sent = 0
        reader = _FrameReader(self.limits.max_frame_mb * 1024 * 1024)
        try:
            if data is not None:
                # Whatever is waiting before we asked was not asked for (or it is EOF).
                early = select.select([self._channel], [], [], 0)[0]
                if early and (reader.feed(self._channel) is not None or reader.prefix):
                    raise _Violation("sent data nobody asked for")
                # Most requests fit the socket buffer: send at once, no select for writability.
                with contextlib.suppress(BlockingIOError):
                    sent += self._channel.send(data[: 1 << 20])
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    # Charge only the time it could have run: waiting for a CPU is the load's.
                    stretched = min(
                        started + timeout + self.waited() - waited, started + MAX_STRETCH * timeout
                    )
                    if stretched <= deadline + MIN_STRETCH:
                        raise self._timeout(phase, timeout)
                    deadline = stretched
                    continue
                watch = [self._channel] + ([self._output_fd] if self._output_fd is not None else [])
                pending = [self._channel] if data is not None and sent < len(data) else []
                readable, writable, _ = select.select(watch, pending, [], remaining)
                if self._output_fd is not None and self._output_fd in readable:
                    self._drain_output()
                if writable:
                    assert data is not None
                    with contextlib.suppress(BlockingIOError):
                        sent += self._channel.send(data[sent : sent + (1 << 20)])
                if self._channel in readable:
                    body = reader.feed(self._channel)
                    if body is not None:
                        if data is not None and sent < len(data):
                            raise _Violation("answered before the request was sent")
                        break
        except _Closed:
            raise self._died(phase) from None
        except _Violation as exc:
            raise self._fail(StudentCrash, str(exc)) from None
        except (BrokenPipeError, ConnectionError):
            raise self._died(phase) from None
        # No drain here: the worker writes its prints before it replies, so whatever it
        # printed was already in the pipe, and drained, when the reply became readable.
        try:
            reply, payload = codec.unpack(body, max_json=codec.MAX_JSON)
        except codec.ProtocolError as exc:
            raise self._fail(StudentCrash, f"broke the protocol: {exc}") from None
        if reply.get("seq") != self._seq or reply.get("step") != step:
            raise self._fail(StudentCrash, "broke the protocol: a reply out of sequence")
        return reply, payload

    def _student_error(self, reply: dict[str, Any]) -> StudentError:
        cls = _ERRORS.get(str(reply.get("kind")), StudentException)
        line = reply.get("line")
        exc_type = reply.get("type")
        # The student's text (message and class name), on one line: it cannot pose as more
        # feedback (a heading, a score).
        message = codec.CONTROL.sub(" ", _ADDRESS.sub(" at 0x…", str(reply.get("msg", ""))))[:300]
        if exc_type == "BrokenPipeError" and self._output_closed:  # we closed the output pipe
            message = (
                f"your code printed more than {OUTPUT_CLOSE_MB} MiB, and printing fails after "
                f"that (only the first {self.limits.output_kb} KiB are kept anyway); print less"
            )
        lineno: int | None = line if type(line) is int else None
        cell: int | None = None
        if lineno is not None and self._cells:
            cell, lineno = locate_cell(self._cells, lineno)
        elif type(reply.get("first")) is int and self._cells:  # a notebook cell's, no line
            cell, _ = locate_cell(self._cells, reply["first"])
        raised = reply.get("raised")  # a failed cell's error came from another line
        if type(raised) is int and self._cells:
            elsewhere, within = locate_cell(self._cells, raised)
            message += f" (raised in {place(elsewhere, within)})"
        function = reply.get("fn")  # the worker's word: a name it made up is no name
        return cls(
            message,
            exc_type=codec.CONTROL.sub(" ", str(exc_type))[:100] if exc_type is not None else None,
            lineno=lineno,
            filename=self.filename,
            cell=cell,
            raised_in=function if type(function) is str and _NAME.fullmatch(function) else None,
        )

    # -- endings ---------------------------------------------------------------------------

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def _finish(self, reason: str, grace: float) -> dict[str, Any] | None:
        """Make sure the worker is dead and return the runner's exit record for it."""
        self._dead = reason
        record = self._await_exit(self._spawn, grace) if grace else None
        if record is None:
            self._kill()
            record = self._await_exit(self._spawn, REPORT_TIMEOUT)
        self._exit_record = record
        return record

    def _fail(self, cls: type[StudentError], reason: str) -> StudentError:
        """A protocol violation: kill the worker and describe what it did."""
        self._finish(reason, 0)
        return cls(f"the worker {reason}; it was stopped", filename=self.filename)

    def _timeout(self, phase: str, timeout: float) -> StudentError:
        where = self._where_stuck()
        self._finish(f"it timed out {phase}", 0)
        if self._asked_stack and self._output_fd is not None:
            # Whatever is left in the pipe came after the question: a late dump (its frames
            # of our own code are not the student's output), not prints that count.
            os.close(self._output_fd)
            self._output_fd = None
        at = f" ({where})" if where else ""
        if not phase.startswith("while"):
            function = phase.replace("during a call to ", "")
            return StudentTimeout(
                f"{function} did not return within {timeout:g} s; the worker was killed{at}",
                filename=self.filename,
            )
        # Before any check: the file's own top-level code (a notebook: its cells) ran too long.
        ran = "the cells of" if self.filename.endswith(".ipynb") else "the top-level code of"
        return StudentTimeout(
            f"running {ran} {self.filename} took more than {timeout:g} s, so the worker was "
            f"killed{at}. Put long experiments (not your functions) under `if __name__ == "
            '"__main__":` (they still run when you run the file yourself, or in Jupyter; the '
            "grader skips them)",
            filename=self.filename,
        )

    def _where_stuck(self) -> str:
        """Where the worker was when it ran out of time: ``it was at line 12, in f``, or "".

        The worker dumps its stack (``faulthandler``, registered for ``STACK_SIGNAL`` before
        any student code) into its output pipe when asked; what arrives within
        ``STACK_WAIT`` seconds is read here, apart from the output the student sees. Student
        code can silence or forge the dump: either way it only words its own feedback, and
        only a line number and a name are taken from it.
        """
        if not self.locate_timeouts or self._output_fd is None or self._dead is not None:
            return ""
        self._drain_output()  # what it printed until now, kept as usual
        if self._output_fd is None:
            return ""
        self._asked_stack = True
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(self._pidfd, STACK_SIGNAL)
        dump = bytearray()
        end = time.monotonic() + STACK_WAIT
        while time.monotonic() < end and len(dump) < STACK_BYTES:
            readable, _, _ = select.select([self._output_fd], [], [], 0.01)
            if not readable:
                if dump.endswith(b"\n") and _STACK_HEADER in dump:
                    break  # the dump is written at once; a pause means it is all here
                continue
            try:
                chunk = os.read(self._output_fd, STACK_BYTES)
            except BlockingIOError:
                continue
            if not chunk:
                break
            dump += chunk
        text = bytes(dump).decode("utf-8", errors="replace")
        start = text.rfind(_STACK_HEADER.decode())
        if start < 0:
            return ""
        for frame in _STACK_FRAME.finditer(text, start):
            if frame["file"] != self.filename:
                continue
            line = int(frame["line"])
            cell, line = locate_cell(self._cells, line) if self._cells else (None, line)
            name = frame["fn"]
            return f"it was at {place(cell, line)}" + (
                f", in {name}" if _NAME.fullmatch(name) else ""
            )
        return ""

    def _died(self, phase: str) -> StudentError:
        record = self._finish(f"it died {phase}", EXIT_GRACE)
        if record is None:
            return StudentCrash(f"the worker died {phase}", filename=self.filename)
        signum, code, cpu = record.get("signal"), record.get("code"), float(record["cpu"])
        # SIGKILL is RLIMIT_CPU's hard limit for a worker that ignored SIGXCPU; rusage can
        # read a little under the scheduler's count that the limit uses, hence the margin.
        if signum == signal.SIGXCPU or (
            signum == signal.SIGKILL and cpu >= 0.8 * self.limits.cpu_seconds
        ):
            self._dead = f"it ran out of CPU time {phase}"
            return StudentTimeout(
                f"the worker used more than {self.limits.cpu_seconds} s of "
                f"CPU time {phase} and was killed",
                filename=self.filename,
            )
        if signum is not None:
            how = f"was killed by signal {record['status'].removeprefix('killed by ')}"
        else:
            how = f"exited with status {code}"
        self._dead = f"it {how} {phase}"
        return StudentCrash(f"the worker {how} {phase}", filename=self.filename)

    # -- output and handles ----------------------------------------------------------------

    def _drain_output(self) -> None:
        """Read what the worker printed: keep the first ``output_kb``, read and drop the rest.

        Printing more than is kept is not the student's error (a debugging print in a function
        called a hundred times adds up), so the rest is read and dropped, up to
        ``OUTPUT_CLOSE_MB``; only then is the pipe closed (further prints raise
        ``BrokenPipeError`` in the worker), so a flood costs us little. Our memory stays
        bounded whatever it prints. At most ``DRAIN_READS`` reads per call, so a worker printing
        without end cannot keep us from its deadline.
        """
        cap = self.limits.output_kb * 1024
        for _ in range(DRAIN_READS):
            if self._output_fd is None:
                return
            try:
                chunk = os.read(self._output_fd, 65536)
            except BlockingIOError:
                return
            self._output_read += len(chunk)
            room = cap - len(self._output)
            if room > 0:
                self._output += chunk[:room]
            if len(chunk) > room:
                self._truncated = True
            if not chunk or self._output_read > OUTPUT_CLOSE_MB << 20:
                self._output_closed = bool(chunk)
                os.close(self._output_fd)
                self._output_fd = None

    def _make_handle(self, ident: int, type_name: str) -> Handle:
        self._handles.add(ident)
        return Handle(ident, type_name)

    def _check_handles(self, value: Any) -> None:
        if type(value) is Handle:
            if value.id not in self._handles:
                raise ValueError(f"{value} was not returned by this worker")
        elif type(value) in (list, tuple):
            for item in value:
                self._check_handles(item)
        elif type(value) is dict:
            for item in value.values():
                self._check_handles(item)


def _not_plain(value: Any) -> Handle:
    raise TypeError(f"only plain data can be sent to a worker, not {type(value).__name__}")


def _open_schedstat(pid: int, pidfd: int) -> int | None:
    """An open ``/proc/PID/schedstat`` of the worker (its second field is the time it spent
    waiting on a run queue), or None where there is none. Held open, it can only ever
    describe this worker: reads fail once it is gone, even if its pid is reused."""
    try:
        fd = os.open(f"/proc/{pid}/schedstat", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    if select.select([pidfd], [], [], 0)[0]:  # it had already exited: the pid may be another's
        os.close(fd)
        return None
    return fd
