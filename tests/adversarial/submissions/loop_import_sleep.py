"""Hostile: ignore every catchable signal, then sleep forever while the module loads.

Attack: SIGTERM, SIGINT, SIGHUP, SIGXCPU, SIGALRM, SIGUSR1/2 set to SIG_IGN (and blocked),
then an endless sleep: no CPU used, so a CPU limit never fires, and a polite SIGTERM is
ignored.
Why it must fail: the grader's wall-clock deadline ends the worker with SIGKILL, which
cannot be caught, blocked or ignored.
Earns points only if: never; the run must finish.
"""

from __future__ import annotations

import signal
import time

import numpy as np

NAME = "loop_import_sleep"
CATCHABLE = ("SIGTERM", "SIGINT", "SIGHUP", "SIGXCPU", "SIGALRM", "SIGUSR1", "SIGUSR2",
             "SIGQUIT", "SIGPIPE", "SIGVTALRM", "SIGPROF")


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


def _deafen() -> list[str]:
    done = []
    for name in CATCHABLE:
        try:
            signal.signal(getattr(signal, name), signal.SIG_IGN)
            done.append(name)
        except (OSError, ValueError, AttributeError):
            pass
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))
        done.append("blocked all")
    except (OSError, ValueError):
        pass
    return done


_say(f"ignoring {_deafen()} and sleeping at import")
while True:
    time.sleep(3600)


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _wrong_backward(dy, cache)
