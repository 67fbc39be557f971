"""A grading shard: one pytest session that grades many submissions, one after another.

``autograder grade`` starts ``--jobs`` shards (``python -m autograder.shard``). Each collects the
hidden tests ONCE, validates their rubric binding, then reads tasks (one submission each) as JSON
lines on stdin and answers each with a JSON line of test outcomes on its protocol pipe. Student
code never runs here either: the shard owns a ``Sandbox`` whose workers run it.

Messages to the parent (one JSON object per line):
  {"type": "ready", "tests": {item_id: [test ids]}}          after collection
  {"type": "config_error", "message": "file:line: problem"}  binding is broken; the shard exits
  {"type": "result", "student": ..., "status": ..., "outcomes": [...], "load_problem": ...,
   "load_error": kind or "",
   "output": ...}                                               one per task
"""

from __future__ import annotations

import json
import os
import resource
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from autograder.course import GradingLimits
from autograder.direct import DirectTest, plan, run_direct
from autograder.errors import AutograderError, StudentError
from autograder.plugin import STATE, GradingState, StudentRun, binding_of
from autograder.rubric import load_rubric, validate_binding
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
            module=self.rubric.module_stem,
            limits=self.limits,
            sandbox=self.sandbox,
        )
        self.state.run = run
        self.state.outcomes = []
        status, problem, kind = STATUS_GRADED, "", ""
        try:
            run.worker()
        except StudentError as exc:
            # Nothing can be checked when the file itself does not run; say why, once.
            status, problem, kind = STATUS_ERROR, exc.describe(), exc.kind
        if status == STATUS_GRADED:
            self.run_tests()
        output = run.close()
        self.state.run = None
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
    log_path = os.environ.get("AUTOGRADER_SHARD_LOG", os.devnull)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    # Only our plugin, loaded explicitly below: entry-point plugins of unrelated packages
    # (anyio comes with nbgrader) cost startup time and per-test hooks.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    header = sys.stdin.readline()
    config = ShardConfig(**json.loads(header))
    plugin = ShardPlugin(config, sys.stdin, proto)
    args = [
        *config.tests,
        "--rootdir",
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
