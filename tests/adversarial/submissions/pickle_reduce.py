"""Hostile: smuggle a pickle whose ``__reduce__`` runs code in whoever unpickles it.

Attack: return object arrays of payload objects; register a copyreg reducer so that any
pickling of an ndarray, tuple subclass or payload emits the payload; force numpy's writer to
allow pickles; and return a payload object directly. Unpickling the payload opens
/tmp/ag_pwned_pickle_* for writing, i.e. creates a marker in the real /tmp if it runs in the
grader.
Why it must fail: nothing crosses as pickle: the worker refuses object dtypes (they stay
behind as opaque handles), the grader's decoder rejects any non-numeric .npy header and never
unpickles.
Earns points only if: never; the marker must not exist after the run.
"""

from __future__ import annotations

import copyreg
import sys

import numpy as np

NAME = "pickle_reduce"
MARKER = f"/tmp/ag_pwned_pickle_{NAME}"


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


class Payload:
    """Unpickling this creates the marker file in whoever unpickles it."""

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (MARKER, "w"))


def _reduce_array(array: np.ndarray) -> tuple[object, tuple[str, str]]:
    return (open, (MARKER, "w"))


copyreg.pickle(np.ndarray, _reduce_array)  # type: ignore[arg-type]
copyreg.pickle(Payload, lambda p: (open, (MARKER, "w")))  # type: ignore[arg-type]
_real_write_array = np.lib.format.write_array


def _pickling_write_array(fp: object, array: np.ndarray, version: object = None,
                          allow_pickle: bool = True, pickle_kwargs: object = None) -> None:
    _real_write_array(fp, array, version, allow_pickle=True)  # type: ignore[arg-type]


np.lib.format.write_array = _pickling_write_array
_impl = sys.modules.get("numpy.lib._format_impl")
if _impl is not None:
    _impl.write_array = _pickling_write_array
_say("ran; payloads armed")


def _evil(shape: tuple[int, ...]) -> np.ndarray:
    array = np.empty(shape, dtype=object)
    array.fill(Payload())
    return array


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    _scribble(x, W, b)
    return _evil((np.shape(x)[0], np.shape(W)[1])), Payload()


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _scribble(dy)
    return _evil(np.shape(dy)), Payload(), np.array([Payload()], dtype=object)  # type: ignore[return-value]
