"""Hostile: make every numpy comparison say "equal", then return wrong answers.

Attack: at import, replace np.allclose/isclose/array_equal/array_equiv, every
np.testing.assert_*, np.linalg.norm, np.abs/max/all/any/isfinite/isnan, and even
ndarray.__eq__/__sub__ (through the type's dict), hoping the comparison runs in this process.
Why it must fail: the worker only returns data; the grader compares in its own process, whose
numpy this file never touches.
Earns points only if: the grader's comparison uses this process's numpy.
"""

from __future__ import annotations

import gc
import math

import numpy as np
import numpy.testing as npt

NAME = "patch_numpy"


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


def _true(*args: object, **kwargs: object) -> bool:
    return True


def _none(*args: object, **kwargs: object) -> None:
    return None


def _zero(*args: object, **kwargs: object) -> float:
    return 0.0


def _patch() -> list[str]:
    done = []
    targets = {
        "allclose": _true,
        "array_equal": _true,
        "array_equiv": _true,
        "isclose": lambda a, b, *args, **kw: np.ones(np.broadcast(a, b).shape, dtype=bool),
        "all": _true,
        "any": _true,
        "max": _zero,
        "amax": _zero,
        "isfinite": lambda a, *args, **kw: np.ones(np.shape(a), dtype=bool),
        "isnan": lambda a, *args, **kw: np.zeros(np.shape(a), dtype=bool),
        "abs": lambda a, *args, **kw: np.zeros(np.shape(a)),
        "absolute": lambda a, *args, **kw: np.zeros(np.shape(a)),
        "count_nonzero": lambda *args, **kw: 0,
    }
    for module in [np] + [m for n, m in list(__import__("sys").modules.items())
                          if n.startswith("numpy") and m is not None]:
        for name, fake in targets.items():
            try:
                if hasattr(module, name):
                    setattr(module, name, fake)
                    done.append(f"{getattr(module, '__name__', '?')}.{name}")
            except Exception:
                pass
    for name in dir(npt):
        if name.startswith("assert"):
            try:
                setattr(npt, name, _none)
                done.append(f"np.testing.{name}")
            except Exception:
                pass
    try:
        np.linalg.norm = _zero
        done.append("np.linalg.norm")
    except Exception:
        pass
    math.isclose = _true
    # The "forbidden fruit" trick: reach the real dict behind ndarray's mappingproxy.
    try:
        real = gc.get_referents(np.ndarray.__dict__)[0]
        real["__eq__"] = lambda self, other: np.ones(np.shape(self), dtype=bool)
        real["__ne__"] = lambda self, other: np.zeros(np.shape(self), dtype=bool)
        import ctypes

        ctypes.pythonapi.PyType_Modified(ctypes.py_object(np.ndarray))
        done.append("ndarray.__eq__/__ne__")
    except Exception as exc:
        done.append(f"ndarray dict patch failed: {type(exc).__name__}")
    return done


PATCHED = _patch()
_say(f"ran; patched {len(PATCHED)} things, e.g. {PATCHED[:4]}; "
     f"here np.allclose(1, 2) is {np.allclose(1, 2)}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _wrong_backward(dy, cache)
