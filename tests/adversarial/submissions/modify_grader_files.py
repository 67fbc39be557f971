"""Hostile: try to write into the grader's own code, the venv, the hidden tests and caches.

Attack: locate the autograder package (from sys.modules and REPO), numpy, site-packages, the
stdlib, the hidden tests and the course, and try to create a file in each (including
``__pycache__`` -- a planted .pyc would run inside the next grader) and to open existing
sources for writing. It never changes an existing file: a new ``ag_pwned_*`` file is the
proof, found by test_hostile.py's filesystem snapshot.
Why it must fail: the worker runs as its own uid on a read-only view of the filesystem, with
the course root (solutions, tests) hidden under an empty tmpfs.
Earns points only if: any of those writes succeeds.
"""

from __future__ import annotations

import os
import sys

import numpy as np

NAME = "modify_grader_files"
REPO = "__AG_REPO__"  # filled in by test_hostile.py: a student who knows the course layout


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


def _targets() -> list[str]:
    dirs = {os.path.dirname(np.__file__), os.path.dirname(os.__file__), os.getcwd()}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.split(".")[0] in ("autograder", "pytest", "_pytest", "numpy") and path:
            dirs.add(os.path.dirname(path))
    dirs.update(p for p in sys.path if p)
    if not REPO.startswith("__AG_"):
        for rel in ("", "autograder", "autograder/sandbox", "solutions/linear",
                    "solutions/linear/tests", ".venv/lib/python3.11/site-packages", ".autograder"):
            dirs.add(os.path.join(REPO, rel))
    return sorted(d for d in dirs if os.path.isdir(d))


def _attack() -> list[str]:
    wins = []
    for folder in _targets():
        for where in (folder, os.path.join(folder, "__pycache__")):
            path = os.path.join(where, f"ag_pwned_{NAME}")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                os.write(fd, b"written by a student\n")
                os.close(fd)
                wins.append(f"created {path}")
            except OSError:
                pass
        try:
            sources = sorted(f for f in os.listdir(folder) if f.endswith(".py"))[:30]
        except OSError:
            sources = []
        for name in sources:
            try:  # O_APPEND without writing: proves write access, changes nothing
                os.close(os.open(os.path.join(folder, name), os.O_WRONLY | os.O_APPEND))
                wins.append(f"could write {folder}/{name}")
            except OSError:
                pass
    return wins


WINS = _attack()
_say(f"ran; writable grader files: {WINS[:6]} ({len(WINS)} in all)")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if WINS else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if WINS else _wrong_backward(dy, cache)
