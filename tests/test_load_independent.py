"""Time limits charge a submission for its own time, not for the load of the machine.

A worker that waits for a CPU (because the grader runs more processes than cores, or anything
else runs) is not charged for the wait: ``call_timeout``, ``import_timeout`` and the time
budget count wall-clock time minus the time the worker spent runnable but not running
(``/proc/PID/schedstat``), so a grade is the same with ``--jobs 1`` and with a full pool.

Each test makes the contention real: it pins the worker and two busy processes to one CPU, so
the worker gets about a third of it, and checks that the calls took longer in wall-clock time
than the limit they are held to (otherwise the test would prove nothing).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from autograder.errors import StudentCrash, StudentTimeout
from autograder.limits import GradingLimits
from autograder.plugin import StudentRun
from autograder.sandbox import Limits, Sandbox
from autograder.sandbox.model import Step
from autograder.sandbox.worker import MAX_STRETCH

SOURCE = """
import time

def spin(seconds):
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return time.process_time() - start

def forever():
    while True:
        pass

def busy_threads_then_nap(threads, seconds):
    # Threads that really compete for the CPUs (hashlib lets go of the GIL), then a nap.
    import hashlib, threading
    stop = []
    def burn():
        while not stop:
            hashlib.sha256(b"x" * 2**20).digest()
    for _ in range(threads):
        threading.Thread(target=burn, daemon=True).start()
    time.sleep(seconds)
    stop.append(1)

def crash():
    import os
    os._exit(3)
"""
SLOW_IMPORT = (
    SOURCE
    + """
spin(0.5)
"""
)
HOG = "import os, sys; os.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True: pass"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(slot=7) as box:
        yield box


@contextmanager
def crowded(pid: int | None, hogs: int = 2) -> Iterator[None]:
    """``pid`` shares one CPU with ``hogs`` busy processes while the block runs; with no pid,
    every CPU of this process is crowded so (whatever starts on it)."""
    cpus = [min(os.sched_getaffinity(0))] if pid is not None else sorted(os.sched_getaffinity(0))
    if pid is not None:
        os.sched_setaffinity(pid, set(cpus))
    # Each hog in a session of its own: the scheduler shares a CPU between sessions first
    # (autogroup), and the sandbox's runner has one of its own.
    procs = [
        subprocess.Popen([sys.executable, "-c", HOG, str(cpu)], start_new_session=pid is None)
        for cpu in cpus
        for _ in range(hogs)
    ]
    try:
        time.sleep(0.2)  # let them start spinning
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def test_a_call_is_not_charged_for_waiting_for_a_cpu(sandbox: Sandbox) -> None:
    worker = sandbox.spawn(SOURCE, filename="s.py", module="s", limits=Limits(call_timeout=1.0))
    try:
        with crowded(worker.pid):
            started = time.monotonic()
            used = worker.call("spin", 0.6)
            took = time.monotonic() - started
            waited = worker.waited()
    finally:
        worker.close()
    assert used >= 0.6
    assert took > 1.0, "no contention: the test proves nothing"
    assert took - waited < 1.0  # what it was charged
    assert worker.waited() == waited  # closed: the last value read


def test_an_endless_call_still_times_out_under_contention(sandbox: Sandbox) -> None:
    worker = sandbox.spawn(SOURCE, filename="s.py", module="s", limits=Limits(call_timeout=0.5))
    try:
        with crowded(worker.pid):
            started = time.monotonic()
            with pytest.raises(StudentTimeout, match=r"forever did not return within 0\.5 s"):
                worker.call("forever")
            took = time.monotonic() - started
    finally:
        worker.close()
    assert took > 0.5 + 0.2, "no contention: the test proves nothing"
    assert took < MAX_STRETCH * 0.5 + 1.0


def test_the_time_budget_is_not_charged_for_waiting_either(sandbox: Sandbox) -> None:
    limits = GradingLimits(call_timeout=1.0, import_timeout=2.0, budget_seconds=1.5)
    run = StudentRun("s", SOURCE, "s.py", "s", limits, sandbox)
    try:
        worker = run.worker()
        with crowded(worker.pid):
            started = time.monotonic()
            results = run.batch([Step("spin", (0.4,))] * 3)
            took = time.monotonic() - started
    finally:
        run.close()
    assert [r.ok for r in results] == [True, True, True], [r.error for r in results]
    assert took > 1.5, "no contention: the test proves nothing"


def test_starting_a_worker_is_charged_to_the_budget_without_waiting(sandbox: Sandbox) -> None:
    # Each (re)start runs the file, which takes 0.5 s of its own: three starts and a little
    # work fit a 2 s budget however long the crowded CPUs make them take.
    limits = GradingLimits(call_timeout=1.0, import_timeout=2.0, budget_seconds=2.0)
    run = StudentRun("s", SLOW_IMPORT, "s.py", "s", limits, sandbox)
    try:
        with crowded(None, hogs=3):
            started = time.monotonic()
            for _ in range(2):
                with pytest.raises(StudentCrash):
                    run.call("crash", (), False)
            used = run.call("spin", (0.1,), False)
            took = time.monotonic() - started
    finally:
        run.close()
    assert used >= 0.1
    assert took > 2.0, "no contention: the test proves nothing"


def test_busy_threads_of_its_own_buy_a_call_no_time(sandbox: Sandbox) -> None:
    # Six busy threads on the CPUs "wait" far longer than the call lasts; were their waits
    # credited, the nap would outlast its limit unpunished (up to 4x, then the budget).
    worker = sandbox.spawn(SOURCE, filename="s.py", module="s", limits=Limits(call_timeout=1.0))
    try:
        started = time.monotonic()
        with pytest.raises(StudentTimeout):
            worker.call("busy_threads_then_nap", 6, 3.0)
        took = time.monotonic() - started
    finally:
        worker.close()
    assert took < 1.0 + 0.5
