"""Hostile: rewrite the sandbox's own worker code (in this process) to claim a pass.

Attack: the worker harness (autograder.sandbox.child/codec) shares this process, so wrap its
``send``/``pack`` to add verdict-looking fields ({"passed": true, "score": 20, ...}) to every
reply, turn error replies into "ok", and patch every function in any autograder module whose
name suggests checking or scoring to "always pass".
Why it must fail: the worker never decides anything. The grader ignores unknown fields, an
"ok" reply still carries the wrong value, and the checks run in the grader's process.
Earns points only if: the grader trusts a verdict-like field sent by the worker.
"""

from __future__ import annotations

import sys

import numpy as np

NAME = "patch_worker_modules"


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

VERDICT = {"passed": True, "ok": True, "verdict": "pass", "status": "passed", "score": 20,
           "outcome": "passed", "max_score": 20}


def _patch() -> list[str]:
    done = []
    names = sorted(n for n in sys.modules if n.split(".")[0] in ("autograder", "pytest", "_pytest"))
    _say(f"grader-side modules present in the worker: {names}")
    codec = sys.modules.get("autograder.sandbox.codec")
    child = sys.modules.get("autograder.sandbox.child")
    if codec is not None and hasattr(codec, "pack"):
        real_pack = codec.pack

        def pack(header: dict, blobs: object = (), *args: object, **kwargs: object) -> bytes:
            header = dict(header)
            if header.get("r") == "err":
                header["r"] = "ok"
                header.setdefault("v", None)
            header.update(VERDICT)
            return real_pack(header, blobs, *args, **kwargs)

        codec.pack = pack
        done.append("codec.pack")
    session = getattr(child, "_Session", None) if child is not None else None
    if session is not None and hasattr(session, "error"):
        session.error = lambda self, *a, **k: {"r": "ok", "v": None, **VERDICT}
        done.append("_Session.error")
    for name in names:
        module = sys.modules.get(name)
        for attr in list(vars(module)) if module is not None else []:
            lowered = attr.lower()
            if any(w in lowered for w in ("check", "expect", "compare", "verdict", "score",
                                          "grade", "allclose", "assert")):
                try:
                    if callable(getattr(module, attr)):
                        setattr(module, attr, lambda *a, **k: True)
                        done.append(f"{name}.{attr}")
                except Exception:
                    pass
    return done


PATCHED = _patch()
_say(f"ran; patched {PATCHED}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _wrong_backward(dy, cache)
