"""The sandbox's value types: limits in, handles and exit records out, and the isolation report.

They are frozen dataclasses so they can be shared between the grader, the fork-server runner
and the forked worker without anyone mutating them by accident.
"""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass
from typing import Any

MODES = ("root", "userns", "none")
# The signal that asks a worker for its stack (a timeout says where the code was).
STACK_SIGNAL = signal.SIGUSR2
OUTPUT_TRUNCATED = "[output truncated]"  # the line that ends printed output past the cap
MAX_FAILED_CELLS = 20  # errors reported from one notebook's cells (the first ones)

# Names of the guarantees a mode provides; IsolationReport.enforced / .missing use them and
# docs/isolation.md explains each one.
RLIMITS = "rlimits"  # CPU seconds, address space, file size, open files, no core dumps
SECCOMP = "seccomp"  # no sockets, exec, fork (threads ok), ptrace, mount...; signals to self only
NETNS = "netns"  # private network namespace without interfaces
MOUNTNS = "mountns"  # read-only filesystem view, hidden paths, private size-limited /tmp
PROC = "proc"  # other processes (the grader's environ/cmdline included) are invisible
UID = "uid"  # a dedicated unprivileged uid per slot, no supplementary groups, no capabilities
SWEEP = "sweep"  # every process of the slot uid is killed after each worker

GUARANTEES = (RLIMITS, SECCOMP, NETNS, MOUNTNS, PROC, UID, SWEEP)
ENFORCED_BY_MODE = {
    "root": GUARANTEES,
    "userns": (RLIMITS, SECCOMP, NETNS, MOUNTNS, PROC),
    "none": (RLIMITS, SECCOMP),
}


@dataclass(frozen=True)
class Limits:
    """Per-worker resource limits.

    ``memory_mb`` is an allowance on top of the runner's baseline virtual size, because
    RLIMIT_AS counts address space and numpy alone maps about 100 MiB.
    """

    call_timeout: float = 10.0
    import_timeout: float = 10.0
    cpu_seconds: int = 60
    memory_mb: int = 512
    output_kb: int = 64
    max_frame_mb: int = 64
    tmp_mb: int = 16

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value > 0:
                raise ValueError(f"Limits.{name} must be positive, not {value!r}")

    def to_json(self) -> dict[str, Any]:
        """The limits as a JSON object (sent to the runner)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Limits:
        """Inverse of :meth:`to_json`."""
        return cls(**data)


@dataclass(frozen=True)
class Handle:
    """An opaque reference to a value that stayed in the worker (e.g. a student's cache).

    Only the worker that returned it can resolve it; pass it back to that worker's ``call``.
    """

    id: int
    type_name: str


@dataclass(frozen=True)
class Ref:
    """In a ``Step``'s arguments: item ``index`` of an earlier step's result.

    That result must be a tuple or list of exactly ``length`` items (what ``expect_tuple``
    accepts), else the step is skipped. The worker passes the item as it would arrive from
    the grader: decoded afresh from its encoding (arrays are copies, handles the object).
    """

    step: int
    index: int
    length: int


@dataclass(frozen=True)
class Step:
    """One call of a ``Worker.batch``: ``function(*args)``, ``args`` may hold ``Ref``s.

    ``requires`` lists ``(step, length)`` pairs: earlier steps whose results must be tuples
    or lists of that length for this one to run (else it is skipped), as when a test checks
    a result with ``expect_tuple`` before making the next call. A ``Ref`` requires its step.
    ``keep`` lists items of the result (a tuple or list) that stay in the worker, whatever
    they are (see ``Worker.call``).
    """

    function: str
    args: tuple[Any, ...]
    echo: bool = False
    requires: tuple[tuple[int, int], ...] = ()
    keep: tuple[int, ...] = ()

    def needs(self) -> tuple[tuple[int, int], ...]:
        """Every (step, length) this step needs, its ``Ref``s' included."""
        refs = tuple((a.step, a.length) for a in self.args if type(a) is Ref)
        return self.requires + refs


@dataclass(frozen=True)
class StepResult:
    """How one step of a batch ended: a value, an error, skipped (a ``Ref`` it needed did not
    resolve) or not run (the worker died or timed out in an earlier step)."""

    value: Any = None
    error: Any = None  # a StudentError
    skipped: bool = False
    not_run: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.skipped and not self.not_run


@dataclass(frozen=True)
class WorkerExit:
    """How a worker ended, from the runner's ``wait4``.

    ``status`` is e.g. ``"exited 0"``, ``"killed by SIGKILL"``, or ``"lost (runner died)"``
    when the runner went away before it could report.
    """

    status: str
    cpu_seconds: float
    max_rss_kb: int


@dataclass(frozen=True)
class IsolationReport:
    """What the sandbox enforces on this machine, decided once by a probe at start."""

    mode: str
    enforced: tuple[str, ...]
    missing: tuple[str, ...]
    warning: str | None
