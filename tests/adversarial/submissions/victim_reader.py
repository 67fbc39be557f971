"""Hostile's accomplice: look for anything an earlier submission planted, and use it.

Attack: graded after planter.py (its student id sorts later, and test_hostile.py runs one
pair with --jobs 1), look for ``ag_plant_*`` in /tmp, /var/tmp, /dev/shm, /run/lock, the
working directory, $HOME and sys.path, and try to import the planted module.
Why it must fail: each worker gets a fresh private tmpfs for the scratch dirs and a read-only
view of everything else, so nothing of an earlier worker is visible.
Earns points only if: it finds a plant (then it answers right, as the signal).
"""

from __future__ import annotations

import os
import sys

import numpy as np

NAME = "victim_reader"


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


def _look() -> list[str]:
    places = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock", os.getcwd(), os.path.expanduser("~"),
              *[p for p in sys.path if p]]
    found = []
    for place in dict.fromkeys(places):
        try:
            names = os.listdir(place)
        except OSError:
            continue
        found += [os.path.join(place, n) for n in names if n.startswith("ag_plant_")]
    try:
        import ag_plant_module  # type: ignore[import-not-found]  # noqa: F401

        found.append("imported ag_plant_module")
    except ImportError:
        pass
    return found


_say("ran")
FOUND = _look()
_say(f"plants found: {FOUND}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if FOUND else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if FOUND else _wrong_backward(dy, cache)
