"""The worker's seccomp program: compiled once with a placeholder pid, patched per worker."""

from __future__ import annotations

import os

import pytest

from autograder.sandbox import seccomp

pytestmark = pytest.mark.skipif(not seccomp.available(), reason="libseccomp is not installed")


@pytest.mark.parametrize("pid", [1, 2, 37, 1234, 65_535, 4_194_303])
def test_patched_program_is_the_one_libseccomp_compiles_for_that_pid(pid: int) -> None:
    assert seccomp.prepare().for_pid(pid) == seccomp.export(seccomp.build(pid))


def test_the_placeholder_is_never_a_real_pid() -> None:
    program = seccomp.prepare()
    assert program.pid_slots
    with pytest.raises(ValueError):
        program.for_pid(seccomp.PLACEHOLDER_PID)
    with pytest.raises(ValueError):
        program.for_pid(0)


def _in_filtered_child() -> dict[str, int]:
    """Fork, install the filter for the child's pid, try signal 0 (nothing is delivered) on a
    few targets, and a fork."""
    parent = os.getpid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read)
            os.setpgid(0, 0)
            import ctypes

            ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # NO_NEW_PRIVS, as the worker sets it
            seccomp.install(os.getpid())
            results = []
            for target in (os.getpid(), parent, 0, -1):
                try:
                    os.kill(target, 0)
                    results.append(0)
                except OSError as exc:
                    results.append(exc.errno or -1)
            try:
                os.fork()
                results.append(0)
            except OSError as exc:
                results.append(exc.errno or -1)
            os.write(write, ",".join(map(str, results)).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = os.read(read, 1000).decode()
    os.close(read)
    os.waitpid(pid, 0)
    own, grader, group, everyone, fork = (int(v) for v in data.split(","))
    return {"own": own, "grader": grader, "group": group, "everyone": everyone, "fork": fork}


def test_installed_filter_lets_a_process_signal_only_itself() -> None:
    # The child keeps our uid (and as root every capability), so only the filter can refuse.
    got = _in_filtered_child()
    eperm = 1
    assert got == {"own": 0, "grader": eperm, "group": eperm, "everyone": eperm, "fork": eperm}


def test_where_patching_is_not_exact_each_worker_compiles_its_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> seccomp.Program:
        raise OSError("patching its pid is not exact")

    monkeypatch.setattr(seccomp, "prepare", refuse)
    monkeypatch.setattr(seccomp, "_unpatchable", False)
    assert seccomp.prepare_or_none() is None
    eperm = 1
    got = _in_filtered_child()
    assert got == {"own": 0, "grader": eperm, "group": eperm, "everyone": eperm, "fork": eperm}
