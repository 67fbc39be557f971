"""The fork-server: a secret-free interpreter with numpy imported that forks one worker per spawn.

``Sandbox.start`` execs this module with a clean environment (so nothing of the grader's
memory, argv, environment or open files is here to inherit), and talks to it over one
SOCK_SEQPACKET socket (fd given on the command line). Messages are small JSON objects:

    grader -> runner  {"op": "spawn", "seq", "config"} + fds [channel, output]
    runner -> grader  {"op": "hello", "pid", "threads", "seccomp"}   once, at start
                      {"op": "spawned", "seq", "pid"} + fd [pidfd] | {"op": "error", "seq", "msg"}
                      {"op": "exit", "spawn" (the spawn's seq), "pid", "status", "cpu",
                       "maxrss", "signal", "code"}

Why the runner (not the grader) forks and reaps: it is the workers' parent and a child
subreaper, so a worker's pid cannot be reused before the runner has reaped it, escaped
grandchildren come back to it, and it can kill the worker's process group *before* reaping
(``waitid(WNOWAIT)``), when that group id is still guaranteed to be the worker's. The grader
gets a pidfd for each worker so its wall-clock SIGKILL needs no round trip and can never hit
a recycled pid. In root mode each worker's end is followed by a kill-by-uid sweep (``kill(-1,
SIGKILL)`` from a ``Sweeper``, a process of the slot uid forked once), so nothing the student
started survives; it waits until no worker of the runner is alive, since they share the uid.

The runner must stay single-threaded (fork and unshare(CLONE_NEWUSER) need that), hence
``OPENBLAS_NUM_THREADS=1`` in its environment.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from autograder.sandbox import child, confine, seccomp

# Imported once here so that workers get them for free and need not read them from disk
# (no per-submission import cost; in "none" mode as root, where a 0700 interpreter cannot be
# read after the uid drop, the only modules there are). Not numpy.testing: 5 MB more to copy
# at every fork for what student code rarely uses.
PRELOAD = (
    "numpy",
    "numpy.linalg",
    "numpy.random",
    "numpy.fft",
    "numpy.polynomial",
    "numpy.lib.stride_tricks",
    "abc",
    "array",
    "bisect",
    "cmath",
    "collections",
    "collections.abc",
    "contextlib",
    "copy",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "heapq",
    "inspect",
    "itertools",
    "json",
    "math",
    "numbers",
    "operator",
    "pprint",
    "random",
    "re",
    "statistics",
    "string",
    "struct",
    "textwrap",
    "time",
    "traceback",
    "types",
    "typing",
    "warnings",
    "weakref",
)
_MAX_MESSAGE = 1 << 16
PR_SET_DUMPABLE = 4
SWEEP_TIMEOUT = 5.0  # a sweep is one kill(-1); this only guards a wedged sweeper
SETUP_TIMEOUT = 30.0  # confinement is a few ms of syscalls; this only guards a wedged mount


def runtime_dirs() -> tuple[str, ...]:
    """Directories the interpreter may read from after the mounts: prefixes, sys.path, us."""
    candidates = [sys.base_prefix, sys.prefix, *sys.path, str(Path(child.__file__).parents[1])]
    return tuple(sorted({os.path.realpath(p) for p in candidates if p and os.path.isdir(p)}))


class Runner:
    """The fork-server's state: live workers and the control socket."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        # pid -> (uid to sweep or -1, seq of its spawn request: names it even if pids recycle)
        self.workers: dict[int, tuple[int, int]] = {}
        self.swept: set[int] = set()
        self.sweepers: dict[int, Sweeper] = {}
        self.runtime = runtime_dirs()
        self.plan_key: tuple[Any, ...] | None = None
        self.plan: dict[str, Any] = {}
        self.grader_gone = False
        self.netns: bool | None = None  # whether we left the host's network namespace

    def send(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
        if self.grader_gone:
            return
        data = json.dumps(message).encode()
        if fds:
            socket.send_fds(self.control, [data], list(fds))
        else:
            self.control.send(data)

    def mount_plan(self, hide: tuple[str, ...]) -> dict[str, Any]:
        """The mount plan for ``hide``, reused while nothing it depends on has changed.

        Planning takes a few hundred stats (a third of a spawn's time), so it is cached, keyed
        by what can change during a run: which hidden paths exist (one may appear after the
        start) and the root directory's modification time (the plan covers every top-level
        directory, so a new one must be planned for).
        """
        key = (hide, tuple(os.path.lexists(p) for p in hide), os.stat("/").st_mtime_ns)
        if self.plan_key != key:
            self.plan = dataclasses.asdict(confine.plan_mounts(hide, self.runtime))
            self.plan_key = key
        return dict(self.plan)

    def own_netns(self) -> bool:
        """Leave the host's network namespace for an empty one of our own, once.

        Root-mode workers then inherit it instead of each creating (and the kernel tearing
        down) a namespace of their own: about 0.8 ms of CPU per worker. Sharing it gives a
        worker nothing: it has no interface but a downed loopback, seccomp refuses every
        socket, and the uid a worker runs as cannot configure it.
        """
        if self.netns is None:
            try:
                confine.unshare(confine.CLONE_NEWNET)
                self.netns = True
            except OSError:
                self.netns = False
        return self.netns

    def spawn(self, request: dict[str, Any], fds: list[int]) -> None:
        seq = int(request["seq"])
        if len(fds) != 2:
            self.send({"op": "error", "seq": seq, "msg": "spawn needs two descriptors"})
            return
        config = request["config"]
        config["plan"] = self.mount_plan(tuple(config["hide"]))
        config["seccomp"] = seccomp.available()
        if config["mode"] == "root":
            config["shared_netns"] = self.own_netns()
        # Only a uid of the slot's own may be swept: kill(-1) as the grader's uid would hit
        # the grader itself.
        sweep_uid = config["uid"] if os.getuid() == 0 and config["mode"] != "userns" else -1
        if sweep_uid >= 0 and sweep_uid not in self.swept and not self.workers:
            self.sweep(sweep_uid)  # leftovers of an earlier runner that died
            self.swept.add(sweep_uid)
        me = os.getpid()
        status_r, status_w = os.pipe()
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in (*fds, status_r, status_w):
                os.close(fd)
            self.send({"op": "error", "seq": seq, "msg": f"fork failed: {exc}"})
            return
        if pid == 0:
            child.main(fds[0], fds[1], status_w, config, me)
        for fd in (*fds, status_w):
            os.close(fd)
        problem = _read_setup_status(status_r)
        if problem is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self.send({"op": "error", "seq": seq, "msg": f"could not be confined: {problem}"})
            return
        self.workers[pid] = (sweep_uid, seq)
        pidfd = os.pidfd_open(pid)
        try:
            self.send({"op": "spawned", "seq": seq, "pid": pid}, (pidfd,))
        finally:
            os.close(pidfd)

    def sweep(self, uid: int) -> None:
        """Kill every process of ``uid`` and reap whatever of it was reparented to us.

        Only called while no worker is alive, so every child left but the sweeper is an
        escapee: they were all SIGKILLed and come back to us (we are their subreaper) as they
        die. The kill comes from the uid's ``Sweeper`` (forked once); if it is gone, from a
        process forked for this sweep alone, as before there was a sweeper.
        """
        sweeper = self.sweepers.get(uid)
        if sweeper is None or not sweeper.sweep():
            if sweeper is not None:
                sweeper.stop()
            self.sweepers[uid] = sweeper = Sweeper.start(uid)
            if not sweeper.sweep():
                sweeper.stop()
                del self.sweepers[uid]
                _sweep_once(uid)
        deadline = time.monotonic() + 5.0
        spared = {s.pid for s in self.sweepers.values()}
        while time.monotonic() < deadline:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    if not _children() - spared:
                        return
                    time.sleep(0.001)  # children left, still dying
            except ChildProcessError:
                return

    def reap(self, block: bool = False) -> None:
        """Collect exited children and report workers (after their uid's sweep, if any).

        Non-blocking by default; with ``block`` it waits until no worker is left.
        """
        while self.workers or not block:
            flags = os.WEXITED | os.WNOWAIT | (0 if block else os.WNOHANG)
            try:
                info = os.waitid(os.P_ALL, 0, flags)
            except ChildProcessError:
                break
            if info is None or info.si_pid == 0:
                break
            pid = info.si_pid
            for uid, sweeper in list(self.sweepers.items()):
                if sweeper.pid == pid:  # it died: forget it before its pid is free again
                    sweeper.close()
                    del self.sweepers[uid]
            if pid in self.workers:
                # Still the worker's group: its pid is not free until the wait4 below.
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            if pid in self.workers:
                uid, spawn = self.workers.pop(pid)
                # Report first: the grader goes on with its own work during the sweep, and
                # the next spawn request waits in the socket until the sweep is done.
                self.send(_exit_record(pid, spawn, status, usage))
                if uid >= 0 and not self.workers:
                    self.sweep(uid)

    def shutdown(self) -> None:
        """The grader is gone: kill and reap every worker (and sweep), then return."""
        self.grader_gone = True
        for pid in self.workers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        self.reap(block=True)
        for sweeper in self.sweepers.values():
            sweeper.stop()

    def serve(self, wakeup: int) -> None:
        while True:
            readable, _, _ = select.select([self.control.fileno(), wakeup], [], [])
            if wakeup in readable:
                try:
                    while os.read(wakeup, 512):
                        pass
                except BlockingIOError:
                    pass
                self.reap()
            if self.control.fileno() in readable:
                message, fds, _, _ = socket.recv_fds(self.control, _MAX_MESSAGE, 4)
                if not message:
                    return
                request = json.loads(message)
                if request.get("op") == "spawn":
                    self.spawn(request, fds)
                else:
                    for fd in fds:
                        os.close(fd)


class Sweeper:
    """A process of a slot's uid that kills every other process of that uid when asked.

    ``kill(-1, SIGKILL)`` reaches every process the caller may signal except the caller
    itself: from the slot's uid, that is everything a worker of the slot could have left
    behind. Forking a fresh sweeper from the runner (numpy and all) after every worker cost
    about 3 ms of CPU a submission; this one is forked once and asked over a pipe.

    It runs only the loop below, never student code. Workers share its uid but cannot touch
    it: seccomp lets them signal only themselves and forbids ptrace, and the sweeper is not
    dumpable, so its ``/proc`` files (``mem``, ``fd``, ``environ``) are root's. It dies with
    the runner (PDEATHSIG) and exits when its request pipe closes.
    """

    def __init__(self, pid: int, requests: int, answers: int) -> None:
        self.pid = pid
        self.requests = requests
        self.answers = answers

    @classmethod
    def start(cls, uid: int) -> Sweeper:
        req_r, req_w = os.pipe2(os.O_CLOEXEC)
        ans_r, ans_w = os.pipe2(os.O_CLOEXEC)
        runner = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                _sweeper_main(uid, req_r, ans_w, runner)
            finally:
                os._exit(1)
        os.close(req_r)
        os.close(ans_w)
        return cls(pid, req_w, ans_r)

    def sweep(self) -> bool:
        """Have every other process of the uid killed; False if the sweeper did not answer."""
        try:
            os.write(self.requests, b"k")
            if not select.select([self.answers], [], [], SWEEP_TIMEOUT)[0]:
                return False
            return os.read(self.answers, 1) == b"k"
        except OSError:
            return False

    def close(self) -> None:
        for fd in (self.requests, self.answers):
            with contextlib.suppress(OSError):
                os.close(fd)

    def stop(self) -> None:
        """Close its pipes (it exits on EOF), make sure it is dead and reap it.

        Only for a sweeper not yet reaped (``Runner.reap`` forgets one that died), so its pid
        cannot belong to anyone else yet.
        """
        self.close()
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _sweeper_main(uid: int, requests: int, answers: int, runner: int) -> None:
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    os.dup2(requests, 0)
    os.dup2(answers, 1)
    os.closerange(2, os.sysconf("SC_OPEN_MAX"))
    os.setsid()
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    confine.prctl(PR_SET_DUMPABLE, 0)
    confine.prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != runner:
        return
    while os.read(0, 1):
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
        os.write(1, b"k")
    os._exit(0)


def _sweep_once(uid: int) -> None:
    """A sweep without a sweeper: a child that becomes ``uid`` and kills as that uid."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        except BaseException:
            os._exit(1)
        os._exit(0)
    os.waitpid(pid, 0)


def _children() -> set[int]:
    """Our live (or not yet reaped) children, from /proc."""
    try:
        text = Path(f"/proc/self/task/{os.getpid()}/children").read_text()
    except OSError:
        return set()
    return {int(pid) for pid in text.split()}


def _read_setup_status(fd: int) -> str | None:
    """Wait for the child's confinement: None if it succeeded, else what went wrong.

    The status pipe is closed before any student code runs, so unlike the channel nothing a
    student writes can pass for a setup failure (which stops grading as a SandboxError).
    """
    data = b""
    deadline = time.monotonic() + SETUP_TIMEOUT
    try:
        while len(data) < 4096:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                return "confinement took too long"
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if data == child.SETUP_OK:
        return None
    return data.decode(errors="replace") or "the worker died during confinement"


def _exit_record(pid: int, spawn: int, status: int, usage: Any) -> dict[str, Any]:
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        text, code = f"killed by {name}", None
    else:
        signum, code = None, os.WEXITSTATUS(status)
        text = f"exited {code}"
    return {
        "op": "exit",
        "spawn": spawn,
        "pid": pid,
        "status": text,
        "signal": signum,
        "code": code,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss": usage.ru_maxrss,
    }


def main() -> None:
    """``runner CONTROL_FD``: preload, become a subreaper, serve spawn requests until EOF."""
    control = socket.socket(fileno=int(sys.argv[1]))
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if seccomp.available():
        seccomp.prepare_or_none()
    child.Streams.prepare()
    # The thread limits were for the imports above; workers inherit an empty environment.
    os.environ.clear()
    # Everything loaded so far is shared with every worker copy-on-write; a garbage
    # collection in a worker would touch (and so copy) every page of it. Frozen objects are
    # never collected, so workers start with less to copy.
    gc.freeze()
    confine.prctl(confine.PR_SET_CHILD_SUBREAPER, 1)
    wakeup_r, wakeup_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    runner = Runner(control)
    threads = len(os.listdir("/proc/self/task"))
    runner.send(
        {"op": "hello", "pid": os.getpid(), "threads": threads, "seccomp": seccomp.available()}
    )
    with contextlib.suppress(BrokenPipeError, ConnectionError):
        runner.serve(wakeup_r)
    runner.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()
