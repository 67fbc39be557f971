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

from autograder.course import GradingLimits
from autograder.errors import BudgetExhausted, StudentCrash, StudentTimeout
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

def spin_in_a_thread(seconds):
    import threading
    done = []
    thread = threading.Thread(target=lambda: done.append(spin(seconds)))
    thread.start()
    thread.join()
    return done[0]

def thread_then_main(first, then):
    return spin_in_a_thread(first) + spin(then)

def spin_thread(seconds):
    # In numpy, which lets go of the GIL: the threads run (or wait for a CPU) at once.
    import numpy as np
    a = np.ones((200, 200))
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        a @ a

def spin_in_threads(n, seconds):
    import threading
    threads = [threading.Thread(target=spin_thread, args=(seconds,)) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

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


def test_work_done_in_a_thread_is_not_charged_for_waiting_either(sandbox: Sandbox) -> None:
    # The main thread waits in join() (sleeping, not waiting for a CPU) while another thread
    # of the worker, pinned to the crowded CPU with it, does the work.
    worker = sandbox.spawn(SOURCE, filename="s.py", module="s", limits=Limits(call_timeout=1.0))
    try:
        with crowded(worker.pid):
            started = time.monotonic()
            used = worker.call("spin_in_a_thread", 0.6)
            took = time.monotonic() - started
    finally:
        worker.close()
    assert used >= 0.6
    assert took > 1.0, "no contention: the test proves nothing"


def test_the_waits_of_a_thread_that_has_finished_still_count(sandbox: Sandbox) -> None:
    worker = sandbox.spawn(SOURCE, filename="s.py", module="s", limits=Limits(call_timeout=1.0))
    try:
        with crowded(worker.pid):
            started = time.monotonic()
            used = worker.call("thread_then_main", 0.4, 0.3)
            took = time.monotonic() - started
    finally:
        worker.close()
    assert used >= 0.7
    assert took > 1.0, "no contention: the test proves nothing"


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


def test_threads_waiting_for_each_other_earn_no_budget(sandbox: Sandbox) -> None:
    # Four threads on one CPU each wait while the others run: together they "waited" three
    # times as long as the call took. That can cost nothing, but never add to the budget.
    limits = GradingLimits(call_timeout=2.0, import_timeout=2.0, budget_seconds=1.0)
    run = StudentRun("s", SOURCE, "s.py", "s", limits, sandbox)
    try:
        worker = run.worker()
        with crowded(worker.pid, hogs=0):
            run.call("spin_in_threads", (4, 0.2), False)
            assert worker.waited() > 1.0  # more than the wall time of the call
            run.call("spin", (0.6,), False)
            run.call("spin", (0.6,), False)
            with pytest.raises(BudgetExhausted):
                run.call("spin", (0.1,), False)
    finally:
        run.close()
