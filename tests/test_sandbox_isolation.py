"""What each isolation mode actually keeps student code from doing, attempted for real.

Every test runs in each mode this machine supports ("root" needs root; "userns" needs
unprivileged user namespaces; "none" works everywhere) and asserts the mode's documented
guarantee -- including, for "none", the gaps its warning admits to.
"""

from __future__ import annotations

import os
import signal
import socket
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autograder.errors import SandboxError, StudentException
from autograder.sandbox import Limits, Sandbox, Worker
from autograder.sandbox.child import WORKER_ENV

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="needs Linux >= 5.3")

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
LIMITS = Limits(call_timeout=5.0, import_timeout=5.0, memory_mb=128)
ROOT = os.geteuid() == 0
NAMESPACED = ("root", "userns")
HIDDEN_FILE = "/etc/hostname"  # a single hidden file (a key, a token) outside any hidden dir


def _modes() -> list[str]:
    """The modes that start here (a container without CAP_SYS_ADMIN has no "root" mode)."""
    modes = []
    for mode in ("root", "userns") if ROOT else ("userns",):
        try:
            with Sandbox(slot=50, mode=mode):
                modes.append(mode)
        except SandboxError:
            pass
    return [*modes, "none"]


@pytest.fixture(scope="module", params=_modes())
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    # Hiding the repository hides this very file (the "hidden tests") and the venv's parent.
    hide = [REPO, Path(HIDDEN_FILE)] if os.path.isfile(HIDDEN_FILE) else [REPO]
    with Sandbox(slot=51 + len(request.param), hide=hide, mode=request.param) as box:
        yield box


def run(sandbox: Sandbox, body: str, *args: object) -> Any:
    """Define ``f`` from ``body`` in a fresh worker, call it once, close the worker."""
    source = "import os, sys\n\ndef f(*args):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    worker = sandbox.spawn(source, filename="probe.py", module="probe", limits=LIMITS)
    try:
        assert worker.load_error is None, worker.load_error
        return worker.call("f", *args)
    finally:
        worker.close()


def test_report_states_the_mode_and_its_gaps(sandbox: Sandbox) -> None:
    report = sandbox.report
    assert set(report.enforced) | set(report.missing) >= {"rlimits", "seccomp", "mountns"}
    assert "rlimits" in report.enforced and "seccomp" in report.enforced
    if report.mode == "root":
        assert report.missing == () and report.warning is None
    if report.mode == "none":
        assert {"netns", "mountns", "proc"} <= set(report.missing)
        assert report.warning is not None and str(REPO) in report.warning


def test_hidden_paths_are_invisible(sandbox: Sandbox) -> None:
    got = run(
        sandbox,
        """
        try:
            return open(args[0]).read()[:40]
        except OSError as exc:
            return type(exc).__name__
    """,
        str(HERE),
    )
    if sandbox.report.mode in NAMESPACED:
        assert got == "FileNotFoundError"
    else:  # documented gap: a world-readable hidden file is readable without a mount ns
        assert isinstance(got, str) and got.startswith('"""What each isolation mode')


def test_hidden_files_read_as_empty(sandbox: Sandbox) -> None:
    if not os.path.isfile(HIDDEN_FILE) or not Path(HIDDEN_FILE).read_text():
        pytest.skip(f"no non-empty {HIDDEN_FILE} here")
    got = run(sandbox, "return open(args[0]).read()", HIDDEN_FILE)
    if sandbox.report.mode in NAMESPACED:
        assert got == ""
    else:
        assert got == Path(HIDDEN_FILE).read_text()


def test_lazy_imports_still_work_with_the_interpreter_hidden(sandbox: Sandbox) -> None:
    if sandbox.report.mode == "none" and ROOT and sys_prefix_is_private():
        pytest.skip("without a mount namespace the slot uid cannot read a 0700 interpreter")
    assert (
        run(
            sandbox,
            """
        import csv, sqlite3, numpy.ma, email.mime.text
        return numpy.ma.masked_array([1.0, 2.0], mask=[0, 1]).sum()
    """,
        )
        == 1.0
    )


def sys_prefix_is_private() -> bool:
    import sys

    path = Path(sys.base_prefix)
    return any(p.stat().st_mode & 0o005 != 0o005 for p in (path, *path.parents))


def test_filesystem_is_read_only_outside_tmp(sandbox: Sandbox) -> None:
    got = run(
        sandbox,
        """
        results = []
        for path in ("/etc/sbx_probe", "/var/lib/sbx_probe", "/opt/sbx_probe"):
            try:
                open(path, "w").close()
                os.unlink(path)
                results.append("written")
            except OSError as exc:
                results.append(type(exc).__name__)
        with open("/tmp/ok", "w") as fh:
            fh.write("scratch is writable")
        return results
    """,
    )
    assert got == ["PermissionError"] * 3 or got == ["OSError"] * 3


def test_network_is_unreachable(sandbox: Sandbox) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(StudentException) as caught:
            run(sandbox, "import socket\nsocket.socket().connect(('127.0.0.1', args[0]))\n", port)
        assert caught.value.exc_type == "PermissionError"
        listener.settimeout(0.1)
        with pytest.raises(TimeoutError):
            listener.accept()
    if sandbox.report.mode == "root":  # the namespace itself, not just seccomp: only lo
        devices = run(sandbox, "return open('/proc/self/net/dev').read()")
        assert isinstance(devices, str)
        assert [line.split(":")[0].strip() for line in devices.splitlines()[2:]] == ["lo"]
        # The runner's own empty namespace, shared by its workers: never the grader's.
        namespace = "return os.readlink('/proc/self/ns/net')"
        first, second = run(sandbox, namespace), run(sandbox, namespace)
        assert first == second != os.readlink("/proc/self/ns/net")


def test_fork_and_exec_fail(sandbox: Sandbox) -> None:
    got = run(
        sandbox,
        """
        import subprocess
        out = {"system": os.system("true")}
        for name, attempt in (("fork", os.fork), ("run", lambda: subprocess.run(["true"]))):
            try:
                attempt()
                out[name] = "ran"
            except OSError as exc:
                out[name] = type(exc).__name__
        return out
    """,
    )
    assert got == {"system": 127 << 8, "fork": "PermissionError", "run": "PermissionError"}


def test_signals_reach_only_the_worker_itself(sandbox: Sandbox) -> None:
    got = run(
        sandbox,
        """
        os.kill(os.getpid(), 0)
        denied = []
        for pid in (args[0], 1, -1, 0):
            try:
                os.kill(pid, 0)
            except PermissionError:
                denied.append(pid)
        return denied
    """,
        os.getpid(),
    )
    assert got == [os.getpid(), 1, -1, 0]


def test_tmp_is_private_to_each_worker(sandbox: Sandbox) -> None:
    planted = run(
        sandbox,
        """
        for path in ("/tmp", "/var/tmp", "/dev/shm"):
            with open(path + "/sbx_planted", "w") as fh:
                fh.write("for the next student")
        return True
    """,
    )
    assert planted
    seen = run(
        sandbox,
        """
        return [p for p in ("/tmp", "/var/tmp", "/dev/shm") if os.path.exists(p + "/sbx_planted")]
    """,
    )
    if sandbox.report.mode in NAMESPACED:
        assert seen == []
        assert not os.path.exists("/tmp/sbx_planted")
    else:  # documented gap
        assert seen == ["/tmp", "/var/tmp", "/dev/shm"]
        for path in ("/tmp", "/var/tmp", "/dev/shm"):
            os.unlink(path + "/sbx_planted")


def test_grader_environment_argv_and_processes_are_invisible(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    monkeypatch.setenv("SBX_GRADER_SECRET", "s3cr3t-token")
    mode = sandbox.report.mode
    # A sandbox started now: its runner is created while the secret is in our environment.
    with Sandbox(slot=60, hide=[REPO], mode=mode) as box:
        got = run(
            box,
            """
            found = {"environ": dict(os.environ), "argv": sys.argv, "readable": []}
            for pid in (args[0], args[1]):
                for name in ("environ", "cmdline"):
                    try:
                        data = open(f"/proc/{pid}/{name}", "rb").read()
                        found["readable"].append(name)
                        found.setdefault("leak", b"s3cr3t" in data)
                    except OSError:
                        pass
            found["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            return found
        """,
            os.getpid(),
            box._runner.process.pid if box._runner else 0,
        )
    assert isinstance(got, dict)
    assert got["environ"] == WORKER_ENV  # nothing of the grader's
    assert not set(got["argv"]) & set(__import__("sys").argv[1:])
    if mode in NAMESPACED:
        assert got["readable"] == [] and len(got["pids"]) <= 1
    elif ROOT:  # no hidepid: other processes are listed, but their environ is not readable
        assert "environ" not in got["readable"] and not got.get("leak")


def _escapee(uid: int) -> int:
    """Stand-in for an escaped daemon (seccomp stops real forks): a process of ``uid``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.setresuid(uid, uid, uid)
        os.write(write_end, b"x")
        time.sleep(60)
        os._exit(0)
    os.close(write_end)
    os.read(read_end, 1)
    os.close(read_end)
    return pid


def _killed(pid: int) -> bool:
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _sweepers(sandbox: Sandbox) -> list[int]:
    """The one process of the slot uid allowed to stay: the runner's (undumpable) sweeper."""
    assert sandbox._runner is not None
    runner = sandbox._runner.process.pid
    children = Path(f"/proc/{runner}/task/{runner}/children").read_text().split()
    found = _processes_of(sandbox.uid)
    assert set(found) <= {int(c) for c in children}, "a process of the uid outside the runner"
    for pid in found:
        assert Path(f"/proc/{pid}/mem").stat().st_uid == 0  # not dumpable: root's files
    return found


def test_no_process_of_the_slot_uid_survives(sandbox: Sandbox) -> None:
    if "sweep" not in sandbox.report.enforced:
        pytest.skip("the uid sweep needs a uid of the slot's own (root)")
    escapee = _escapee(sandbox.uid)
    assert run(sandbox, "return 1") == 1
    assert _killed(escapee)
    assert len(_sweepers(sandbox)) == 1
    # The next worker cannot see the sweeper, though it has the same uid.
    if sandbox.report.mode == "root":
        listed, own = run(
            sandbox, "return [p for p in os.listdir('/proc') if p.isdigit()], os.getpid()"
        )
        assert listed == [str(own)]


def test_a_dead_sweeper_is_replaced_and_the_sweep_still_happens(sandbox: Sandbox) -> None:
    if "sweep" not in sandbox.report.enforced:
        pytest.skip("the uid sweep needs a uid of the slot's own (root)")
    assert run(sandbox, "return 1") == 1
    (sweeper,) = _sweepers(sandbox)
    os.kill(sweeper, signal.SIGKILL)
    escapee = _escapee(sandbox.uid)
    assert run(sandbox, "return 2") == 2
    assert _killed(escapee)
    (replacement,) = _sweepers(sandbox)
    assert replacement != sweeper


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        if entry.isdigit() and f"\nUid:\t{uid}\t" in status:
            found.append(int(entry))
    return found


def test_capabilities_and_groups_are_gone(sandbox: Sandbox) -> None:
    if sandbox.report.mode == "userns":
        pytest.skip("/proc is covered in userns mode; capset is asserted by its setup")
    got = run(
        sandbox,
        """
        status = open("/proc/self/status").read()
        fields = dict(line.split(":", 1) for line in status.splitlines())
        return os.getuid(), os.getgroups(), int(fields["CapEff"], 16)
    """,
    )
    uid, groups, caps = got
    if ROOT:
        assert (uid, groups, caps) == (sandbox.uid, [], 0)
    else:
        assert uid == os.getuid() and caps == 0


@pytest.mark.skipif(not ROOT, reason="slot uids exist only as root")
def test_two_sandboxes_never_share_a_slot_uid() -> None:
    with Sandbox(slot=70, mode="none") as first, Sandbox(slot=70, mode="none") as second:
        assert first.uid == 64070 and second.uid == 64071
        assert run(first, "return os.getuid()") == 64070
        assert run(second, "return os.getuid()") == 64071


@pytest.mark.skipif(not ROOT, reason="slot uids exist only as root")
def test_the_runner_holds_its_slot_until_it_exits() -> None:
    # A grader killed by SIGKILL leaves its runner sweeping the uid for a moment; a new
    # sandbox must not take that uid meanwhile. Dropping the grader's own lock fd stands in
    # for the dead grader: the runner's inherited copy must still hold the slot.
    with Sandbox(slot=75, mode="none") as first:
        assert first._slot_lock is not None and first.uid == 64075
        os.close(first._slot_lock)
        first._slot_lock = None
        with Sandbox(slot=75, mode="none") as second:
            assert second.uid == 64076
    with Sandbox(slot=75, mode="none") as third:  # the first runner is gone: free again
        assert third.uid == 64075


def test_worker_api_is_the_same_in_every_mode(sandbox: Sandbox) -> None:
    worker: Worker = sandbox.spawn(
        "def f(x):\n    return x * 2\n", filename="m.py", module="m", limits=LIMITS
    )
    assert worker.call("f", 21) == 42
    assert worker.close().status == "exited 0"
