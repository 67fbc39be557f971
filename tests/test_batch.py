"""Batches: several calls in one round trip, each ending exactly as the same calls one by one.

``Worker.batch`` is the protocol (refs, requirements, a reply per step, its own timeout per
step); ``StudentRun.batch`` adds what a run of separate calls would do after a crash, a timeout
or a spent budget. Every test compares with the calls made one at a time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from autograder.errors import (
    BudgetExhausted,
    StudentCrash,
    StudentError,
    StudentException,
    StudentTimeout,
)
from autograder.limits import GradingLimits
from autograder.plugin import StudentRun
from autograder.sandbox import Handle, Limits, Sandbox
from autograder.sandbox.model import Ref, Step, StepResult

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux >= 5.3")

FAST = Limits(call_timeout=1.0, import_timeout=1.0, cpu_seconds=10, memory_mb=128)

SOURCE = """
import os
import time

import numpy as np

calls = []


class Cache:
    def __init__(self, x, W):
        self.x, self.W = x, W


def forward(x, W, b):
    calls.append("forward")
    return x @ W + b, (x.copy(), W.copy())


def forward_object(x, W, b):
    return x @ W + b, Cache(x, W)


def forward_list(x, W, b):
    return [x @ W + b, (x, W)]


def forward_three(x, W, b):
    return x @ W + b, (x, W), None


def backward(dy, cache):
    calls.append("backward")
    x, W = (cache.x, cache.W) if isinstance(cache, Cache) else cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def mutate(dy, cache):
    cache[0][...] = 0.0  # changes its own copy only: a ref arrives decoded afresh
    return backward(dy, cache)


def raises(*args):
    raise ValueError("no")


def sleeps(*args):
    time.sleep(5)


def calls_sleeps(*args):
    return sleeps()


def slow_when_large(x):
    if x.size > 100:
        time.sleep(5)
    return x.sum()


def slow_when_odd(x):
    if x.size % 2:
        time.sleep(5)
    return x.sum()


def spins(*args):
    print("before the loop")
    while True:
        pass


def spins_deaf(*args):
    import signal

    signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    while True:
        pass


def calls_deaf(*args):
    return spins_deaf()


def dies(*args):
    os._exit(3)


def history():
    return list(calls)
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(slot=43) as box:
        yield box


def inputs(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(4, 3)),
        rng.normal(size=(3, 2)),
        rng.normal(size=2),
        rng.normal(size=(4, 2)),
    )


def one_by_one(run: StudentRun, steps: Sequence[Step]) -> list[StepResult]:
    """What a test calling ``run.call`` step by step would see (the reference behaviour)."""
    results: list[StepResult] = []
    for step in steps:
        needs = step.needs()
        values = []
        for needed, length in needs:
            r = results[needed]
            value = r.value[0] if steps[needed].echo and r.ok else r.value
            values.append(r.ok and type(value) in (tuple, list) and len(value) == length)
        if not all(values):
            results.append(StepResult(skipped=True))
            continue
        args = []
        for arg in step.args:
            if type(arg) is Ref:
                r = results[arg.step]
                value = r.value[0] if steps[arg.step].echo else r.value
                arg = value[arg.index]
            args.append(arg)
        try:
            results.append(StepResult(run.call(step.function, tuple(args), step.echo)))
        except StudentError as exc:
            results.append(StepResult(error=exc))
    return results


def summary(results: Sequence[StepResult]) -> list[Any]:
    """Comparable: values (arrays as lists), error types and messages, skips."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return ("array", value.dtype.str, value.tolist())
        if isinstance(value, tuple | list):
            return [type(value).__name__, *(plain(v) for v in value)]
        if isinstance(value, Handle):
            return ("handle", value.type_name)
        return value

    out: list[Any] = []
    for r in results:
        if r.skipped:
            out.append("skipped")
        elif r.error is not None:
            out.append((type(r.error).__name__, r.error.describe()))
        else:
            out.append(plain(r.value))
    return out


def new_run(sandbox: Sandbox, locate: bool = False, **limits: Any) -> StudentRun:
    """A grading run of SOURCE (``locate``: as check runs it, saying where a timeout was)."""
    grading = GradingLimits(call_timeout=1.0, import_timeout=2.0, budget_seconds=60.0)
    for key, value in limits.items():
        grading = GradingLimits(**{**grading.__dict__, key: value})
    return StudentRun("s", SOURCE, "linear.py", "linear", grading, sandbox, locate_timeouts=locate)


def both_ways(sandbox: Sandbox, steps: list[Step], **limits: Any) -> tuple[list[Any], list[Any]]:
    batched, single = new_run(sandbox, **limits), new_run(sandbox, **limits)
    try:
        got = summary(batched.batch(steps))
        want = summary(one_by_one(single, steps))
        got.append(("history", batched.call("history", (), False)))
        want.append(("history", single.call("history", (), False)))
        got.append(("output", batched.close()))
        want.append(("output", single.close()))
    finally:
        batched.close()
        single.close()
    return got, want


def chain(forward: str = "forward", backward: str = "backward", echo: bool = False) -> list[Step]:
    x, W, b, dy = inputs()
    return [
        Step(forward, (x, W, b), echo=echo),
        Step(backward, (dy, Ref(0, 1, 2)), echo=echo),
        Step("backward", (dy, Ref(0, 1, 2)), requires=((1, 3),)),
    ]


@pytest.mark.parametrize(
    "steps",
    [
        chain(),
        chain(echo=True),
        chain("forward_object"),  # the cache stays in the worker: a handle
        chain("forward_list"),  # a list is as good as a tuple
        chain("forward_three"),  # not (y, cache): everything after it is skipped
        chain(backward="mutate"),  # a ref is a fresh copy, like a round trip
        chain(backward="raises"),  # an exception: what needs it is skipped, the worker lives on
        chain("raises"),
    ],
    ids=["plain", "echo", "handle", "list", "three", "mutate", "raises-late", "raises-first"],
)
def test_a_batch_ends_every_step_as_calls_one_by_one(sandbox: Sandbox, steps: list[Step]) -> None:
    got, want = both_ways(sandbox, steps)
    assert got == want


def test_a_batch_is_one_round_trip_and_its_results_match(sandbox: Sandbox) -> None:
    worker = sandbox.spawn(SOURCE, filename="linear.py", module="linear", limits=FAST)
    try:
        sent = worker._seq
        results = worker.batch(chain())
        assert worker._seq == sent + 1
        x, W, b, dy = inputs()
        y, cache = results[0].value
        np.testing.assert_allclose(y, x @ W + b)
        for result in results[1:]:
            dx, dW, db = result.value
            np.testing.assert_allclose(dW, x.T @ dy)
    finally:
        worker.close()


@pytest.mark.parametrize("where", ["sleeps", "dies"])
def test_after_a_timeout_or_crash_the_rest_run_as_later_calls_would(
    sandbox: Sandbox, where: str
) -> None:
    x, W, b, dy = inputs()
    steps = [
        Step("forward", (x, W, b)),
        Step(where, (dy,)),
        Step("forward", (x, W, b)),
        Step("backward", (dy, Ref(2, 1, 2))),
        Step(where, (dy,)),  # after a timeout: "not run again", as for a later call
    ]
    got, want = both_ways(sandbox, steps)
    assert got == want
    expected = StudentTimeout if where == "sleeps" else StudentCrash
    assert got[1][0] == expected.__name__
    assert "sleeps did not return within 1 s" in got[1][1] or where == "dies"
    assert got[2][0] == got[3][0] == "tuple"  # a new worker went on


def test_a_worker_timeout_names_the_step_that_hung(sandbox: Sandbox) -> None:
    x, W, b, dy = inputs()
    worker = sandbox.spawn(SOURCE, filename="linear.py", module="linear", limits=FAST)
    try:
        results = worker.batch(
            [Step("forward", (x, W, b)), Step("sleeps", ()), Step("forward", (x, W, b))]
        )
    finally:
        worker.close()
    assert results[0].ok
    assert isinstance(results[1].error, StudentTimeout)
    assert "sleeps did not return" in results[1].error.describe()
    assert results[2].not_run


def test_a_spent_budget_refuses_the_rest_as_later_calls_would(sandbox: Sandbox) -> None:
    x, W, b, dy = inputs()
    steps = [Step("forward", (x, W, b)), Step("sleeps", ()), Step("forward", (x, W, b))]
    run = new_run(sandbox, budget_seconds=0.5)
    try:
        results = run.batch(steps)
    finally:
        run.close()
    assert results[0].ok
    assert isinstance(results[1].error, StudentTimeout | BudgetExhausted)
    assert isinstance(results[2].error, BudgetExhausted)


def test_a_batch_refuses_refs_that_do_not_point_back(sandbox: Sandbox) -> None:
    x, W, b, dy = inputs()
    worker = sandbox.spawn(SOURCE, filename="linear.py", module="linear", limits=FAST)
    try:
        with pytest.raises(ValueError, match="earlier"):
            worker.batch([Step("backward", (dy, Ref(0, 1, 2)))])
        with pytest.raises(ValueError, match="earlier"):
            worker.batch(
                [Step("forward", (x, W, b)), Step("forward", (x, W, b), requires=((1, 2),))]
            )
        assert worker.call("history") == []  # nothing was sent
    finally:
        worker.close()


def test_student_exceptions_in_a_batch_are_named_like_calls(sandbox: Sandbox) -> None:
    run = new_run(sandbox)
    try:
        (result,) = run.batch([Step("raises", ())])
    finally:
        run.close()
    assert isinstance(result.error, StudentException)
    assert result.error.describe() == "ValueError at linear.py line 44: in raises: no"


def test_an_error_kept_by_memo_is_raised_again_without_the_earlier_raises_frames(
    sandbox: Sandbox,
) -> None:
    """Every later test gets the same exception object; raised as it was, each raise added its
    frames to the last ones, so the Nth test's report held N tracebacks."""
    run = new_run(sandbox)
    depths = []
    try:
        for _ in range(4):
            with pytest.raises(StudentException) as excinfo:
                run.memo("key", lambda: run.call("raises", (), False))
            depths.append(len(excinfo.traceback))
    finally:
        run.close()
    assert depths[1] == depths[2] == depths[3], depths


def test_a_timeout_after_another_points_at_the_function_that_timed_out_first(
    sandbox: Sandbox,
) -> None:
    """A loop in a helper times out every function that calls it. Where the stack says so,
    the second timeout names the helper's line; where it cannot (the code silenced the
    question), it points at the helper that timed out before. Neither is called again."""
    run = new_run(sandbox)
    try:
        with pytest.raises(StudentTimeout) as first:
            run.call("spins_deaf", (), False)
        assert "earlier check either" not in str(first.value)
        (second,) = run.batch([Step("calls_deaf", ())])
        assert isinstance(second.error, StudentTimeout)
        message = str(second.error)
        assert "while running calls_deaf:" in message
        assert "(spins_deaf, which calls_deaf calls, did not finish in an earlier check" in message
        # A function that does not call it is not pointed at it.
        with pytest.raises(StudentTimeout) as third:
            run.call("slow_when_large", (np.ones(1000),), False)
        assert "earlier check either" not in str(third.value)
        with pytest.raises(StudentTimeout, match="calls_deaf did not finish in an earlier check"):
            run.call("calls_deaf", (), False)
    finally:
        run.close()
    run = new_run(sandbox, locate=True)
    try:
        with pytest.raises(StudentTimeout):
            run.call("sleeps", (), False)
        with pytest.raises(StudentTimeout) as told:
            run.call("calls_sleeps", (), False)
    finally:
        run.close()
    assert ", in sleeps)" in str(told.value) and "earlier check either" not in str(told.value)


def test_a_call_that_ran_out_of_time_stops_only_calls_as_large_and_two_stop_all(
    sandbox: Sandbox,
) -> None:
    """Code too slow for the largest case still gets its small ones checked (the judge's
    class: slow only at 96x64x48, it lost every later check and purity); an endless loop
    costs at most two timeouts."""
    run = new_run(sandbox)
    small, large, medium = np.ones(4), np.ones(1000), np.ones(200)
    try:
        with pytest.raises(StudentTimeout, match="did not return within"):
            run.call("slow_when_large", (large,), False)
        assert run.call("slow_when_large", (small,), False) == 4.0
        with pytest.raises(StudentTimeout, match="on inputs no larger than these"):
            run.call("slow_when_large", (np.ones(2000),), False)
        (refused,) = run.batch([Step("slow_when_large", (large,))])
        assert "on inputs no larger than these" in str(refused.error)
        with pytest.raises(StudentTimeout, match="did not return within"):
            run.call("slow_when_large", (medium,), False)
        with pytest.raises(StudentTimeout, match="did not finish in 2 earlier checks"):
            run.call("slow_when_large", (small,), False)
    finally:
        run.close()


def test_calls_no_larger_than_one_that_returned_still_run_after_a_timeout(
    sandbox: Sandbox,
) -> None:
    """Size is a guess at what makes code slow: once a call of some size returned in time, a
    timeout at a smaller size does not stop calls up to that size."""
    run = new_run(sandbox)
    try:
        assert run.call("slow_when_odd", (np.ones(10),), False) == 10.0
        with pytest.raises(StudentTimeout, match="did not return within"):
            run.call("slow_when_odd", (np.ones(3),), False)
        assert run.call("slow_when_odd", (np.ones(8),), False) == 8.0  # 3 <= 8 <= 10
        with pytest.raises(StudentTimeout, match="on inputs no larger than these"):
            run.call("slow_when_odd", (np.ones(12),), False)
    finally:
        run.close()


def line_of(text: str) -> int:
    """The line of SOURCE that holds ``text``."""
    return next(n for n, line in enumerate(SOURCE.splitlines(), 1) if text in line)


def test_a_timeout_says_where_the_code_was_and_keeps_the_dump_out_of_its_output(
    sandbox: Sandbox,
) -> None:
    """The worker is asked for its stack before it is killed: the student learns the line,
    even inside a sleep; the dump itself (with our frames) is not shown as their output.
    Only where check runs the code: in grading, where a loop is caught varies from run to
    run, and the feedback must not."""
    run = new_run(sandbox)
    try:
        with pytest.raises(StudentTimeout) as graded:
            run.call("spins", (), False)
    finally:
        run.close()
    assert "it was at" not in str(graded.value)
    run = new_run(sandbox, locate=True)
    try:
        with pytest.raises(StudentTimeout) as endless:
            run.call("spins", (), False)
        with pytest.raises(StudentTimeout) as asleep:
            run.call("calls_sleeps", (), False)
    finally:
        output = run.close()
    loop = line_of("    while True:")  # spins' (Python names the loop's line or its body's)
    assert re.search(rf"\(it was at line ({loop}|{loop + 1}), in spins\)", str(endless.value))
    assert f"(it was at line {line_of('time.sleep(5)')}, in sleeps)" in str(asleep.value)
    assert "before the loop" in output
    assert "most recent call first" not in output and "child.py" not in output, output


def test_code_that_will_not_say_where_it_was_still_times_out(sandbox: Sandbox) -> None:
    run = new_run(sandbox, locate=True)
    try:
        with pytest.raises(StudentTimeout, match="did not return within") as deaf:
            run.call("spins_deaf", (), False)
    finally:
        run.close()
    assert "it was at" not in str(deaf.value)
