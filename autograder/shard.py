"""A grading shard: one pytest session that grades many submissions, one after another.

``autograder grade`` starts one of these as a zygote (``python -m autograder.shard`` with a
control socket, see ``Zygote``): it collects the hidden tests ONCE and validates their rubric
binding, then forks the ``--jobs`` shards (and more as the pool grows). Without a zygote each
shard is started the same way and collects for itself. A shard reads tasks (one submission
each) as JSON lines on stdin and answers each with a JSON line of test outcomes on its
protocol pipe. Student code never runs here either: the shard owns a ``Sandbox`` whose
workers run it.

Messages to the parent (one JSON object per line):
  {"type": "zygote"}                                          a zygote, after collection
  {"type": "ready", "tests": {item_id: [test ids]}}          a shard, with its sandbox started
  {"type": "config_error", "message": "file:line: problem"}  binding is broken; the shard exits
  {"type": "result", "student": ..., "status": ..., "outcomes": [...], "load_problem": ...,
   "load_error": kind or "",
   "output": ...}                                               one per task
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import random
import resource
import signal
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest

from autograder.direct import DirectTest, plan, run_direct
from autograder.errors import RUNNER_LOST_EXIT, STOPPED_EXIT, AutograderError, StudentError
from autograder.limits import GradingLimits
from autograder.plugin import STATE, GradingState, StudentRun, binding_of, seed_for
from autograder.rubric import load_rubric, validate_binding
from autograder.sandbox import confine
from autograder.scoring import STATUS_ERROR, STATUS_GRADED


@dataclass(frozen=True)
class ShardConfig:
    """Everything a shard needs; sent as the first line on its stdin (never in argv or env)."""

    rubric_path: str
    reference_path: str | None
    tests: list[str]
    rootdir: str
    secret: str
    limits: dict[str, Any]
    slot: int
    hide: list[str]
    isolation: str = "auto"
    # Call plain hidden tests directly instead of through pytest's per-test protocol
    # (autograder.direct); off only to compare the two.
    direct: bool = True
    # Set for a zygote: the descriptor of its control socket (see ``Zygote``).
    control_fd: int | None = None
    # The grader's pid: a shard (and the zygote) is killed when the grader dies (``_die_with``).
    grader_pid: int | None = None


class ShardPlugin:
    """Replaces pytest's run loop: every collected test, once per submission."""

    def __init__(self, config: ShardConfig, tasks: IO[str], out: IO[str]) -> None:
        self.config = config
        self.tasks = tasks
        self.out = out
        self.rubric = load_rubric(Path(config.rubric_path))
        self.limits = GradingLimits(**config.limits)
        self.state = GradingState(
            rubric=self.rubric,
            reference_path=Path(config.reference_path) if config.reference_path else None,
            secret=config.secret,
        )
        self.sandbox: Any = None
        self.collect_errors: list[str] = []
        self.plan: list[DirectTest | pytest.Item] = []
        self.continued = 0  # how often this process was continued after a stop (SIGCONT)

    def note_continued(self, signum: int, frame: object) -> None:
        self.continued += 1

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            lines = [ln for ln in str(report.longreprtext).splitlines() if ln.strip()]
            tail = lines[-1] if lines else "unknown error"
            self.collect_errors.append(f"{report.nodeid}: cannot collect the tests: {tail}")

    def send(self, message: dict[str, Any]) -> None:
        self.out.write(json.dumps(message) + "\n")
        self.out.flush()

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[STATE] = self.state
        # Outcomes come from the exceptions themselves; pytest's own long tracebacks (it parses
        # the source of every frame) made each failing test cost tens of milliseconds. (This is
        # --tb=native, set directly: the option belongs to the terminal plugin, which is off.)
        config.option.tbstyle = "native"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if self.collect_errors:
            self.send({"type": "config_error", "message": "; ".join(self.collect_errors)})
            return True
        try:
            by_item = validate_binding(self.rubric, [binding_of(i) for i in session.items])
        except AutograderError as exc:
            self.send({"type": "config_error", "message": str(exc)})
            return True
        self.plan = plan(session.items) if self.config.direct else list(session.items)
        # pytest, numpy, the grader and the collected tests live as long as we do: frozen,
        # full collections stop walking them for every submission, and processes forked
        # from here stop copying the pages such walks would touch.
        gc.collect()
        gc.freeze()
        # A zygote: collected once; from here on it forks grading processes. ``serve`` returns
        # True in each child, which goes on as an ordinary shard, and False in the zygote
        # once the grader closes the control socket.
        if self.config.control_fd is not None and not Zygote(self).serve():
            return True
        from autograder.sandbox import Sandbox

        hide = [Path(p) for p in self.config.hide]
        with Sandbox(slot=self.config.slot, hide=hide, mode=self.config.isolation) as sandbox:
            self.sandbox = sandbox
            self.send(
                {
                    "type": "ready",
                    "tests": {k: list(v) for k, v in by_item.items()},
                    "isolation_warning": sandbox.report.warning,
                }
            )
            ready = _cpu(resource.RUSAGE_SELF)
            graded = 0
            for line in self.tasks:
                if not line.strip():
                    continue
                task = json.loads(line)
                self.send(self.grade_one(task))
                graded += 1
        # Where this process's CPU went, for benchmarks/throughput.py (the runner and its
        # workers count once the sandbox is closed, as reaped children).
        account = {
            "submissions": graded,
            "startup": round(ready, 4),
            "tests": round(_cpu(resource.RUSAGE_SELF) - ready, 4),
            "sandbox": round(_cpu(resource.RUSAGE_CHILDREN), 4),
        }
        print(f"cpu account: {json.dumps(account)}", flush=True)
        return True

    def grade_one(self, task: dict[str, Any]) -> dict[str, Any]:
        run = StudentRun(
            student=task["student"],
            source=task["source"],
            filename=task["filename"],
            beside=task.get("beside", ()),
            module=self.rubric.module_stem,
            limits=self.limits,
            sandbox=self.sandbox,
            entropy=seed_for(self.state.secret, task["student"], "entropy"),
        )
        self.state.run = run
        self.state.outcomes = []
        generation = self.sandbox.runner_generation
        continued = self.continued
        status, problem, kind = STATUS_GRADED, "", ""
        try:
            run.worker()
        except StudentError as exc:
            # Nothing can be checked when the file itself does not run; say why, once.
            status, problem, kind = STATUS_ERROR, exc.describe(), exc.kind
            if note := run.beside_note():
                problem = f"{problem}{'' if problem.endswith(('.', '?', '!')) else '.'} {note}"
        if status == STATUS_GRADED:
            problem = run.cells_note()
            self.run_tests()
        output = run.close()
        self.state.run = None
        if not self.sandbox.runner_intact(generation):
            # A call may have failed because the sandbox runner died under it, which the
            # student did not do: give no result. The grader retries the submission once in
            # a new grading process (and only then calls it the grader's failure).
            print(f"the sandbox runner died while grading {task['student']}", file=sys.stderr)
            sys.stderr.flush()
            os._exit(RUNNER_LOST_EXIT)
        if self.continued != continued:
            # Stopped meanwhile (Ctrl-Z stops the grader's process group, not the sandboxes):
            # time limits are measured here, so a call that outlasted its limit during the
            # pause came back "in time", and a pause as long as the budget cut tests off.
            # Give no result: the grader grades the submission again in a new process.
            print(f"stopped and continued while grading {task['student']}", file=sys.stderr)
            sys.stderr.flush()
            os._exit(STOPPED_EXIT)
        return {
            "type": "result",
            "student": task["student"],
            "status": status,
            "load_problem": problem,
            "load_error": kind,
            "outcomes": [o.to_json() for o in self.state.outcomes],
            "output": output,
        }

    def run_tests(self) -> None:
        """Every hidden test once, in collection order, for the current submission."""
        protocol = [t for t in self.plan if isinstance(t, pytest.Item)]
        following = {
            item: protocol[i + 1] if i + 1 < len(protocol) else None
            for i, item in enumerate(protocol)
        }
        for test in self.plan:
            if isinstance(test, DirectTest):
                self.state.outcomes.append(run_direct(test, self.state))
            else:
                _reset(test)
                test.ihook.pytest_runtest_protocol(item=test, nextitem=following[test])


class Zygote:
    """Forks ready-collected grading processes on request, so each skips Python's start,
    the imports and the collection (about 0.4 s of CPU each).

    Requests come on the control socket: ``{"slot": n, "log": path}`` with two descriptors,
    the task pipe's read end and the result pipe's write end. The child is made with
    ``clone(CLONE_PARENT)``: it is the *grader's* child, not ours, so the grader waits for
    it, kills it and counts its CPU exactly as for a process it started itself. The answer
    is ``{"pid": n}``, or ``{"error": why}`` (the grader then starts one the usual way).
    Only the zygote's own thread exists (no BLAS threads: the grader sets them to 1), which
    is what makes a bare clone safe here.
    """

    def __init__(self, plugin: ShardPlugin) -> None:
        assert plugin.config.control_fd is not None
        self.plugin = plugin
        self.control = socket.socket(fileno=plugin.config.control_fd)

    def serve(self) -> bool:
        """Returns False in the zygote when it is done, True in each forked child."""
        self.plugin.send({"type": "zygote"})
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.control, 65536, 2)
            except OSError:
                data, fds = b"", []
            if not data:
                for fd in fds:
                    os.close(fd)
                self.control.close()
                return False
            try:
                request = json.loads(data)
                if len(fds) != 2:
                    raise ValueError(f"{len(fds)} descriptors instead of 2")
                pid = _clone_parent()
            except (ValueError, OSError) as exc:
                for fd in fds:
                    os.close(fd)
                self.control.sendall(json.dumps({"error": str(exc)}).encode() + b"\n")
                continue
            if pid == 0:
                self.become_shard(request, fds[0], fds[1])
                return True
            for fd in fds:
                os.close(fd)
            self.control.sendall(json.dumps({"pid": pid}).encode() + b"\n")

    def become_shard(self, request: dict[str, Any], tasks: int, results: int) -> None:
        """In the child: our own log, tasks, results and slot; nothing of the zygote's."""
        self.control.close()
        _redirect_log(str(request["log"]))
        # The protocol file object keeps its descriptor number, now on our result pipe.
        os.dup2(results, self.plugin.out.fileno())
        os.close(results)
        os.dup2(tasks, 0)
        os.close(tasks)
        self.plugin.tasks = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        self.plugin.config = replace(self.plugin.config, slot=int(request["slot"]), control_fd=None)
        _die_with(self.plugin.config.grader_pid)  # a clone does not inherit the zygote's
        # A bare clone runs none of Python's after-fork hooks: reseed what a test might use.
        random.seed()
        np.random.seed()


_CLONE_PARENT = 0x00008000
_SYS_CLONE = {"x86_64": 56, "aarch64": 220}


def _clone_parent() -> int:
    """``fork()``, but the child's parent is our parent (``clone(CLONE_PARENT | SIGCHLD)``)."""
    number = _SYS_CLONE.get(os.uname().machine)
    if number is None:
        raise OSError(f"clone is not wired up for {os.uname().machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    pid = libc.syscall(
        ctypes.c_long(number), ctypes.c_ulong(_CLONE_PARENT | signal.SIGCHLD), 0, 0, 0, 0
    )
    if pid < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"clone: {os.strerror(err)}")
    return int(pid)


def _die_with(grader: int | None) -> None:
    """Be killed (SIGKILL) as soon as the grader dies, however it dies.

    Without this, a grader killed on its own (``kill -9 PID``, not the whole process group)
    would leave its shards grading on for nobody: each finishes its current submission, up to
    its whole budget, holding a core and a sandbox slot while the rerun starts. The shard's
    runner and workers die with the shard (theirs is armed the same way).
    """
    if grader is None:
        return
    confine.prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != grader:  # the grader died before the signal was armed
        os._exit(1)


def _redirect_log(path: str) -> None:
    """pytest's own chatter (and anything else on fds 1 and 2) goes to ``path``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _reset(item: pytest.Item) -> None:
    """Let a test run again for the next submission.

    pytest keeps filled-in fixture values on the item, and ``record_property`` appends to
    ``item.user_properties``: left alone, one student's numbers would show up in the next
    student's outcomes, and memory would grow with the class.
    """
    item.user_properties = []
    init = getattr(item, "_initrequest", None)
    if init is not None:
        init()


def main(argv: Sequence[str] | None = None) -> int:
    # The protocol goes to a private copy of stdout; pytest's own chatter goes to a log (or
    # nowhere), so nothing a test prints can be mistaken for a result.
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    _redirect_log(os.environ.get("AUTOGRADER_SHARD_LOG", os.devnull))
    # Only our plugin, loaded explicitly below: entry-point plugins of unrelated packages
    # (anyio comes with nbgrader) cost startup time and per-test hooks.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    header = sys.stdin.readline()
    config = ShardConfig(**json.loads(header))
    _die_with(config.grader_pid)
    plugin = ShardPlugin(config, sys.stdin, proto)
    signal.signal(signal.SIGCONT, plugin.note_continued)  # kept by the processes forked below
    args = [
        *config.tests,
        "--rootdir",
        config.rootdir,
        # conftest.py files are loaded from solutions/<a>/ down, never from above it (which
        # pytest would otherwise do when the course has a pyproject.toml or pytest.ini).
        "--confcutdir",
        config.rootdir,
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "autograder.plugin",
        "-p",
        "no:logging",
        "-p",
        "no:warnings",
        "-s",
        # No terminal reporter: it keeps every report of the run (48 per submission).
        "-p",
        "no:terminal",
    ]
    code = pytest.main(args, plugins=[plugin])
    proto.flush()
    return 0 if code in (0, 1, 5) else int(code)


if __name__ == "__main__":
    sys.exit(main())
