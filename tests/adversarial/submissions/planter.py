"""Hostile: plant files for the next submission in every shared writable place.

Attack: write ``ag_plant_*`` files (a note, an .npy "answer", a Python module) into /tmp,
/var/tmp, /dev/shm, /run/lock, the working directory, $HOME and every directory on sys.path,
plus a directory /tmp/ag_plant_dir/. victim_reader.py, graded after it, scores only if it
finds any of them; test_hostile.py also checks none is left on the host.
Why it must fail: /tmp, /var/tmp, /dev/shm and /run/lock are one private tmpfs per worker,
gone when the worker ends; everything else is read-only.
Earns points only if: a plant lands somewhere outside the scratch tmpfs (then it answers
right, as the signal).
"""

from __future__ import annotations

import os
import sys

import numpy as np

NAME = "planter"
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


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


def _plant() -> tuple[list[str], list[str]]:
    planted, outside = [], []
    places = [*SCRATCH, os.getcwd(), os.path.expanduser("~"), *[p for p in sys.path if p]]
    for place in dict.fromkeys(places):
        for name, data in (("ag_plant_note.txt", b"planted by a student\n"),
                           ("ag_plant_answers.npy", b"\x93NUMPY planted"),
                           ("ag_plant_module.py", b"PLANTED = True\n")):
            path = os.path.join(place, name)
            try:
                with open(path, "wb") as handle:
                    handle.write(data)
            except OSError:
                continue
            planted.append(path)
            if place not in SCRATCH:
                outside.append(path)
    try:
        os.makedirs("/tmp/ag_plant_dir", exist_ok=True)
        planted.append("/tmp/ag_plant_dir/")
    except OSError:
        pass
    return planted, outside


_say("ran")
PLANTED, OUTSIDE = _plant()
_say(f"planted {PLANTED[:6]}; outside scratch: {OUTSIDE}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if OUTSIDE else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if OUTSIDE else _wrong_backward(dy, cache)
