"""Hostile: rewrite builtins and plant fake pytest/autograder modules, then answer wrongly.

Attack: replace builtins (abs, max, min, all, any, round, AssertionError), wrap __import__ so
anything importing numpy/pytest later gets lying versions, and put fake ``pytest``,
``autograder.checks`` and ``autograder.gradcheck`` modules into sys.modules whose helpers
always pass.
Why it must fail: none of this reaches the grader: it is another process with its own
builtins and modules; the worker only sends values back.
Earns points only if: the grader's checks run in (or import from) this process.
"""

from __future__ import annotations

import builtins
import sys
import types

import numpy as np

NAME = "patch_builtins"


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


class _AlwaysEqual:
    """pytest.approx stand-in that equals everything."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    __hash__ = object.__hash__


def _pass(*args: object, **kwargs: object) -> float:
    return 0.0


def _fake_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__getattr__ = lambda attr: _pass  # type: ignore[method-assign]
    for attr in ("expect_array", "expect_gradients", "expect_layout", "expect_unchanged",
                 "expect_consistent", "expect_tuple", "rel_error", "check_gradient",
                 "directional_check", "numerical_vjp"):
        setattr(module, attr, _pass)
    module.approx = _AlwaysEqual  # type: ignore[attr-defined]
    return module


def _patch() -> list[str]:
    done = []
    for name, fake in {
        "abs": lambda x: 0,
        "max": lambda *a, **k: 0,
        "min": lambda *a, **k: 0,
        "all": lambda *a, **k: True,
        "any": lambda *a, **k: False,
        "round": lambda *a, **k: 0,
    }.items():
        setattr(builtins, name, fake)
        done.append(name)
    builtins.AssertionError = type("AssertionError", (Exception,), {})  # type: ignore[misc]
    done.append("AssertionError")
    real_import = builtins.__import__

    def lying_import(name: str, *args: object, **kwargs: object) -> object:
        module = real_import(name, *args, **kwargs)  # type: ignore[arg-type]
        try:
            module.allclose = lambda *a, **k: True  # type: ignore[attr-defined]
        except Exception:
            pass
        return module

    builtins.__import__ = lying_import  # type: ignore[assignment]
    done.append("__import__")
    for name in ("pytest", "_pytest", "autograder.checks", "autograder.gradcheck",
                 "autograder.scoring", "autograder.plugin"):
        sys.modules[name] = _fake_module(name)
        done.append(f"sys.modules[{name!r}]")
    return done


PATCHED = _patch()
_say(f"ran; replaced {PATCHED}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _wrong_backward(dy, cache)
