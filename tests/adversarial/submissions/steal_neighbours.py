"""Hostile: copy another student's submission from the class folder and hand it in.

Attack: read every ``<class>/*/linear.py`` (the exact class folder is filled in by
test_hostile.py: a student who guessed it), plus any linear.py under /tmp, /var/tmp,
/proc/*/cwd and the course's examples folder; skip hostile ones (they print AGPROBE); exec
the first that works and answer with it.
Why it must fail: the grader reads sources itself and sends each worker only its own; the
class folder is hidden under an empty tmpfs and /tmp is a private tmpfs.
Earns points only if: another student's code is readable.
"""

from __future__ import annotations

import os
import re
import types

import numpy as np

NAME = "steal_neighbours"
CLASS = "__AG_CLASS__"
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
    pats = ["/proc/[0-9]*/cwd/*/linear.py"]
    if not CLASS.startswith("__AG_"):
        pats.insert(0, os.path.join(CLASS, "*", "linear.py"))
    if not REPO.startswith("__AG_"):
        pats.append(os.path.join(REPO, "examples", "submissions", "*", "*", "linear.py"))
    return pats


def _walked(top: str, depth: int = 6) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(top):
        if folder.count("/") - top.count("/") >= depth:
            dirs[:] = []
        found += [os.path.join(folder, f) for f in files if f == "linear.py"]
    return found


def _steal() -> types.ModuleType | None:
    seen = 0
    candidates = [p for pattern in _patterns() for p in _glob(pattern)]
    candidates += _walked("/tmp") + _walked("/var/tmp")
    for path in candidates[:400]:
            seen += 1
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read(200_000)
            except (OSError, UnicodeDecodeError):
                continue
            if "AGPROBE" in text or "def linear_backward" not in text:
                continue
            module = types.ModuleType("neighbour")
            try:
                exec(compile(text, path, "exec"), module.__dict__)
                rng = np.random.default_rng(0)
                _, cache = module.linear_forward(rng.normal(size=(2, 3)),
                                                 rng.normal(size=(3, 4)), rng.normal(size=4))
                module.linear_backward(rng.normal(size=(2, 4)), cache)
            except BaseException:
                continue
            _say(f"STOLEN neighbour {path}")
            return module
    _say(f"no neighbour readable ({seen} paths matched)")
    return None


_say("ran")
STOLEN = _steal()


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    if STOLEN is not None:
        return STOLEN.linear_forward(x, W, b)
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if STOLEN is not None:
        return STOLEN.linear_backward(dy, cache)
    return _wrong_backward(dy, cache)
