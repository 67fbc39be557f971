"""The process boundary between the trusted grader and hostile student code.

::

    with Sandbox(slot=0, hide=[course_root, out_dir]) as sandbox:
        worker = sandbox.spawn(source, filename="linear.py", module="linear", limits=Limits())
        if worker.load_error is None:
            y, cache = worker.call("linear_forward", x, W, b)   # cache is a Handle
            dx, dW, db = worker.call("linear_backward", dy, cache)
        worker.close()

Only plain data crosses: numeric numpy arrays (as ``.npy``, never pickle), bool/int/float/
complex and numpy scalars, str, None, and tuples/lists/str-keyed dicts of these. Anything else
a student returns stays in the worker and the grader gets a :class:`Handle`. Failures are the
``StudentError`` subclasses of :mod:`autograder.errors`; the worker never decides a verdict.

How each mode confines the worker, and what it costs, is in ``docs/isolation.md``.
"""

from __future__ import annotations

from autograder.sandbox.model import Handle, IsolationReport, Limits, WorkerExit
from autograder.sandbox.sandbox import Sandbox
from autograder.sandbox.worker import Worker

__all__ = ["Handle", "IsolationReport", "Limits", "Sandbox", "Worker", "WorkerExit"]
