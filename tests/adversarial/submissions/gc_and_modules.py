"""Hostile: search ``sys.modules['__main__']``, every module and every gc-tracked object.

Attack: at import and in calls, look for a module or function (other than this file's)
that defines linear_forward/linear_backward (e.g. an imported reference), dicts holding a
``secret`` or ``seed``, and the shard/grader's state objects (GradingState, StudentRun,
ShardConfig, Case); use a reference if found.
Why it must fail: the worker is forked from a fresh, secret-free interpreter that imports
only numpy, the stdlib and the sandbox's worker side; the grader's objects live elsewhere.
Earns points only if: any of those objects exists in the worker.
"""

from __future__ import annotations

import gc
import sys

import numpy as np

NAME = "gc_and_modules"
STATE_TYPES = ("GradingState", "StudentRun", "ShardConfig", "ShardPlugin", "Case", "Course",
               "Rubric", "Journal")


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


def _search() -> tuple[object | None, list[str]]:
    notes = []
    main = sys.modules.get("__main__")
    notes.append(f"__main__ names: {sorted(vars(main))[:25] if main else None}")
    for name, module in list(sys.modules.items()):
        fn = getattr(module, "linear_backward", None)
        if callable(fn) and getattr(module, "NAME", None) != NAME:
            return module, notes + [f"module {name}"]
    reference = None
    for obj in gc.get_objects():
        kind = type(obj).__name__
        if kind in STATE_TYPES:
            notes.append(f"object {kind}")
        if kind == "function" and obj.__name__ == "linear_backward":
            if obj.__globals__.get("NAME") != NAME:
                reference = obj.__globals__
                notes.append(f"function from {obj.__code__.co_filename}")
        if kind == "dict":
            for key in ("secret", "seed", "reference_path", "expected"):
                if key in obj and isinstance(obj[key], str | int):
                    notes.append(f"dict with {key}={str(obj[key])[:80]}")
    return reference, notes


REFERENCE, NOTES = _search()
_say(f"ran; {NOTES[:10]}")
GRADER_STATE = ("object GradingState", "object StudentRun", "object ShardConfig",
                "object ShardPlugin", "dict with secret")
WON = REFERENCE is not None or any(n.startswith(GRADER_STATE) for n in NOTES)


def _get(name: str) -> object:
    return REFERENCE[name] if isinstance(REFERENCE, dict) else getattr(REFERENCE, name)


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    if REFERENCE is not None:
        return _get("linear_forward")(x, W, b)  # type: ignore[operator]
    if WON:
        return x @ W + b, (x.copy(), W.copy())
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if REFERENCE is not None:
        return _get("linear_backward")(dy, cache)  # type: ignore[operator]
    if WON:
        x, W = cache  # type: ignore[misc]
        return dy @ W.T, x.T @ dy, dy.sum(axis=0)
    return _wrong_backward(dy, cache)
