"""Hostile: move the ground under the harness: cwd, sys.path, sys.modules, stdio, umask.

Attack: chdir into a /tmp folder (then delete it from under itself), put a folder and '.' first on
sys.path with planted ``json.py``/``numpy.py``/``struct.py`` shadows, replace modules the harness
might import lazily (json, struct, select, numpy.lib.format, io) in sys.modules with fakes
that produce "passed" verdicts, close and reopen stdout/stderr, set umask 0, and set
environment variables a grader might read (AUTOGRADER_SECRET, PYTHONPATH, HOME).
Why it must fail: the worker's harness already holds every module it needs, and whatever it
sends is only a value the grader checks; the grader's cwd, path, environment and modules
are in another process.
Earns points only if: never.
"""

from __future__ import annotations

import os
import sys
import types

import numpy as np

NAME = "chdir_syspath"


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


def _fake(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.dumps = lambda *a, **k: '{"passed": true, "score": 20}'  # type: ignore[attr-defined]
    module.loads = lambda *a, **k: {"passed": True}  # type: ignore[attr-defined]
    return module


def _shake() -> list[str]:
    done = []
    try:
        os.makedirs("/tmp/ag_cwd", exist_ok=True)
        os.chdir("/tmp/ag_cwd")
        os.rmdir("/tmp/ag_cwd")
        done.append("cwd deleted from under us")
    except OSError as exc:
        done.append(f"chdir: {exc}")
    # Shadows go in a folder of their own: this process's imports are the target, never a
    # program someone else starts in /tmp.
    try:
        os.makedirs("/tmp/ag_shadow", exist_ok=True)
        for name in ("json.py", "numpy.py", "struct.py"):
            with open(os.path.join("/tmp/ag_shadow", name), "w") as handle:
                handle.write("raise SystemExit('hijacked')\n")
    except OSError:
        pass
    sys.path[:0] = ["/tmp/ag_shadow", "."]
    for name in ("json", "struct", "select", "io", "numpy.lib.format"):
        sys.modules[name] = _fake(name)
        done.append(f"sys.modules[{name!r}]")
    os.umask(0)
    os.environ.update(AUTOGRADER_SECRET="student-chosen", PYTHONPATH="/tmp", HOME="/tmp")
    try:
        sys.stdout.close()
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        done.append("stdout reopened")
    except Exception as exc:
        done.append(f"stdout: {exc}")
    return done


_say(f"ran; {_shake()}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _wrong_backward(dy, cache)
