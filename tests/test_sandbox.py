"""The sandbox's contract with the grader: calls, handles, and every way a submission fails.

All of these run real workers (auto mode, so root mode here and in CI). Timeouts are about
one second, so the file stays fast.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import signal
import textwrap
import time
from collections.abc import Iterator

import numpy as np
import pytest

from autograder.errors import (
    BadReturn,
    MissingFunction,
    NotImplementedByStudent,
    SandboxError,
    StudentCrash,
    StudentException,
    StudentTimeout,
)
from autograder.sandbox import Handle, Limits, Sandbox, Worker, WorkerExit
from autograder.sandbox.model import Ref, Step

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux >= 5.3")

# How a notebook's cell is counted in feedback (Jupyter itself shows no cell numbers).
CELLS = "(counting every cell from the top, markdown included)"
FAST = Limits(call_timeout=1.0, import_timeout=1.0, cpu_seconds=10, memory_mb=128)

LINEAR = """
import numpy as np

class Cache:
    def __init__(self, x, W):
        self.x, self.W = x, W

def linear_forward(x, W, b):
    return x @ W + b, Cache(x, W)

def linear_backward(dy, cache):
    return dy @ cache.W.T, cache.x.T @ dy, dy.sum(axis=0)

def same_twice():
    c = Cache(None, None)
    return c, c

def scale_in_place(x):
    x *= 2
    return None

def double_and_keep(x, y):
    out = x + y
    x[0] = -1.0
    return out

NOT_A_FUNCTION = 3
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(slot=41) as box:
        yield box


def spawn(sandbox: Sandbox, source: str, limits: Limits = FAST) -> Worker:
    return sandbox.spawn(
        textwrap.dedent(source), filename="linear.py", module="linear", limits=limits
    )


@pytest.fixture
def linear(sandbox: Sandbox) -> Iterator[Worker]:
    worker = spawn(sandbox, LINEAR)
    assert worker.load_error is None
    yield worker
    worker.close()


def test_plain_calls_and_handles_round_trip(linear: Worker, sandbox: Sandbox) -> None:
    rng = np.random.default_rng(0)
    x, W, b, dy = (
        rng.normal(size=(4, 3)),
        rng.normal(size=(3, 2)),
        rng.normal(size=2),
        rng.normal(size=(4, 2)),
    )
    assert {"linear_forward", "linear_backward", "Cache"} <= linear.functions
    assert "NOT_A_FUNCTION" not in linear.functions and "np" not in linear.functions
    y, cache = linear.call("linear_forward", x, W, b)
    np.testing.assert_allclose(y, x @ W + b)
    assert isinstance(cache, Handle) and cache.type_name == "Cache"
    dx, dW, db = linear.call("linear_backward", dy, cache)
    np.testing.assert_allclose(dx, dy @ W.T)
    np.testing.assert_allclose(dW, x.T @ dy)
    assert db.shape == (2,) and db.dtype == np.float64
    first, second = linear.call("same_twice")
    assert first == second  # one object in the worker, one handle
    other = spawn(sandbox, LINEAR)
    try:
        with pytest.raises(ValueError, match="not returned by this worker"):
            other.call("linear_backward", dy, cache)
    finally:
        other.close()


def test_echo_args_shows_mutation_without_touching_the_graders_copy(linear: Worker) -> None:
    x = np.ones(3)
    result, (after,) = linear.call("scale_in_place", x, echo_args=True)
    assert result is None
    np.testing.assert_array_equal(after, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(x, [1.0, 1.0, 1.0])
    # arrays in both the result and the echo must not be mixed up
    result, (x_after, y_after) = linear.call("double_and_keep", x, x * 3, echo_args=True)
    np.testing.assert_array_equal(result, [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(x_after, [-1.0, 1.0, 1.0])
    np.testing.assert_array_equal(y_after, [3.0, 3.0, 3.0])


SELF_CACHE = """
def linear_forward(x, W, b):
    cache = {"x": x.copy(), "W": W.copy()}
    cache["self"] = cache
    return x @ W + b, cache

def linear_backward(dy, cache):
    return dy @ cache["W"].T, cache["x"].T @ dy, dy.sum(axis=0)
"""


def test_a_cache_that_holds_itself_is_returned_kept_and_echoed(sandbox: Sandbox) -> None:
    """A legal Python cache; before, every call that returned or echoed it failed with "data
    nested more than 64 levels deep", and correct code lost a third of its points."""
    worker = spawn(sandbox, SELF_CACHE)
    x, W, b, dy = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4), np.ones((2, 4))
    try:
        y, cache = worker.call("linear_forward", x, W, b)  # as data, but for the loop
        assert isinstance(cache["self"], Handle) and cache["self"].type_name == "dict"
        np.testing.assert_array_equal(worker.call("linear_backward", dy, cache)[1], x.T @ dy)
        y, kept = worker.call("linear_forward", x, W, b, keep=(1,))
        (dx, dW, db), (dy_after, cache_after) = worker.call(
            "linear_backward", dy, kept, echo_args=True
        )
        np.testing.assert_array_equal(dW, x.T @ dy)
        np.testing.assert_array_equal(dy_after, dy)
        assert isinstance(cache_after["self"], Handle)
    finally:
        worker.close()


HISTORY_CACHE = """
import numpy as np
history = None

def linear_forward(x, W, b):
    global history
    history = {"x": x.copy(), "W": W.copy(), "big": np.zeros(300_000), "before": history}
    return x @ W + b, history

def linear_backward(dy, cache):
    return dy @ cache["W"].T, cache["x"].T @ dy, dy.sum(axis=0)
"""


def test_an_argument_that_cannot_come_back_as_data_is_echoed_as_a_handle(
    sandbox: Sandbox,
) -> None:
    """A cache chained to every earlier one (nested deeper than the codec goes) or too large
    for a frame: the echo must not cost the call its result."""
    limits = dataclasses.replace(FAST, max_frame_mb=1, memory_mb=512)  # 2.3 MiB do not fit
    worker = spawn(sandbox, HISTORY_CACHE, limits)
    x, W, b, dy = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4), np.ones((2, 4))
    try:
        y, cache = worker.call("linear_forward", x, W, b, keep=(1,))
        (dx, dW, db), (dy_after, cache_after) = worker.call(
            "linear_backward", dy, cache, echo_args=True
        )
        np.testing.assert_array_equal(dW, x.T @ dy)
        np.testing.assert_array_equal(dy_after, dy)
        assert cache_after == cache  # the kept object itself, as a handle
        for _ in range(70):
            y, cache = worker.call("linear_forward", x, W, b, keep=(1,))
        np.testing.assert_array_equal(worker.call("linear_backward", dy, cache)[0], dy @ W.T)
        (dx, dW, db), (dy_after, cache_after) = worker.call(
            "linear_backward", dy, cache, echo_args=True
        )
        np.testing.assert_array_equal(dx, dy @ W.T)
        assert isinstance(cache_after, Handle)
    finally:
        worker.close()


def test_the_students_text_reaches_the_grader_on_one_line(sandbox: Sandbox) -> None:
    """An exception message or a type name cannot pose as more feedback (a heading, a
    score line) by starting a line of its own."""
    forged = "x\\n\\n## ✅ All checks passed: 20 / 20\\n- **Score: 20 / 20**"
    worker = spawn(
        sandbox,
        f"""
        Fake = type("thing.{forged}", (), {{}})
        def answer():
            return Fake()
        def fail():
            raise ValueError("{forged}")
        def fail_as():
            raise type("Err{forged}", (Exception,), {{}})()
        """,
    )
    try:
        handle = worker.call("answer")
        assert isinstance(handle, Handle) and "\n" not in handle.type_name
        assert "## ✅ All checks passed" in handle.type_name  # still there, on one line
        with pytest.raises(StudentException) as info:
            worker.call("fail")
        assert "\n" not in info.value.message and "- **Score: 20 / 20**" in info.value.message
        with pytest.raises(StudentException) as info:
            worker.call("fail_as")  # the name of the exception's class
        assert info.value.exc_type is not None and "\n" not in info.value.exc_type
        assert "## ✅ All checks passed" in info.value.exc_type
    finally:
        worker.close()
    loading = spawn(sandbox, f'raise ValueError("{forged}")\n')
    assert loading.load_error is not None and "\n" not in loading.load_error.message
    loading = spawn(sandbox, f'raise type("Err{forged}", (Exception,), {{}})()\n')
    assert loading.load_error is not None and "\n" not in str(loading.load_error.exc_type)


def test_syntax_error_is_a_load_error_with_its_line(sandbox: Sandbox) -> None:
    worker = spawn(sandbox, "x = 1\ndef f(:\n    pass\n")
    error = worker.load_error
    assert isinstance(error, StudentException)
    assert (error.exc_type, error.lineno, error.filename) == ("SyntaxError", 2, "linear.py")
    assert worker.functions == frozenset()
    with pytest.raises(MissingFunction, match="failed to load"):
        worker.call("f")
    assert worker.close().status == "exited 0"


def test_a_file_too_deep_to_compile_is_a_load_error_that_says_so(sandbox: Sandbox) -> None:
    worker = spawn(sandbox, "x = " + "-" * 200_000 + "1\n")  # the compiler runs out of memory
    error = worker.load_error
    assert isinstance(error, StudentException) and error.exc_type == "SyntaxError"
    assert "nested too deeply for Python to compile it" in error.describe()
    assert worker.close().status == "exited 0"


def test_exception_at_import_names_the_students_line(sandbox: Sandbox) -> None:
    worker = spawn(
        sandbox,
        """
        def helper():
            return {}["missing"]

        helper()
    """,
    )
    error = worker.load_error
    assert isinstance(error, StudentException) and error.exc_type == "KeyError"
    assert error.lineno == 3  # inside helper, the last line of the student's file
    worker.close()


def test_not_implemented_missing_and_ordinary_exceptions(sandbox: Sandbox) -> None:
    worker = spawn(
        sandbox,
        """
        def stub():
            raise NotImplementedError("linear_forward: task 1")

        def loud():
            raise ValueError("x" * 5000)
    """,
    )
    with pytest.raises(NotImplementedByStudent) as stub:
        worker.call("stub")
    assert stub.value.lineno == 3 and "task 1" in stub.value.message
    with pytest.raises(MissingFunction):
        worker.call("linear_forward")
    with pytest.raises(StudentException) as loud:
        worker.call("loud")
    assert loud.value.exc_type == "ValueError" and len(loud.value.message) <= 300
    assert worker.alive  # exceptions do not end the worker
    worker.close()


def test_values_that_cannot_cross_are_bad_returns(sandbox: Sandbox) -> None:
    worker = spawn(
        sandbox,
        """
        import numpy as np

        def deep():
            x = []
            for _ in range(100):
                x = [x]
            return x

        def huge_int():
            return 10 ** 5000

        def too_big():
            return np.zeros(300_000)

        def too_much_json():
            return ["x" * 1000] * 10_000
    """,
        Limits(call_timeout=5.0, import_timeout=1.0, max_frame_mb=1),
    )
    for name, says in [
        ("deep", "nested"),
        ("huge_int", "int"),
        ("too_big", "limit of 1 MiB"),
        ("too_much_json", "as JSON"),
    ]:
        with pytest.raises(BadReturn, match=says):
            worker.call(name)
    assert worker.alive
    worker.close()


# The code would run 60 s; the 1 s limit counts its own time, not time spent waiting for a
# CPU, and gives it at most 4x the limit in wall-clock time: on a loaded machine (other test
# runs, a CPU hog) the cut comes up to 4 s after the start, never near 60.
STOPPED_WELL_BEFORE = 10


def test_slow_import_times_out_and_the_dead_worker_refuses_calls(sandbox: Sandbox) -> None:
    started = time.monotonic()
    worker = spawn(sandbox, "import time\ntime.sleep(60)\ndef f():\n    return 1\n")
    assert isinstance(worker.load_error, StudentTimeout)
    assert worker.load_error.describe() == (
        "running the top-level code of linear.py took more than 1 s, so the worker was killed. "
        'Put long experiments (not your functions) under `if __name__ == "__main__":` (they '
        "still run when you run the file yourself, or in Jupyter; the grader skips them)"
    )
    assert time.monotonic() - started < STOPPED_WELL_BEFORE
    assert not worker.alive
    with pytest.raises(StudentCrash, match="no longer running"):
        worker.call("f")
    assert worker.close().status == "killed by SIGKILL"
    notebook = sandbox.spawn(
        _notebook("def f():\n    return 1\n", "import threading\nthreading.Event().wait(60)\n"),
        filename="linear.ipynb",
        module="linear",
        limits=FAST,
        locate_timeouts=True,  # as check runs it
    )
    assert isinstance(notebook.load_error, StudentTimeout)
    assert "running the cells of linear.ipynb took more than 1 s" in notebook.load_error.message
    assert f"(it was at cell 3 {CELLS}, line 2)" in notebook.load_error.message  # Jupyter's count
    notebook.close()


@pytest.mark.parametrize("body", ["time.sleep(60)", "while True:\n        pass"])
def test_slow_call_times_out_and_is_killed(sandbox: Sandbox, body: str) -> None:
    worker = spawn(sandbox, f"import time\ndef f():\n    {body}\n")
    started = time.monotonic()
    with pytest.raises(StudentTimeout, match="within 1 s"):
        worker.call("f")
    assert time.monotonic() - started < STOPPED_WELL_BEFORE
    with pytest.raises(StudentCrash, match="no longer running"):
        worker.call("f")
    assert worker.close().status == "killed by SIGKILL"


@pytest.mark.parametrize("prelude", ["", "signal.signal(signal.SIGXCPU, signal.SIG_IGN)"])
def test_cpu_limit_stops_a_busy_call_before_the_wall_clock(sandbox: Sandbox, prelude: str) -> None:
    # Ignoring SIGXCPU only buys the extra second before the hard limit's SIGKILL.
    limits = Limits(call_timeout=30.0, import_timeout=5.0, cpu_seconds=1)
    worker = spawn(
        sandbox, f"import signal\ndef f():\n    {prelude}\n    while True:\n        pass\n", limits
    )
    started = time.monotonic()
    with pytest.raises(StudentTimeout, match="CPU time"):
        worker.call("f")
    assert time.monotonic() - started < 15
    end = worker.close()
    expected = "killed by SIGKILL" if prelude else "killed by SIGXCPU"
    assert end.status == expected and end.cpu_seconds > (1.5 if prelude else 0.5)


def test_memory_bombs_hit_the_address_space_limit(sandbox: Sandbox) -> None:
    at_import = spawn(sandbox, "hog = bytearray(10 ** 10)\n")
    assert isinstance(at_import.load_error, StudentException)
    assert at_import.load_error.exc_type == "MemoryError"
    at_import.close()
    worker = spawn(
        sandbox,
        """
        import numpy as np

        def grow():
            chunks = []
            while True:
                chunks.append(bytearray(10 ** 6))

        def matrix():
            return np.ones((100_000, 100_000))
    """,
    )
    for name in ("grow", "matrix"):
        with pytest.raises(StudentException) as bomb:
            worker.call(name)
        assert "MemoryError" in str(bomb.value.exc_type)
    assert worker.alive
    assert worker.close().max_rss_kb < 400_000


@pytest.mark.parametrize(
    ("exit_call", "expected"),
    [("os._exit(0)", "exited with status 0"), ("os.kill(os.getpid(), 9)", "signal SIGKILL")],
)
def test_dying_at_import_or_in_a_call_is_a_crash(
    sandbox: Sandbox, exit_call: str, expected: str
) -> None:
    at_import = spawn(sandbox, f"import os\n{exit_call}\n")
    assert isinstance(at_import.load_error, StudentCrash)
    assert expected in at_import.load_error.message
    assert "while loading" in at_import.load_error.message
    at_import.close()
    worker = spawn(sandbox, f"import os\ndef f():\n    {exit_call}\n")
    with pytest.raises(StudentCrash, match=f"{expected} during a call to f"):
        worker.call("f")
    assert not worker.alive
    worker.close()


def test_sys_exit_is_an_exception_not_an_exit(sandbox: Sandbox) -> None:
    at_import = spawn(sandbox, "import sys\nsys.exit(0)\n")
    assert isinstance(at_import.load_error, StudentException)
    assert at_import.load_error.exc_type == "SystemExit"
    at_import.close()
    worker = spawn(sandbox, "import sys\ndef f():\n    sys.exit(0)\n")
    with pytest.raises(StudentException) as caught:
        worker.call("f")
    assert caught.value.exc_type == "SystemExit" and caught.value.lineno == 3
    worker.close()


def test_segfault_is_reported_and_the_next_worker_is_fine(sandbox: Sandbox) -> None:
    worker = spawn(sandbox, "import ctypes\ndef f():\n    return ctypes.string_at(0)\n")
    with pytest.raises(StudentCrash, match="killed by signal SIGSEGV during a call to f"):
        worker.call("f")
    assert worker.close().status == "killed by SIGSEGV"
    fresh = spawn(sandbox, LINEAR)
    y, _ = fresh.call("linear_forward", np.eye(2), np.eye(2), np.zeros(2))
    np.testing.assert_array_equal(y, np.eye(2))
    fresh.close()


def test_output_is_captured_and_capped_without_costing_grader_memory(sandbox: Sandbox) -> None:
    worker = spawn(
        sandbox,
        """
        import sys
        print("hello from import")

        def chatty():
            print("to stderr", file=sys.stderr)
            for _ in range(500):
                print("x" * 100_000)
            return 42
    """,
        Limits(call_timeout=5.0, import_timeout=1.0, output_kb=16),
    )
    assert worker.output == "hello from import\n"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert worker.call("chatty") == 42  # 50 MB printed, 16 KiB kept
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 20_000
    assert worker.output.startswith("hello from import\nto stderr\nxxx")
    assert worker.output.endswith("\n[output truncated]")
    assert len(worker.output) <= 16 * 1024 + len("\n[output truncated]")
    worker.close()


def test_printing_past_the_cap_is_dropped_not_an_error(sandbox: Sandbox) -> None:
    # A debugging print in a function called many times must not fail later calls: past the
    # cap the output is read and dropped, and the worker never sees a broken pipe.
    worker = spawn(
        sandbox,
        "def f(n):\n    for _ in range(n):\n        print('x' * 10000)\n    return n\n",
        Limits(call_timeout=5.0, import_timeout=1.0, output_kb=16),
    )
    for _ in range(20):
        assert worker.call("f", 50) == 50  # 10 MB printed in all
    assert worker.output.endswith("\n[output truncated]")
    assert len(worker.output) <= 16 * 1024 + len("\n[output truncated]")
    worker.close()


def test_printing_without_end_is_cut_off_and_explained(sandbox: Sandbox) -> None:
    worker = spawn(sandbox, "def f():\n    while True:\n        print('x' * 100000)\n")
    with pytest.raises(StudentException) as caught:
        worker.call("f")
    assert caught.value.exc_type == "BrokenPipeError"
    # The student is told why printing broke, not just "[Errno 32] Broken pipe".
    assert "your code printed more than 64 MiB" in caught.value.describe()
    assert "Errno" not in caught.value.describe()
    assert worker.output.endswith("\n[output truncated]")
    worker.close()


def test_a_broken_pipe_of_the_students_own_is_left_as_it_is(sandbox: Sandbox) -> None:
    worker = spawn(sandbox, "def f():\n    raise BrokenPipeError(32, 'my own pipe')\n")
    with pytest.raises(StudentException) as caught:
        worker.call("f")
    assert "my own pipe" in caught.value.describe()
    worker.close()


def test_forged_oversize_frame_is_refused_unread(sandbox: Sandbox) -> None:
    worker = spawn(
        sandbox,
        """
        import os, struct, time

        def f():
            os.write(3, struct.pack("!I", 2 ** 31))
            time.sleep(10)
    """,
    )
    with pytest.raises(StudentCrash, match="2048 MiB, more than the limit of 64 MiB"):
        worker.call("f")
    assert worker.close().status == "killed by SIGKILL"


def test_pickled_object_payload_is_refused_and_never_unpickled(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The student forges the whole reply on the channel (fd 3): an "array" whose .npy is a
    # pickled object array that would run code in the grader if it were ever unpickled.
    monkeypatch.delenv("SBX_PWNED", raising=False)
    worker = spawn(
        sandbox,
        """
        import io, json, os, struct
        import numpy as np

        class Evil:
            def __reduce__(self):
                return (exec, ("import os; os.environ['SBX_PWNED'] = '1'",))

        def f():
            blob = io.BytesIO()
            np.save(blob, np.array([Evil()], dtype=object), allow_pickle=True)
            blob = blob.getvalue()
            head = json.dumps({"r": "ok", "v": {"A": 0}, "seq": 2, "b": [len(blob)]}).encode()
            os.write(3, struct.pack("!II", 4 + len(head) + len(blob), len(head)) + head + blob)
            return 1
    """,
    )
    with pytest.raises(StudentCrash, match="malformed data.*refused"):
        worker.call("f")
    assert "SBX_PWNED" not in os.environ
    worker.close()


def test_unrequested_frames_are_a_protocol_violation(sandbox: Sandbox) -> None:
    # A student who writes its own reply frame only chooses its own answer; the real reply
    # then arrives unasked, which ends the worker at the next call.
    worker = spawn(
        sandbox,
        """
        import os, json, struct

        def f():
            head = json.dumps({"r": "ok", "v": 42, "seq": 2, "b": []}).encode()
            os.write(3, struct.pack("!II", 4 + len(head), len(head)) + head)
            return 1
    """,
    )
    assert worker.call("f") == 42
    with pytest.raises(StudentCrash, match="nobody asked for|out of sequence"):
        worker.call("f")
    worker.close()
    # A forged reply to some other request is refused even when it comes first.
    worker = spawn(
        sandbox,
        """
        import os, json, struct

        def f():
            head = json.dumps({"r": "ok", "v": 42, "seq": 99, "b": []}).encode()
            os.write(3, struct.pack("!II", 4 + len(head), len(head)) + head)
            return 1
    """,
    )
    with pytest.raises(StudentCrash, match="out of sequence"):
        worker.call("f")
    worker.close()


def test_a_forged_answer_at_import_is_the_students_failure_not_the_sandboxs(
    sandbox: Sandbox,
) -> None:
    # Only the runner reports confinement failures (SandboxError stops a grading run), over a
    # pipe closed before student code starts; on the channel such a claim is just a crash.
    worker = spawn(
        sandbox,
        """
        import json, os, struct
        head = json.dumps({"r": "setup_error", "msg": "mount failed", "seq": 1, "b": []})
        os.write(3, struct.pack("!II", 4 + len(head), len(head)) + head.encode())
        """,
    )
    assert isinstance(worker.load_error, StudentCrash)
    assert "broke the protocol" in worker.load_error.message
    worker.close()


def test_monkeypatching_numpy_in_the_worker_leaves_the_grader_alone(sandbox: Sandbox) -> None:
    worker = spawn(
        sandbox,
        """
        import numpy as np
        np.allclose = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None

        def patched():
            return np.allclose(1, 2)
    """,
    )
    assert worker.call("patched") is True
    assert not np.allclose(1, 2)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(1, 2)
    worker.close()


def test_threads_work_and_die_with_the_worker(sandbox: Sandbox) -> None:
    worker = spawn(
        sandbox,
        """
        import threading, time
        import numpy as np

        def f():
            out = []
            t = threading.Thread(target=lambda: out.append(np.ones((50, 50)) @ np.ones(50)))
            t.start()
            t.join()
            for _ in range(3):
                threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
            return out[0]
    """,
    )
    np.testing.assert_array_equal(worker.call("f"), np.full(50, 50.0))
    end = worker.close()
    assert isinstance(end, WorkerExit) and end.status == "exited 0"
    assert worker.close() is end  # idempotent


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a slot uid to break")
def test_a_worker_that_cannot_be_confined_is_a_sandbox_error() -> None:
    with Sandbox(slot=43) as box:
        box.uid = 2**40  # setresuid cannot take it: confinement fails before student code
        with pytest.raises(SandboxError, match="could not be confined: OverflowError"):
            spawn(box, LINEAR)
        assert not box._workers


def test_a_dead_runner_is_replaced_on_the_next_spawn() -> None:
    with Sandbox(slot=42) as box:
        worker = spawn(box, LINEAR)
        runner = box._runner
        assert runner is not None
        os.kill(runner.process.pid, signal.SIGKILL)
        runner.process.wait()
        # The worker dies with its parent (PDEATHSIG); the grader sees a crash, not a hang.
        with pytest.raises(StudentCrash):
            worker.call("linear_forward", np.eye(2), np.eye(2), np.zeros(2))
        assert worker.close().status.startswith("lost")
        fresh = spawn(box, LINEAR)
        y, _ = fresh.call("linear_forward", np.eye(2), np.eye(2), np.ones(2))
        np.testing.assert_array_equal(y, np.eye(2) + 1)
        assert fresh.close().status == "exited 0"


def test_a_forged_echo_of_the_wrong_shape_is_the_students_crash(sandbox: Sandbox) -> None:
    worker = spawn(
        sandbox,
        """
        import sys
        import numpy as np

        codec = sys.modules["autograder.sandbox.codec"]
        real = codec.encode

        def forge(value, on_other):
            if type(value) is tuple and len(value) == 2 and type(value[1]) is tuple:
                value = (value[0], None)  # "the arguments after the call": nothing
            return real(value, on_other)

        codec.encode = forge

        def f(x):
            return x
    """,
    )
    with pytest.raises(StudentCrash, match="malformed data: the echo of 1 arguments"):
        worker.call("f", np.ones(2), echo_args=True)
    worker.close()


def test_other_checkouts_on_the_machine_are_invisible(sandbox: Sandbox) -> None:
    """The grader hides what it knows about; a second clone of the course elsewhere (a CI
    runner's folder, an instructor's other checkout) must be unreadable too."""
    if sandbox.report.mode not in ("root", "userns"):
        pytest.skip("needs a mount namespace")  # "none" mode documents this gap
    import shutil
    import tempfile

    base = "/srv" if os.path.isdir("/srv") else "/mnt"
    other = tempfile.mkdtemp(prefix="ag-other-checkout-", dir=base)
    try:
        os.chmod(other, 0o755)
        secret = os.path.join(other, "test_hidden.py")
        with open(secret, "w") as handle:
            handle.write("EXPECTED = 42\n")
        os.chmod(secret, 0o644)
        worker = spawn(
            sandbox,
            f"""
            def peek():
                try:
                    with open({secret!r}) as handle:
                        return handle.read()
                except OSError as exc:
                    return type(exc).__name__
        """,
        )
        assert worker.call("peek") in ("FileNotFoundError", "PermissionError")
        worker.close()
    finally:
        shutil.rmtree(other)


DICE = """
import os, random, secrets, tempfile, uuid
import numpy as np

def draws():
    first = [
        os.urandom(8).hex(),
        os.getrandom(8).hex(),
        random.random(),
        random.Random().random(),
        random.SystemRandom().random(),
        secrets.token_hex(8),
        str(uuid.uuid4()),
        next(tempfile._get_candidate_names()),
        float(np.random.rand()),
        float(np.random.RandomState().rand()),
        float(np.random.default_rng().random()),
        list({"dx", "dW", "db", "x", "W", "b", "dy"}),
    ]
    random.seed()
    np.random.seed()
    return first + [random.random(), float(np.random.rand())]
"""


def _draws(box: Sandbox, entropy: int | None) -> list[object]:
    worker = box.spawn(DICE, filename="dice.py", module="dice", limits=FAST, entropy=entropy)
    try:
        value = worker.call("draws")
        assert isinstance(value, list)
        return value
    finally:
        worker.close()


def test_unseeded_randomness_is_a_function_of_the_entropy_given(sandbox: Sandbox) -> None:
    # Another sandbox is another runner process, seeded (and hashing strings) anew.
    with Sandbox(slot=44) as other:
        again = _draws(other, 2**100 + 7)
        unseeded = _draws(other, None)
    first = _draws(sandbox, 2**100 + 7)
    assert first == again
    assert _draws(sandbox, 2**100 + 7) == first
    # Each source differs with another seed, and without one (as before: the system's).
    for different in (_draws(sandbox, 2**100 + 8), _draws(sandbox, None), unseeded):
        assert all(a != b for a, b in zip(first[:-3], different[:-3], strict=True)), different
    assert first[-2:] != _draws(sandbox, 2**100 + 8)[-2:]
    # Within one worker the stream moves on: a coin tossed twice is not the same coin.
    assert first[0] != first[1]


ADDRESSES = """
import weakref

class Cache:
    pass

def complain():
    cache = Cache()
    raise ValueError(f"cannot use {cache} with {complain} ({weakref.ref(cache)})")
"""


def _complaint(box: Sandbox) -> str:
    worker = box.spawn(ADDRESSES, filename="where.py", module="where", limits=FAST)
    try:
        with pytest.raises(StudentException) as caught:
            worker.call("complain")
        return str(caught.value)
    finally:
        worker.close()


def test_addresses_in_a_students_error_message_are_the_same_in_every_run(
    sandbox: Sandbox,
) -> None:
    first = _complaint(sandbox)
    assert (
        "cannot use <where.Cache object at 0x…> with <function complain at 0x…> (<weakref at "
        "0x…; to 'Cache' at 0x…>)"
    ) in first
    with Sandbox(slot=44) as other:  # another runner, its own address layout
        assert _complaint(other) == first


WHO = """
import getpass, os

def who():
    return getpass.getuser(), os.path.expanduser("~/debug.log")
"""


def _who(box: Sandbox) -> object:
    worker = box.spawn(WHO, filename="who.py", module="who", limits=FAST)
    try:
        return worker.call("who")
    finally:
        worker.close()


def test_who_a_worker_runs_as_is_the_same_in_every_worker(sandbox: Sandbox) -> None:
    # Its uid is the slot's (it depends on the run) and has no name in /etc/passwd: asking
    # for the user's name or home would fail, and with that uid in the message.
    assert _who(sandbox) == ("student", "/tmp/debug.log")
    with Sandbox(slot=45) as other:
        assert _who(other) == ("student", "/tmp/debug.log")


KEPT = """
def make():
    return 1.0, [0]

def bump(counter):
    counter[0] += 1
    return counter[0]
"""


DICTS = """
import collections

class Grads(dict):
    pass

def ordered():
    return 1.0, collections.OrderedDict(W=1.0, b=2.0)

def default():
    grads = collections.defaultdict(float)
    grads["W"] += 1.0
    return grads

def own():
    return Grads(W=1.0), Grads({1: 2.0})
"""


def test_dicts_of_answers_come_back_as_dicts_whatever_their_class(sandbox: Sandbox) -> None:
    worker = sandbox.spawn(DICTS, filename="dicts.py", module="dicts", limits=FAST)
    try:
        assert worker.call("ordered") == (1.0, {"W": 1.0, "b": 2.0})
        assert type(worker.call("ordered")[1]) is dict
        assert worker.call("default") == {"W": 1.0}
        plain, other = worker.call("own")
        assert plain == {"W": 1.0}
        assert isinstance(other, Handle)  # not string keys: not a dict of answers
    finally:
        worker.close()


def test_kept_items_stay_in_the_worker_and_are_shared_as_in_python(sandbox: Sandbox) -> None:
    # Plain data comes back as a copy, and a copy sent again is a new object; a kept item
    # stays the worker's object: each call it is given to sees what the last one changed.
    worker = sandbox.spawn(KEPT, filename="kept.py", module="kept", limits=FAST)
    try:
        value, copied = worker.call("make")
        assert (value, copied) == (1.0, [0])
        assert [worker.call("bump", copied) for _ in range(2)] == [1, 1]
        value, kept = worker.call("make", keep=(1,))
        assert value == 1.0 and isinstance(kept, Handle) and kept.type_name == "list"
        assert [worker.call("bump", kept) for _ in range(2)] == [1, 2]
        made, once, twice = worker.batch(
            [
                Step("make", (), keep=(1,)),
                Step("bump", (Ref(0, 1, 2),)),
                Step("bump", (Ref(0, 1, 2),)),
            ]
        )
        assert isinstance(made.value[1], Handle) and (once.value, twice.value) == (1, 2)
    finally:
        worker.close()


def test_a_notebook_may_use_what_jupyter_provides(sandbox: Sandbox) -> None:
    source = textwrap.dedent(
        """
        get_ipython().run_line_magic("matplotlib", "inline")
        display({"shape": (2, 3)})

        def linear_forward(x, W, b):
            display(x.shape)
            return x @ W + b, None
        """
    )
    worker = sandbox.spawn(source, filename="linear.ipynb", module="linear", limits=FAST)
    assert worker.load_error is None, worker.load_error
    assert worker.functions == {"linear_forward"}  # display and get_ipython are not the student's
    y, _ = worker.call("linear_forward", np.eye(2), np.eye(2), np.zeros(2))
    np.testing.assert_array_equal(y, np.eye(2))
    assert "{'shape': (2, 3)}\n(2, 2)\n" in worker.output
    worker.close()
    # In a .py file they are not defined, as in plain Python.
    plain = sandbox.spawn(source, filename="linear.py", module="linear", limits=FAST)
    assert plain.load_error is not None and "get_ipython" in str(plain.load_error)
    plain.close()


def _notebook(*sources: str) -> str:
    from autograder.submissions import notebook_source

    cells = [{"cell_type": "markdown", "source": "# My notebook"}]
    cells += [{"cell_type": "code", "source": source} for source in sources]
    return notebook_source(json.dumps({"cells": cells}))


def test_a_notebook_runs_cell_by_cell_as_nbgrader_runs_it(sandbox: Sandbox) -> None:
    # An error in a cell (a plot, a check of the student's own, a stray line) does not stop
    # the later cells; each one that failed is reported with its cell and line.
    source = _notebook(
        "import numpy as np\n",
        "def linear_forward(x, W, b):\n    return x @ W + b, None\n",
        "import matplotlib_is_not_here\n",
        "assert my_own_variable == 3\n",
        "x = 1\ndef broken(:\n    pass\n",
        "import sys\nsys.exit('stop')\n",
        "def linear_backward(dy, cache):\n    return 2 * dy\n",
        "if __name__ == '__main__':  # Jupyter's name, not the graded module's\n"
        "    while True:\n        pass\n",
    )
    worker = sandbox.spawn(source, filename="linear.ipynb", module="linear", limits=FAST)
    assert worker.load_error is None, worker.load_error
    assert worker.functions == {"linear_forward", "linear_backward"}  # cell 6 ran no line
    assert [error.describe() for error in worker.failed_cells] == [
        f"ModuleNotFoundError at linear.ipynb cell 4 {CELLS}, line 1: No module named "
        "'matplotlib_is_not_here'",
        f"NameError at linear.ipynb cell 5 {CELLS}, line 1: name 'my_own_variable' is not defined",
        f"SyntaxError at linear.ipynb cell 6 {CELLS}, line 2: invalid syntax",
        f"SystemExit at linear.ipynb cell 7 {CELLS}, line 2: stop",
    ]
    np.testing.assert_array_equal(worker.call("linear_backward", np.ones(2), 0), 2 * np.ones(2))
    worker.close()
    # A .py file is one module: it stops at its first error, as Python does.
    plain = sandbox.spawn(
        "import numpy as np\nimport matplotlib_is_not_here\ndef f():\n    pass\n",
        filename="linear.py",
        module="linear",
        limits=FAST,
    )
    assert plain.load_error is not None and plain.failed_cells == []
    assert "ModuleNotFoundError at linear.py line 2" in plain.load_error.describe()
    plain.close()


def test_a_notebook_cell_that_computes_too_long_is_stopped_and_the_rest_run(
    sandbox: Sandbox,
) -> None:
    # A training loop left in a notebook: as nbgrader does, stop that cell and go on. A cell
    # may use half of the CPU time the notebook has left (here 1 s in all).
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 5:\n    pass\n"
    source = _notebook(
        "def f():\n    return 1\n",
        busy,
        "def g():\n    return 2\n",
        busy,  # the second gets half of what the first left
        "def h():\n    return 3\n",
    )
    worker = sandbox.spawn(source, filename="linear.ipynb", module="linear", limits=FAST)
    assert worker.load_error is None, worker.load_error
    assert worker.functions == {"f", "g", "h"}
    stopped = (
        f"TimeoutError at linear.ipynb cell {{}} {CELLS}: the cell ran too long and was stopped (a "
        "notebook's cells have 0.7 s of CPU time in all, and one cell at most half of what is "
        "left)"
    )
    assert [e.describe() for e in worker.failed_cells] == [stopped.format(3), stopped.format(5)]
    assert worker.call("h") == 3
    cpu = worker.close().cpu_seconds
    assert 0.4 < cpu < 0.8, cpu  # about 0.35 + 0.18 s for the two busy cells


def test_many_slow_cells_still_leave_time_for_the_functions(sandbox: Sandbox) -> None:
    # Twenty gradient checks of 0.09 s each on a 1 s limit: the cells' CPU time stays under the
    # file's limit, so the function below them is there, and the same cells stop every time.
    # (0.09 s, not 0.1: seven cells of 0.1 s would end exactly at the cells' 0.7 s share, where
    # the README says a cell may end either way; this share runs out mid-cell, 56 ms from both.)
    check = (
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.09:\n    pass\n"
    )
    source = _notebook(*[check] * 20, "def h():\n    return 3\n")
    runs = []
    for _ in range(2):
        worker = sandbox.spawn(source, filename="linear.ipynb", module="linear", limits=FAST)
        assert worker.load_error is None, worker.load_error
        assert worker.call("h") == 3
        runs.append([e.cell for e in worker.failed_cells])
        worker.close()
    assert runs[0] == runs[1] and 0 < len(runs[0]) < 20, runs


def test_a_pause_in_a_cell_does_not_wait_but_one_in_a_call_does(sandbox: Sandbox) -> None:
    # A live plot's pause (15 s here, on a 1 s limit) is for a reader; a call still sleeps,
    # also through a name a cell took while its pauses did not wait.
    source = _notebook(
        "import time\nfrom time import sleep\nfor epoch in range(300):\n    sleep(0.05)\n",
        "def nap():\n    t = time.monotonic()\n    time.sleep(0.1)\n    sleep(0.1)\n"
        "    return time.monotonic() - t\n",
    )
    worker = sandbox.spawn(source, filename="linear.ipynb", module="linear", limits=FAST)
    assert worker.load_error is None and worker.failed_cells == [], worker.load_error
    assert worker.call("nap") >= 0.2
    worker.close()


def test_a_failed_cell_is_named_where_it_failed_and_where_the_error_came_from(
    sandbox: Sandbox,
) -> None:
    cells = [
        "def f():\n    x = 1\n    return 1 / 0\n",
        "y = 2\ny = f()\ndef h():\n    return 3\n",
        's = """\nnever closed\n',
        "import time\ntime.process_time = None\n",  # the cells' own clock is not theirs
        "def g():\n    return 4\n",
        *["raise ValueError('again')\n"] * 22,
    ]
    worker = sandbox.spawn(_notebook(*cells), filename="linear.ipynb", module="linear", limits=FAST)
    assert worker.load_error is None, worker.load_error
    assert worker.functions == {"f", "g"}
    assert [e.describe() for e in worker.failed_cells[:2]] == [
        f"ZeroDivisionError at linear.ipynb cell 3 {CELLS}, line 2: division by zero "
        f"(raised in cell 2 {CELLS}, line 3)",
        f"SyntaxError at linear.ipynb cell 4 {CELLS}, line 1: unterminated triple-quoted string "
        "literal (detected at line 2)",
    ]
    assert len(worker.failed_cells) == 20 and worker.failed_total == 24
    worker.close()


def test_a_cell_that_catches_the_stop_is_stopped_again(sandbox: Sandbox) -> None:
    # A training step with a bare except in its loop catches most stops; they come again
    # until one gets out.
    loop = (
        "import numpy as np\nW = np.ones((50, 50))\nwhile True:\n    W = np.tanh(W @ W / 50)\n"
        "    try:\n        z = sum(i * i for i in range(3000))\n    except:\n        pass\n"
    )
    source = _notebook(loop, "def h():\n    return 3\n")
    limits = dataclasses.replace(FAST, import_timeout=3.0)
    worker = sandbox.spawn(source, filename="linear.ipynb", module="linear", limits=limits)
    assert worker.load_error is None, worker.load_error
    assert worker.call("h") == 3 and [e.cell for e in worker.failed_cells] == [2]
    worker.close()


def test_a_future_import_opening_a_cell_holds_there_and_below(sandbox: Sandbox) -> None:
    # The stub (which opens with one) pasted below a cell of the student's own: Jupyter
    # accepts it at the top of any cell, and it holds for the later cells (as in IPython).
    source = _notebook(
        "import math\n",
        '"""My layer."""\n# why not\nfrom __future__ import (\n    annotations,\n)\n'
        "def f(x: Undefined) -> Undefined:\n    return x\n",
        "def g(x: AlsoUndefined) -> int:\n    return 2 * x\n",
        "y = 1\nfrom __future__ import division\n",  # not at the top of its cell
    )
    worker = sandbox.spawn(source, filename="linear.ipynb", module="linear", limits=FAST)
    assert worker.load_error is None, worker.load_error
    assert worker.call("f", 3) == 3 and worker.call("g", 3) == 6
    assert [error.describe() for error in worker.failed_cells] == [
        f"SyntaxError at linear.ipynb cell 5 {CELLS}, line 2: from __future__ imports must occur "
        "at the beginning of the file"
    ]
    worker.close()


def test_an_error_in_a_notebook_names_its_cell_and_line(sandbox: Sandbox) -> None:
    from autograder.submissions import notebook_source

    cells = [
        {"cell_type": "markdown", "source": "# Linear layer"},
        {"cell_type": "code", "source": "import numpy as np\n"},
        # The student's own "# In[2]" line must not pass for the mark of cell 2.
        {
            "cell_type": "code",
            "source": "# In[2]\ndef linear_forward(x, W, b):\n    return x @ W.T + b\n",
        },
    ]
    source = notebook_source(json.dumps({"cells": cells}))
    worker = sandbox.spawn(source, filename="linear.ipynb", module="linear", limits=FAST)
    with pytest.raises(StudentException) as caught:
        worker.call("linear_forward", np.ones((2, 3)), np.ones((3, 4)), np.zeros(4))
    assert f"ValueError at linear.ipynb cell 3 {CELLS}, line 3: " in caught.value.describe()
    worker.close()
