"""The forked worker: confine itself, load the student's module, then answer calls.

This runs in the child the runner forks, so it starts with numpy already imported and must
never return (it ends with ``os._exit``). Confinement happens in the order of
``docs/isolation.md`` before a single byte of student code exists in the process; after that
nothing here is trusted any more: student code shares the process and could rewrite any of
these functions, so the worker only ever *returns values*. Verdicts are the grader's.

File descriptors once set up: 0 = /dev/null, 1 and 2 = the capped output pipe, 3 = the
channel to the grader. Nothing else is open when student code starts.
"""

from __future__ import annotations
import __future__  # the module itself, for its list of features

import ast
import faulthandler
import fcntl
import functools
import io
import operator
import os
import random
import signal
import socket
import sys
import time
import traceback
import types
from typing import Any, NoReturn, SupportsIndex

from autograder.sandbox import codec, confine, seccomp
from autograder.sandbox.model import MAX_FAILED_CELLS, STACK_SIGNAL, Handle, Limits

CHANNEL_FD = 3
STATUS_FD = 4  # setup result for the runner; closed before student code runs
SETUP_OK = b"ok"
MESSAGE_CAP = 300
_UNRESOLVED = object()
SETUP_FAILED = 70  # exit status when confinement itself failed (not the student's fault)
_SEED_RANDOM = random.Random.seed  # before fix_randomness replaces it
# The compiler flags of ``from __future__`` imports, which IPython carries from cell to cell.
_FUTURE_FLAGS = functools.reduce(
    operator.or_, (getattr(__future__, name).compiler_flag for name in __future__.all_feature_names)
)


# Bound here: a notebook's cells share these modules and may change them.
_process_time = time.process_time
_real_sleep = time.sleep
_setitimer = signal.setitimer
_set_handler = signal.signal


class _CellStopped(BaseException):
    """A notebook cell ran past its share of the CPU time (see ``_Session.load``)."""


_CELLS_SHARE = 0.7  # of the file's time limit: the CPU time a notebook's cells have in all
_REFIRE = 0.01  # CPU seconds between stops once a cell is out of time
_STOPPED = (
    "the cell ran too long and was stopped (a notebook's cells have {seconds:g} s of CPU time "
    "in all, and one cell at most half of what is left)"
)


def _plain_dict(value: Any) -> Any:
    """A dict of answers as the dict it is: an ``OrderedDict``, a ``defaultdict`` or another
    subclass with string keys comes back as a plain dict of its items (else it would be an
    opaque handle). Applied to a result and its items, not deeper."""
    if isinstance(value, dict) and type(value) is not dict:
        items = list(dict.items(value))
        if all(type(key) is str for key, _ in items):
            return dict(items)
    return value


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _recv_frame(sock: socket.socket) -> bytes | None:
    prefix = _recv_exact(sock, codec.PREFIX.size)
    if prefix is None:
        return None
    return _recv_exact(sock, codec.PREFIX.unpack(prefix)[0])


def _setup_fds(channel: int, output: int, status: int) -> None:
    """Put our descriptors on fixed numbers and close everything else the runner had."""
    # Move them out of the way first so the dup2s below cannot overwrite one with another.
    channel = fcntl.fcntl(channel, fcntl.F_DUPFD, 10)
    output = fcntl.fcntl(output, fcntl.F_DUPFD, 10)
    status = fcntl.fcntl(status, fcntl.F_DUPFD, 10)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.dup2(channel, CHANNEL_FD)
    os.dup2(status, STATUS_FD)
    os.closerange(STATUS_FD + 1, os.sysconf("SC_OPEN_MAX"))


# A worker's whole environment: nothing of the grader's, and the same in every worker. The
# worker's uid (the slot's, which depends on the run) has no name in /etc/passwd: without
# these, getpass.getuser() and os.path.expanduser("~") would fail with that uid in the message.
WORKER_ENV = {"HOME": "/tmp", "USER": "student", "LOGNAME": "student"}


def confine_self(config: dict[str, Any], runner_pid: int) -> None:
    """Every isolation step, in order; raises on the first that fails."""
    mode: str = config["mode"]
    limits = Limits.from_json(config["limits"])
    uid, gid = os.getuid(), os.getgid()
    own_uid = uid == 0 and mode != "userns"  # the worker gets the slot's uid to itself
    os.setsid()
    os.umask(0o022)  # mount points made below must stay traversable after the uid drop
    os.environ.clear()
    os.environ.update(WORKER_ENV)
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(signum, signal.SIG_IGN if signum == signal.SIGPIPE else signal.SIG_DFL)
    # Asked, the main thread's stack goes to the output pipe (fd 2), written from C by the
    # signal handler, so it comes even from inside a numpy call: a timeout can then say where
    # the code was (``Worker._where_stuck``). No file is opened for it.
    faulthandler.register(STACK_SIGNAL, file=2, all_threads=False)
    confine.set_rlimits(
        memory_mb=limits.memory_mb,
        cpu_seconds=limits.cpu_seconds,
        file_mb=limits.tmp_mb,
        nproc=32 if own_uid else None,
    )
    namespaces = confine.CLONE_NEWNET | confine.CLONE_NEWNS | confine.CLONE_NEWIPC
    plan = confine.MountPlan(**{k: tuple(v) for k, v in config["plan"].items()})
    if mode == "root":
        if config.get("shared_netns"):  # the runner's own, empty one (Runner.own_netns)
            namespaces &= ~confine.CLONE_NEWNET
        confine.unshare(namespaces)
        confine.apply_mounts(plan, tmp_mb=limits.tmp_mb, proc="hidepid")
        confine.drop_to(config["uid"], config["gid"])
    elif mode == "userns":
        if uid == 0:
            os.setgroups([])  # the only chance: setgroups is denied inside the namespace
        confine.enter_user_namespace(uid, gid, namespaces)
        confine.apply_mounts(plan, tmp_mb=limits.tmp_mb, proc="cover")
        confine.drop_capabilities()
    elif uid == 0:  # "none" as root (e.g. a container without CAP_SYS_ADMIN): still drop
        confine.drop_to(config["uid"], config["gid"])
    confine.prctl(confine.PR_SET_NO_NEW_PRIVS, 1)
    confine.prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it
    if os.getppid() != runner_pid:  # the runner died before PDEATHSIG was armed
        os._exit(SETUP_FAILED)
    if config["seccomp"]:
        seccomp.install(os.getpid())


def fix_randomness(seed: int) -> None:
    """Make what a submission draws without a seed a function of ``seed``.

    ``os.urandom``, ``os.getrandom`` and what is built on them (``secrets``,
    ``random.SystemRandom``, ``uuid.uuid4``, numpy's ``default_rng()`` and ``SeedSequence()``)
    read one stream seeded here; ``random``'s and numpy's global generators are reseeded from
    it (the runner seeded them once, at random, for every worker it forks). The grader passes
    a seed derived from (course secret, student, worker), so a submission that tosses coins
    gets the same grade on every regrade, serial or parallel, and each student different
    coins. String hashing is fixed for the same reason (``PYTHONHASHSEED`` of the runner).
    This is for reproducibility, not secrecy: code that wants real entropy can still make
    the system call itself.
    """
    stream = random.Random(seed)

    def urandom(size: int, /) -> bytes:
        size = operator.index(size)
        if size < 0:
            raise ValueError("negative argument not allowed")
        return stream.randbytes(size)

    def getrandom(size: int, flags: int = 0) -> bytes:
        return urandom(size)

    def reseed(self: random.Random, a: Any = None, version: int = 2) -> None:
        # Random() and seed() without a seed read the system's entropy in C, not os.urandom.
        _SEED_RANDOM(self, stream.getrandbits(128) if a is None else a, version)

    os.urandom = urandom
    os.getrandom = getrandom
    random._urandom = urandom  # type: ignore[attr-defined]  # SystemRandom's (and secrets')
    random.Random.seed = reseed  # type: ignore[method-assign]
    random.seed = random._inst.seed  # type: ignore[attr-defined]  # bound before the patch
    random.seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed(stream.getrandbits(32))


def _display(*objects: Any, **_options: Any) -> None:
    """Jupyter's ``display``: here, the repr of each object, printed."""
    for value in objects:
        print(repr(value))


class _NoShell:
    """What ``get_ipython()`` gives a graded notebook: every method (``run_line_magic``,
    ``system``, ...) does nothing and returns None."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


_SHELL = _NoShell()
JUPYTER_BUILTINS: dict[str, Any] = {"display": _display, "get_ipython": lambda: _SHELL}


class _Session:
    """The worker's side of the conversation: the module, the handle table, the replies."""

    def __init__(self, sock: socket.socket, limits: Limits) -> None:
        self.sock = sock
        self.max_frame = limits.max_frame_mb * 1024 * 1024
        self.import_timeout = limits.import_timeout
        self.cell_armed = False  # a notebook cell is running under its CPU timer
        self.filename = "<submission>"
        self.module: types.ModuleType | None = None
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}  # id(obj) -> handle id; objects keeps them alive
        self.next_id = 0

    @staticmethod
    def flush_output() -> None:
        """Flush prints before replying, so the grader has them when the value arrives."""
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:  # a closed output pipe must not stop the reply
                pass

    def to_handle(self, value: Any) -> Handle:
        ident = self.ids.get(id(value))
        if ident is None:
            self.next_id += 1
            ident = self.next_id
            self.objects[ident] = value
            self.ids[id(value)] = ident
        return Handle(ident, type(value).__name__[: codec.MAX_TYPE_NAME])

    def from_handle(self, ident: int, type_name: str) -> Any:
        if ident not in self.objects:
            raise codec.ProtocolError(f"unknown handle {ident}")
        return self.objects[ident]

    def error(self, kind: str, exc: BaseException | None, message: str = "") -> dict[str, Any]:
        line = function = None
        if exc is not None:
            if not message:
                try:
                    message = str(exc)
                except Exception:
                    message = "<exception message could not be printed>"
            if isinstance(exc, SyntaxError) and exc.filename == self.filename:
                line = exc.lineno
            for frame, lineno in traceback.walk_tb(exc.__traceback__):
                if frame.f_code.co_filename == self.filename:
                    line, function = lineno, frame.f_code.co_name
        return {
            "r": "err",
            "kind": kind,
            "line": line,
            "fn": function,  # the student's function that line is in (a helper, maybe)
            "msg": message[:MESSAGE_CAP],
            "type": type(exc).__name__[:100] if exc is not None else None,
        }

    def compile(self, source: str, flags: int = 0, first_line: int = 1) -> Any:
        """``source`` compiled (with the ``__future__`` ``flags`` of earlier cells; its first
        line numbered ``first_line``), or the error reply that says why it does not compile."""
        try:
            if first_line == 1:
                return compile(source, self.filename, "exec", flags=flags, dont_inherit=True)
            try:
                tree = ast.parse(source, self.filename)
            except SyntaxError as exc:
                if exc.lineno is not None:
                    exc.lineno += first_line - 1
                raise
            ast.increment_lineno(tree, first_line - 1)
            return compile(tree, self.filename, "exec", flags=flags, dont_inherit=True)
        except (SyntaxError, ValueError) as exc:  # ValueError: null bytes in the source
            if isinstance(exc, SyntaxError):
                return self.error("exception", exc, exc.msg or "invalid syntax")
            result = self.error("exception", exc)
        except (MemoryError, RecursionError) as exc:  # nesting too deep for the compiler
            result = self.error(
                "exception", exc, "the file is nested too deeply for Python to compile it"
            )
        result["type"] = "SyntaxError"
        return result

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        self.next_id = int(request["handle_base"])
        self.filename = str(request["filename"])
        source = request["source"]
        notebook = self.filename.endswith(".ipynb")
        marks = request.get("cells") if notebook else None
        cells: list[tuple[int, str]] = []  # a notebook's: (number of its first line, source)
        code = None
        if type(marks) is list and marks and all(type(m) is int and m > 0 for m in marks):
            # A notebook runs cell by cell, as nbgrader runs it: an error in one cell does not
            # stop the next, and each cell is compiled on its own (a ``from __future__``
            # import at the top of a cell holds for the later ones, as in IPython). A cell's
            # source starts below its "# In[n]" line.
            lines = source.split("\n")
            marks = sorted(set(marks))
            if marks[0] > 1:  # (nothing comes before the first mark, but just in case)
                cells.append((1, "\n".join(lines[: marks[0] - 1])))
            ends = [*marks[1:], len(lines) + 1]
            cells += [
                (m + 1, "\n".join(lines[m : e - 1])) for m, e in zip(marks, ends, strict=True)
            ]
        else:
            code = self.compile(source)
            if isinstance(code, dict):
                return code
        seed = request.get("entropy")
        if type(seed) is int and seed >= 0:
            fix_randomness(seed)
        module = types.ModuleType(request["module"])
        module.__file__ = self.filename
        if notebook:  # what Jupyter gives every notebook, so its code runs here as it did there
            module.__dict__.update(JUPYTER_BUILTINS)
        sys.modules[request["module"]] = module
        failed: list[dict[str, Any]] = []
        if code is not None:  # a .py file: one module, stopped by the grader's limit alone
            try:
                exec(code, module.__dict__)
            except BaseException as exc:  # SystemExit and KeyboardInterrupt are the student's too
                return self.error("exception", exc)
        else:
            failed = self.run_cells(cells, module.__dict__)
        self.module = module
        names = [
            name
            for name, value in list(vars(module).items())
            if type(name) is str
            and not name.startswith("__")
            and callable(value)
            and not (notebook and JUPYTER_BUILTINS.get(name) is value)  # not the student's
        ]
        reply: dict[str, Any] = {"r": "ready", "fns": names}
        if failed:
            reply["failed_cells"] = failed[:MAX_FAILED_CELLS]
            reply["failed_count"] = len(failed)
        return reply

    def run_cells(self, cells: list[tuple[int, str]], namespace: dict[str, Any]) -> list[Any]:
        """Run a notebook's cells in ``namespace``; the error replies of those that failed.

        As nbgrader stops a cell that runs too long and goes on with the next one, a cell may
        compute for half of what is left of the cells' CPU time, a share of the file's limit;
        the rest of that limit (which the grader enforces, waiting included) is left for what
        the CPU timer does not see."""
        failed: list[dict[str, Any]] = []
        flags = 0
        started = _process_time()
        for first, cell in cells:
            try:
                code = self.compile(cell, flags, first)
                if isinstance(code, dict):
                    failed.append({**code, "first": first})
                    continue
                flags |= code.co_flags & _FUTURE_FLAGS
                left = _CELLS_SHARE * self.import_timeout - (_process_time() - started)
                self.run_cell(code, namespace, max(left / 2, 0.001))
            except _CellStopped:
                seconds = _CELLS_SHARE * self.import_timeout
                stopped = self.error("exception", None, _STOPPED.format(seconds=seconds))
                failed.append({**stopped, "type": "TimeoutError", "first": first})
            except BaseException as exc:  # SystemExit and KeyboardInterrupt are the student's too
                failed.append(self.cell_error(exc, first))
        return failed

    def cell_error(self, exc: BaseException, first: int) -> dict[str, Any]:
        """The error reply for a cell that raised: at the line of that cell that failed, and
        ``raised`` at the line where the exception came from (a function of an earlier cell
        that the cell called), when that is elsewhere."""
        reply = self.error("exception", exc)
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == self.filename:  # the cell's own frame comes first
                if lineno != reply["line"]:
                    reply["raised"], reply["line"] = reply["line"], lineno
                break
        return {**reply, "first": first}

    def run_cell(self, code: types.CodeType, namespace: dict[str, Any], seconds: float) -> None:
        """``exec(code, namespace)``, stopped by ``_CellStopped`` after ``seconds`` of the
        process's CPU time, and again every ``_REFIRE`` s while the cell runs on (a loop with a
        bare ``except:`` swallows some; the grader's own limit for the file is the backstop)."""

        def stop(signum: int, frame: Any) -> None:
            if self.cell_armed:
                raise _CellStopped

        previous = _set_handler(signal.SIGPROF, stop) or signal.SIG_DFL
        try:
            # A pause in a cell (a live plot's) is for a reader: here it returns at once, so
            # only computing counts against the cells' time.
            time.sleep = self.pause
            self.cell_armed = True
            _setitimer(signal.ITIMER_PROF, seconds, _REFIRE)
            exec(code, namespace)
        finally:
            # A stop may still arrive while this runs: it is the cell's (the cell ran out of
            # time), and the clean-up starts again until it is done.
            while True:
                try:
                    self.cell_armed = False
                    _setitimer(signal.ITIMER_PROF, 0)
                    _set_handler(signal.SIGPROF, previous)
                    time.sleep = _real_sleep
                    break
                except _CellStopped:
                    continue

    def pause(self, seconds: float | SupportsIndex, /) -> None:
        """``time.sleep`` while a notebook's cells run: it checks its argument and does not
        wait; once they have run (``from time import sleep`` keeps this), it sleeps."""
        if not self.cell_armed:
            _real_sleep(seconds)
        elif float(seconds) < 0:
            raise ValueError("sleep length must be non-negative")

    def call(self, request: dict[str, Any], blobs: list[memoryview]) -> bytes:
        """Run one call and return the reply frame (a value, or why there is none)."""
        args = codec.decode(request["args"], blobs, self.from_handle)
        tags = {"seq": request["seq"]}
        frame, _ = self.run(request["fn"], args, bool(request["echo"]), tags, request.get("keep"))
        return frame

    def run(
        self, name: Any, args: Any, echo: bool, tags: dict[str, Any], keep: Any = ()
    ) -> tuple[bytes, tuple[Any, list[bytes]] | None]:
        """``name(*args)`` -> (reply frame, the result's encoding when there is a value).

        Items ``keep`` of a tuple or list result stay here as handles (``Worker.call``)."""
        function = getattr(self.module, name, None) if type(name) is str else None
        if self.module is None or not callable(function):
            return self.frame(self.error("missing", None, f"{name} is not defined"), **tags), None
        try:
            result = function(*args)
        except NotImplementedError as exc:
            return self.frame(self.error("not_implemented", exc), **tags), None
        except BaseException as exc:
            return self.frame(self.error("exception", exc), **tags), None
        try:
            if isinstance(result, tuple) and type(result) is not tuple:
                # A namedtuple of answers is the tuple it is: returned as one (its items keep
                # their types, so a namedtuple cache inside stays the student's object).
                result = tuple(tuple.__iter__(result))
            result = _plain_dict(result)
            if type(result) in (tuple, list):
                kept = {i for i in keep or () if type(i) is int}
                items = [
                    self.to_handle(item) if index in kept else _plain_dict(item)
                    for index, item in enumerate(result)
                ]
                result = tuple(items) if type(result) is tuple else items
            reply: dict[str, Any] = {"r": "ok"}
            if echo:
                frame, out = self.echoed(reply, result, args, tags)
            else:
                reply["v"], out = codec.encode(result, self.to_handle)
                frame = self.frame(reply, out, **tags)  # may fail too: ints too long for JSON
        except BaseException as exc:
            return self.frame(self.error("bad_return", exc), **tags), None
        if len(frame) > self.max_frame:
            message = (
                f"the value is {len(frame) / 2**20:.1f} MiB, more than the limit of "
                f"{self.max_frame >> 20} MiB"
            )
            return self.frame(self.error("bad_return", None, message), **tags), None
        return frame, (reply["v"], out)

    def echoed(
        self, reply: dict[str, Any], result: Any, args: Any, tags: dict[str, Any]
    ) -> tuple[bytes, list[bytes]]:
        """The reply frame of a call that echoes its arguments (one encode for the result and
        the arguments, so the blob indices of the echoed ones do not collide with its own).

        An argument that cannot come back as data (a student's cache nested deeper than the
        codec goes, or too large for a frame) comes back as a handle, as objects that are not
        data do: the echo must not cost the call its result.
        """
        try:
            both, out = codec.encode((result, tuple(args)), self.to_handle)
            reply["v"], reply["e"] = both["T"]
            frame = self.frame(reply, out, **tags)
            if len(frame) <= self.max_frame:
                return frame, out
        except ValueError:
            pass
        echo = tuple(arg if self.fits(arg) else self.to_handle(arg) for arg in args)
        both, out = codec.encode((result, echo), self.to_handle)
        reply["v"], reply["e"] = both["T"]
        return self.frame(reply, out, **tags), out

    def fits(self, value: Any) -> bool:
        """Whether ``value`` can cross as data, in at most a quarter of a frame."""
        try:
            _, blobs = codec.encode(value, self.to_handle)
        except ValueError:
            return False
        return sum(len(blob) for blob in blobs) <= self.max_frame // 4

    def batch(self, request: dict[str, Any], blobs: list[memoryview]) -> None:
        """Run the steps in order, replying to each as soon as it is done.

        An argument ``{"ref": [step, index, length]}`` is item ``index`` of that earlier
        step's result, which must have been a tuple or list of ``length`` items: decoded from
        the result's encoding, exactly as if the grader had received it and sent it back.
        A step whose ``requires`` ([step, length] pairs) or refs do not hold is skipped.
        """
        done: list[tuple[Any, list[bytes]] | None] = []
        for number, step in enumerate(request["steps"]):
            tags = {"seq": request["seq"], "step": number}
            args: list[Any] = []
            ok = all(
                self.items(done, needed, length) is not _UNRESOLVED
                for needed, length in step["requires"]
            )
            for spec in step["args"] if ok else ():
                value = (
                    self.item(done, *spec["ref"])
                    if "ref" in spec
                    else codec.decode(spec["v"], blobs, self.from_handle)
                )
                if value is _UNRESOLVED:
                    ok = False
                    break
                args.append(value)
            if not ok:
                done.append(None)
                self.sock.sendall(self.frame({"r": "skip"}, **tags))
                continue
            frame, encoded = self.run(step["fn"], args, bool(step["echo"]), tags, step.get("keep"))
            done.append(encoded)
            self.flush_output()
            self.sock.sendall(frame)

    @staticmethod
    def items(done: list[tuple[Any, list[bytes]] | None], step: Any, length: Any) -> Any:
        """The encoded items and blobs of step ``step``'s result if it was a tuple or list of
        ``length`` items, else ``_UNRESOLVED``."""
        encoded = done[step] if type(step) is int and 0 <= step < len(done) else None
        if encoded is None:
            return _UNRESOLVED
        tree, out = encoded
        if type(tree) is not dict or len(tree) != 1:
            return _UNRESOLVED
        ((tag, items),) = tree.items()
        if tag not in ("T", "L") or len(items) != length:
            return _UNRESOLVED
        return items, out

    def item(
        self, done: list[tuple[Any, list[bytes]] | None], step: Any, index: Any, length: Any
    ) -> Any:
        """Item ``index`` of that result (see ``items``), decoded afresh from its encoding."""
        found = self.items(done, step, length)
        if found is _UNRESOLVED or type(index) is not int or not 0 <= index < length:
            return _UNRESOLVED
        items, out = found
        return codec.decode(items[index], [memoryview(b) for b in out], self.from_handle)

    @staticmethod
    def frame(reply: dict[str, Any], blobs: list[bytes] = [], **tags: Any) -> bytes:  # noqa: B006
        return codec.pack({**reply, **tags}, blobs, max_json=codec.MAX_JSON)

    def serve(self) -> NoReturn:
        while True:
            body = _recv_frame(self.sock)
            if body is None:  # the grader closed the channel: we are done
                os._exit(0)
            header, blobs = codec.unpack(body)
            if header["op"] == "load":
                frame = self.frame(self.load(header), seq=header["seq"])
            elif header["op"] == "batch":
                self.batch(header, blobs)  # replies step by step
                continue
            else:
                frame = self.call(header, blobs)
            self.flush_output()
            self.sock.sendall(frame)


class Streams:
    """A worker's stdin, stdout and stderr, made in the runner once (``prepare``).

    Every worker inherits an unused copy and only installs it: they refer to descriptors 0, 1
    and 2 by number, which ``_setup_fds`` points at /dev/null and the output pipe first.
    Made here, they cost each worker about 0.3 ms of CPU (its pages copied on first use).
    """

    made: tuple[io.TextIOWrapper, io.TextIOWrapper, io.TextIOWrapper] | None = None

    @classmethod
    def prepare(cls) -> None:
        """Called by the runner; nothing ever reads or writes these in the runner itself."""
        stdout, stderr = (
            io.TextIOWrapper(
                io.FileIO(fd, "w", closefd=False),
                encoding="utf-8",
                errors="backslashreplace",
                line_buffering=True,  # so prints reach the grader in order
            )
            for fd in (1, 2)
        )
        cls.made = (open(0, closefd=False), stdout, stderr)  # noqa: SIM115 - lives as we do

    @classmethod
    def install(cls) -> None:
        if cls.made is None:
            cls.prepare()
        assert cls.made is not None
        for name, stream in zip(("stdin", "stdout", "stderr"), cls.made, strict=True):
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)


def main(
    channel: int, output: int, status: int, config: dict[str, Any], runner_pid: int
) -> NoReturn:
    """Entry point in the forked child; never returns."""
    try:
        _setup_fds(channel, output, status)
        Streams.install()
        sock = socket.socket(fileno=CHANNEL_FD)
        sock.setblocking(True)
    except BaseException:
        os._exit(SETUP_FAILED)
    try:
        confine_self(config, runner_pid)
    except BaseException as exc:
        try:
            os.write(STATUS_FD, f"{type(exc).__name__}: {exc}".encode()[:4000] or b"?")
        finally:
            os._exit(SETUP_FAILED)
    os.write(STATUS_FD, SETUP_OK)
    os.close(STATUS_FD)
    try:
        limits = Limits.from_json(config["limits"])
        _Session(sock, limits).serve()
    except BaseException:
        os._exit(1)
