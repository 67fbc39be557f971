"""Hostile: look up the call stack and through the garbage collector for the expected answer.

Attack: in every call, walk ``sys._getframe(1)`` / ``inspect.stack()`` and scan every frame's
locals and globals, then ``gc.get_objects()``, for a reference module (anything else defining
linear_forward/linear_backward), names like expected/reference/right/answer, and float64
arrays of the output's shape that are not this call's inputs; return what it finds.
Why it must fail: the caller is the worker's harness, which holds only this call's inputs;
expected values exist only in the grader's process.
Earns points only if: the worker's memory holds a reference or an expected array.
"""

from __future__ import annotations

import gc
import inspect
import sys
import types

import numpy as np

NAME = "caller_frames"
NAMES = ("expect", "reference", "right", "answer", "correct", "want", "truth", "solution")


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


def _reference() -> types.ModuleType | None:
    mine = sys.modules[__name__] if __name__ in sys.modules else None
    frame = sys._getframe(1)
    spaces: list[dict] = []
    while frame is not None:
        spaces += [frame.f_locals, frame.f_globals]
        frame = frame.f_back
    spaces += [vars(m) for m in list(sys.modules.values()) if m is not None and m is not mine]
    for space in spaces:
        for value in list(space.values()):
            if (isinstance(value, types.ModuleType) and value is not mine
                    and callable(getattr(value, "linear_backward", None))
                    and getattr(value, "NAME", None) != NAME):
                return value
    return None


def _arrays(shape: tuple[int, ...], exclude: list[np.ndarray]) -> list[tuple[str, np.ndarray]]:
    found = []
    frame = sys._getframe(2)
    while frame is not None:
        for key, value in list(frame.f_locals.items()):
            if (isinstance(value, np.ndarray) and value.shape == shape
                    and not any(value is e for e in exclude)):
                found.append((f"local {key} in {frame.f_code.co_name}", value))
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            for key, value in list(obj.items()):
                if (isinstance(key, str) and any(n in key.lower() for n in NAMES)
                        and isinstance(value, np.ndarray) and value.shape == shape):
                    found.append((f"gc dict key {key}", value))
    return found


def _stack_summary() -> str:
    try:
        return " <- ".join(f"{f.function}@{f.filename.rsplit('/', 1)[-1]}" for f in inspect.stack())
    except Exception as exc:
        return f"inspect.stack failed: {exc}"


_say(f"ran; import-time stack: {_stack_summary()}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    ref = _reference()
    if ref is not None:
        _say(f"FOUND reference module {ref!r}")
        return ref.linear_forward(x, W, b)
    shape = (np.shape(x)[0], np.shape(W)[1])
    candidates = _arrays(shape, [x, W, b])
    if candidates:
        _say(f"FOUND candidate outputs: {[c[0] for c in candidates[:5]]}")
        return np.array(candidates[0][1], dtype=np.float64), {"x": x.copy(), "W": W.copy()}
    _say(f"nothing in the stack: {_stack_summary()}")
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ref = _reference()
    if ref is not None:
        return ref.linear_backward(dy, cache)
    return _wrong_backward(dy, cache)
