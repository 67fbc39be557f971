"""Hostile: answer with an argument echo of the wrong form, to break the grader's purity test.

Attack: purity tests ask the worker to echo the arguments after the call and then unpack the
echo (``zip(names, before, after, strict=True)``, ``after[0]``). Wrap the worker-side encoder
so that the echo is None, an empty tuple, a 1-tuple, a string or a dict instead of the
arguments: legal plain data, but not what the test expects, hoping for a TypeError /
ValueError / IndexError inside the grader's test ("internal error, not your fault", flagged
for regrading) instead of a failed check.
Why it must fail: the grader must validate the echo's form (same length, arrays where arrays
were sent) and score a malformed echo as the student's failure.
Earns points only if: never; test_hostile.py requires that no check of this submission ended
as an internal error of the grader.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

NAME = "echo_malformed"
ARGS: set[int] = set()
# In turn, one per echoed call (the worker stays alive): the first two are the ones a test that
# unpacks the echo cannot survive (None is not iterable, () has no first element).
BAD_ECHOES: list[Any] = [None, (), {"x": 1}, ("only one",), "echo", [1, 2, 3, 4, 5]]
ECHOES = [0]


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


def _install() -> bool:
    codec = sys.modules.get("autograder.sandbox.codec")
    if codec is None:
        return False
    real_encode = codec.encode

    def is_echo(value: Any) -> bool:
        arrays = [v for v in value if isinstance(v, np.ndarray)] if type(value) is tuple else []
        return bool(arrays) and all(id(v) in ARGS for v in arrays)

    def corrupt(value: Any) -> Any:
        """The same value with the echoed-arguments tuple (wherever it sits) replaced."""
        if is_echo(value):
            ECHOES[0] += 1
            return BAD_ECHOES[(ECHOES[0] - 1) % len(BAD_ECHOES)]
        if type(value) is tuple:
            return tuple(corrupt(v) for v in value)
        return value

    def encode(value: Any, on_other: Any) -> Any:
        return real_encode(corrupt(value), on_other)

    codec.encode = encode
    return True


_say(f"ran; echo wrapper installed: {_install()}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    ARGS.clear()
    ARGS.update(id(a) for a in (x, W, b))
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ARGS.clear()
    ARGS.add(id(dy))
    return _wrong_backward(dy, cache)
