"""Hostile: return arrays whose ``.npy`` header names a dtype numpy cannot even parse.

Attack: the strict header pattern accepts any ``[<>|=]?[biufc]\\d{1,2}`` descr, but
``np.dtype('<f0')`` or ``np.dtype('<i16')`` raise TypeError, not the ValueError/ProtocolError
the grader's decoder is prepared for. The worker's encoder is replaced so every array goes out
with such a header (over a zero-element shape, so the size check passes), hoping the
exception escapes the sandbox's error contract and breaks the grader's test instead of
failing the student's check.
Why it must fail: every malformed payload must become a StudentError (the submission's fault,
scored 0), never an exception inside the grader's test ("internal", "not your fault").
Earns points only if: never (the values are empty); test_hostile.py also requires that no
check ended as an internal error of the grader.
"""

from __future__ import annotations

import struct
import sys

import numpy as np

NAME = "invalid_npy_descr"


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


def _bad_npy(array: np.ndarray) -> bytes:
    descr = "<f0" if np.ndim(array) != 1 else "<i16"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (0,), }" % descr
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()


codec = sys.modules.get("autograder.sandbox.codec")
if codec is not None:
    codec._npy_bytes = _bad_npy
_say(f"ran; codec patched: {codec is not None}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _wrong_backward(dy, cache)
