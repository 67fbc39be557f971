"""The grader's entry point: one Sandbox per grading process, owning one fork-server runner.

``Sandbox.start`` execs the runner (``autograder.sandbox.runner``) with a clean environment
and probes, once, which isolation mode works on this machine; ``spawn`` asks the runner for a
confined worker and loads the student's source into it. If the runner ever dies, the next
``spawn`` starts a new one, so one bad submission cannot affect the next.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from autograder.errors import SandboxError, StudentError
from autograder.sandbox.model import (
    ENFORCED_BY_MODE,
    GUARANTEES,
    MODES,
    SECCOMP,
    SWEEP,
    UID,
    IsolationReport,
    Limits,
)
from autograder.sandbox.worker import Worker

BASE_UID = 64000  # slot n runs as uid/gid BASE_UID + n in root mode; no passwd entry needed
MAX_SLOTS = 1000
LOCK_DIR = "/run/autograder-sandbox"  # root-only; one flock per slot uid in use
RUNNER_START_TIMEOUT = 60.0
RUNNER_REPLY_TIMEOUT = 10.0
# The runner's whole environment: single-threaded BLAS (threads would count against the
# worker's limits and make fork unsafe), nothing of the grader's.
RUNNER_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    # One string hash for every worker of every run: a submission that iterates over a set of
    # strings sees the same order on every regrade (hash flooding is no threat here).
    "PYTHONHASHSEED": "0",
}
# Runs the runner without executing autograder/__init__.py (which imports the grading side):
# a bare package object pointing at our directory is enough to import the sandbox.
_BOOTSTRAP = (
    "import sys, types\n"
    "pkg = types.ModuleType('autograder')\n"
    "pkg.__path__ = [{path!r}]\n"
    "sys.modules['autograder'] = pkg\n"
    "from autograder.sandbox.runner import main\n"
    "main()\n"
)
_PROBE_SOURCE = "def probe():\n    return 1\n"


class _RunnerClient:
    """The control connection to one runner process."""

    def __init__(self, slot_lock: int | None) -> None:
        """Start a runner. It inherits ``slot_lock`` (the slot's flock) and holds it until it
        exits: a runner whose grader was killed still sweeps the slot's uid on its way out,
        and no new sandbox may take that uid before it is done."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        package = str(Path(__file__).resolve().parents[1])
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    # Isolated as -I would, but reading RUNNER_ENV (all of its environment,
                    # nothing of ours) for PYTHONHASHSEED: -s no user site, -P no cwd on
                    # sys.path.
                    "-s",
                    "-P",
                    "-B",
                    "-c",
                    _BOOTSTRAP.format(path=package),
                    str(theirs.fileno()),
                ],
                env=RUNNER_ENV,
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),) if slot_lock is None else (theirs.fileno(), slot_lock),
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise SandboxError(f"cannot start the sandbox runner: {exc}") from None
        finally:
            theirs.close()
        self.sock = ours
        self.exits: dict[int, dict[str, Any]] = {}
        self.replies: dict[int, tuple[dict[str, Any], list[int]]] = {}
        self.seq = 0
        self.eof = False
        hello = self._read(RUNNER_START_TIMEOUT)
        if hello is None or hello[0].get("op") != "hello":
            self.close()
            raise SandboxError("the sandbox runner did not start (see stderr)")
        self.hello = hello[0]

    @property
    def alive(self) -> bool:
        return not self.eof and self.process.poll() is None

    def _read(self, timeout: float) -> tuple[dict[str, Any], list[int]] | None:
        """One message (exit records are filed away and also returned), or None."""
        if self.eof or not select.select([self.sock], [], [], max(timeout, 0))[0]:
            return None
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, 4)
        except OSError:
            data, fds = b"", []
        if not data:
            self.eof = True
            return None
        message = json.loads(data)
        if message.get("op") == "exit":
            self.exits[message["spawn"]] = message
        elif "seq" in message:
            self.replies[message["seq"]] = (message, fds)
        return message, fds

    def spawn(self, config: dict[str, Any], channel: int, output: int) -> tuple[int, int, int]:
        """Ask for a worker; returns the request's seq (which names it), its pid and a pidfd."""
        self.seq += 1
        seq = self.seq
        try:
            socket.send_fds(
                self.sock,
                [json.dumps({"op": "spawn", "seq": seq, "config": config}).encode()],
                [channel, output],
            )
        except OSError as exc:
            self.eof = True
            raise SandboxError(f"the sandbox runner is gone: {exc}") from None
        deadline = time.monotonic() + RUNNER_REPLY_TIMEOUT
        while seq not in self.replies:
            if self._read(deadline - time.monotonic()) is None and (
                self.eof or time.monotonic() >= deadline
            ):
                raise SandboxError("the sandbox runner did not answer a spawn request")
        message, fds = self.replies.pop(seq)
        for fd in fds:
            os.set_inheritable(fd, False)  # SCM_RIGHTS fds arrive without CLOEXEC
        if message.get("op") != "spawned" or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise SandboxError(f"the sandbox runner could not start a worker: {message.get('msg')}")
        return seq, int(message["pid"]), fds[0]

    def await_exit(self, spawn: int, timeout: float) -> dict[str, Any] | None:
        """The runner's exit record for the worker of spawn ``spawn``, waiting up to
        ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while spawn not in self.exits:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.eof:
                return None
            self._read(remaining)
        return self.exits.pop(spawn)

    def close(self) -> None:
        """Closing our end makes the runner kill and reap its workers, sweep, and exit."""
        self.sock.close()
        self.eof = True
        try:
            self.process.wait(RUNNER_REPLY_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Sandbox:
    """Runs student modules in confined worker processes; one per grading process (slot).

    Not thread-safe. ``mode`` is ``"auto"`` (the strongest mode that works here) or one of
    ``"root"`` (own uid, namespaces, seccomp; needs root), ``"userns"`` (user namespace,
    seccomp; any user where unprivileged user namespaces are allowed) or ``"none"`` (rlimits
    and seccomp only, for tests and machines without namespaces).
    """

    def __init__(self, *, slot: int = 0, hide: Sequence[Path] = (), mode: str = "auto") -> None:
        if mode != "auto" and mode not in MODES:
            raise SandboxError(f"unknown sandbox mode {mode!r}; use auto, {', '.join(MODES)}")
        if slot < 0:
            raise SandboxError(f"slot must be >= 0, not {slot}")
        self.slot = slot
        self.uid = BASE_UID + slot
        self.hide = tuple(sorted({os.path.realpath(p) for p in hide}))
        if "/" in self.hide:
            raise SandboxError("cannot hide the whole filesystem from the worker")
        self.requested_mode = mode
        self._slot_lock: int | None = None
        self._runner: _RunnerClient | None = None
        self.runner_generation = 0  # how many runners were replaced (``runner_intact``)
        self._report: IsolationReport | None = None
        self._mode = ""
        self._workers: set[Worker] = set()
        self._spawned = 0

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def report(self) -> IsolationReport:
        """What is enforced here (decided by the probe in :meth:`start`)."""
        if self._report is None:
            raise SandboxError("the sandbox has not been started; call start() first")
        return self._report

    def start(self) -> None:
        """Start the runner and decide the mode (idempotent)."""
        if self._report is not None:
            return
        if not sys.platform.startswith("linux") or not hasattr(os, "pidfd_open"):
            raise SandboxError(
                "the sandbox needs Linux 5.3 or later; on macOS or Windows run "
                "the grader in Docker, a Linux VM or WSL2"
            )
        root = os.geteuid() == 0
        if root:
            self._claim_slot()
        self._runner = _RunnerClient(self._slot_lock)
        if self.requested_mode == "root" and not root:
            self.close()
            raise SandboxError("sandbox mode 'root' needs root; use 'userns' or 'auto'")
        candidates = (
            [self.requested_mode]
            if self.requested_mode != "auto"
            else (["root", "userns", "none"] if root else ["userns", "none"])
        )
        failures = []
        for mode in candidates:
            try:
                self._probe(mode)
            except SandboxError as exc:
                failures.append(f"{mode}: {exc}")
                continue
            self._mode = mode
            self._report = self._describe(mode, failures)
            return
        self.close()
        raise SandboxError("no sandbox mode works on this machine: " + "; ".join(failures))

    def _claim_slot(self) -> None:
        """Take the first slot from ``self.slot`` on that no other live Sandbox here holds.

        Two sandboxes sharing a uid would kill each other's workers in the uid sweep and
        share RLIMIT_NPROC, so the uid is guarded by a lock for the Sandbox's lifetime.
        """
        os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
        for slot in range(self.slot, self.slot + MAX_SLOTS):
            fd = os.open(
                os.path.join(LOCK_DIR, f"slot-{slot}.lock"),
                os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                0o600,
            )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._slot_lock, self.uid = fd, BASE_UID + slot
            return
        raise SandboxError(f"slots {self.slot}..{self.slot + MAX_SLOTS - 1} are all in use")

    def _probe(self, mode: str) -> None:
        """Run one trivial worker in ``mode``; SandboxError if anything about it fails."""
        self._mode = mode
        worker = self.spawn(_PROBE_SOURCE, filename="probe.py", module="probe", limits=Limits())
        try:
            if worker.load_error is not None:
                raise SandboxError(worker.load_error.describe())
            if worker.call("probe") != 1:
                raise SandboxError("the probe worker answered wrongly")
        except StudentError as exc:
            raise SandboxError(exc.describe()) from None
        finally:
            worker.close()

    def _describe(self, mode: str, failures: list[str]) -> IsolationReport:
        assert self._runner is not None
        root = os.geteuid() == 0
        enforced = list(ENFORCED_BY_MODE[mode])
        if mode == "none" and root:
            enforced += [UID, SWEEP]  # setuid needs no namespace
        notes = []
        if not self._runner.hello.get("seccomp"):
            enforced.remove(SECCOMP)
            notes.append(
                "libseccomp is missing, so student code can open sockets, fork and "
                "exec (install libseccomp2)"
            )
        if mode == "userns" and root:
            notes.append(
                "in userns mode started as root the worker keeps uid 0 (without "
                "capabilities), so root-owned files outside the hidden paths are "
                "readable; use mode 'root'"
            )
        if mode == "none":
            hidden = ", ".join(self.hide) or "the hidden tests"
            who = (
                f"as uid {self.uid} and can read every world-readable file (including any "
                f"under {hidden}), list other processes with their command lines, "
                if root
                else f"as your uid {os.geteuid()} and can read every file you can (including "
                f"{hidden}), write to your files, read this grader's /proc entries "
                "(environment, memory), "
            )
            notes.append(
                f"no user or mount namespaces ({'; '.join(failures) or 'forced'}): "
                f"student code runs {who}and shares /tmp with later submissions; "
                "only rlimits and seccomp (no sockets, fork or exec) are enforced"
            )
        if self._runner.hello.get("threads", 1) != 1:
            notes.append("the runner is multi-threaded (a BLAS ignored OPENBLAS_NUM_THREADS)")
        ordered = tuple(g for g in GUARANTEES if g in enforced)
        missing = tuple(g for g in GUARANTEES if g not in enforced)
        return IsolationReport(
            mode=mode, enforced=ordered, missing=missing, warning="; ".join(notes) or None
        )

    def runner_intact(self, generation: int) -> bool:
        """The runner of ``generation`` is still the one, and alive: no call since then can
        have failed because the runner died (killed from outside, by the OOM killer) rather
        than because of what the student's code did."""
        runner = self._runner
        return generation == self.runner_generation and runner is not None and runner.alive

    def spawn(
        self,
        source: str,
        *,
        filename: str,
        module: str,
        limits: Limits,
        entropy: int | None = None,
        locate_timeouts: bool = False,
    ) -> Worker:
        """A new worker with ``source`` executed as module ``module`` (see Worker.load_error).

        ``entropy`` seeds whatever the module draws without a seed (see ``Worker.load``).
        ``locate_timeouts``: a timeout says where the code was (``Worker._where_stuck``).
        """
        if not self._mode:  # set once start() has a mode to probe (or has decided)
            self.start()
        if self._runner is None or not self._runner.alive:
            if self._runner is not None:  # a dead runner is replaced, never reused
                self._runner.close()
            self._runner = _RunnerClient(self._slot_lock)
            self.runner_generation += 1
        runner = self._runner
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe2(os.O_CLOEXEC)
        config = {
            "mode": self._mode,
            "uid": self.uid,
            "gid": self.uid,
            "hide": self.hide,
            "limits": limits.to_json(),
        }
        try:
            spawn, pid, pidfd = runner.spawn(config, theirs.fileno(), out_w)
        except BaseException:
            ours.close()
            os.close(out_r)
            raise
        finally:
            theirs.close()
            os.close(out_w)
        self._spawned += 1
        worker = Worker(
            spawn=spawn,
            pid=pid,
            pidfd=pidfd,
            channel=ours,
            output=out_r,
            limits=limits,
            filename=filename,
            handle_base=self._spawned << 32,
            await_exit=runner.await_exit,
            on_close=self._workers.discard,
            locate_timeouts=locate_timeouts,
        )
        self._workers.add(worker)
        worker.load(source, module, entropy)
        return worker

    def close(self) -> None:
        """Close every worker and stop the runner (idempotent)."""
        for worker in list(self._workers):
            worker.close()
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        if self._slot_lock is not None:  # after the runner's last sweep of the uid
            os.close(self._slot_lock)
            self._slot_lock = None
        # Closed means closed: using it again starts (and probes, and claims a slot) anew.
        self._report = None
        self._mode = ""
