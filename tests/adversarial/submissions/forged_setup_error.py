"""Hostile: while loading, answer the load request with a forged "setup_error" reply.

Attack: the worker's channel is fd 3, and the load request is always the first exchange
(sequence number 1). Student code runs inside that exchange, so it can write the reply
itself: {"r": "setup_error", ...} is what the harness sends when *confinement* failed, which
the grader treats as its own failure (SandboxError), not the student's. Then exit before the
real reply. Hoped-for effect: the grading process crashes, the submission is retried and
finally recorded as "the grader failed (not your fault)", and the whole run exits non-zero --
a denial of service on every CI run that grades this student.
Why it must fail: anything the worker sends after student code started is student output; a
forged reply must be scored as the student's load error, and the run must still exit 0.
Earns points only if: never; test_hostile.py checks status, exit code and the other grades.
"""

from __future__ import annotations

import json
import os
import struct
import sys

import numpy as np

NAME = "forged_setup_error"


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


def _frame(header: dict) -> bytes:
    codec = sys.modules.get("autograder.sandbox.codec")
    if codec is not None and hasattr(codec, "pack"):
        return codec.pack(header)
    head = json.dumps({**header, "b": []}).encode()
    return struct.pack("!I", 4 + len(head)) + struct.pack("!I", len(head)) + head


_say("ran; sending a forged setup_error reply on fd 3")
try:
    os.write(3, _frame({"r": "setup_error", "seq": 1,
                        "msg": "OSError: mount /tmp: Permission denied (forged by the student)"}))
except OSError as exc:
    _say(f"could not write fd 3: {exc}")
os._exit(0)


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _wrong_backward(dy, cache)
