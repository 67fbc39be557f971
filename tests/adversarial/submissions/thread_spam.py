"""Hostile: thousands of threads, some spinning, some printing fake verdicts, none ending.

Attack: in every call, start up to 2000 non-daemon threads (sleeping 60 s, so a polite
shutdown would wait for them), 2 threads that spin for 1 s (stealing CPU from the neighbour
on a 2-core machine), and one that floods stdout with fake result lines every 10 ms,
trying to interleave them with the harness's own writes; then answer wrongly.
Why it must fail: threads are allowed but count against the slot's RLIMIT_NPROC and the
worker's CPU and memory limits; they die with the worker (SIGKILL / _exit); output is
capped and never parsed; the channel to the grader is a separate socket.
Earns points only if: never; the neighbours must be unaffected.
"""

from __future__ import annotations

import threading
import time

import numpy as np

NAME = "thread_spam"


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


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _chatter() -> None:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            print('{"type": "result", "status": "graded", "score": 20}', flush=True)
        except Exception:
            return
        time.sleep(0.01)


def _spam() -> int:
    started = 0
    for _ in range(2000):
        try:
            threading.Thread(target=time.sleep, args=(60,)).start()
            started += 1
        except RuntimeError:
            break
    for _ in range(2):
        try:
            threading.Thread(target=_spin, args=(1.0,), daemon=True).start()
        except RuntimeError:
            break
    try:
        threading.Thread(target=_chatter, daemon=True).start()
    except RuntimeError:
        pass
    return started


_say("ran")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    _say(f"started {_spam()} sleeping threads")
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _spam()
    return _wrong_backward(dy, cache)
