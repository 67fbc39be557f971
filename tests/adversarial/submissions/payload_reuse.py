"""Hostile: a reply that names one payload thousands of times.

Attack: replace the worker's reply encoder so that a result is a list of 4,000 array tags
that all point at the same 1 MiB payload: a 5 MiB frame. A decoder that makes a new array
for every tag builds 4 GiB in the grading process (a 56 MiB payload named from 8 MiB of
JSON would ask for terabytes): an out-of-memory kill of the grader, or of the machine.
Why it must fail: the encoder writes one payload per array, so a payload named twice is a
forged reply; what the grader decodes must be bounded by the frame's size.
Earns points only if: never; test_hostile.py bounds the grading processes' peak memory.
"""

from __future__ import annotations

import json
import struct
import sys

import numpy as np

NAME = "payload_reuse"
REFERENCES = 4000  # x 1 MiB
BOMBS = [1]  # per worker: one reply makes the point without eating the whole run


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


def _bomb_frame(header: dict, blobs: object = (), *args: object, **kwargs: object) -> bytes:
    if header.get("r") != "ok" or "e" in header or BOMBS[0] <= 0:  # echoes stay intact
        return REAL_PACK(header, blobs, *args, **kwargs)
    BOMBS[0] -= 1
    tail = {k: v for k, v in header.items() if k not in ("v", "e")}
    npy = bytes(codec._npy_bytes(np.zeros(1 << 17)))  # 1 MiB of float64, one payload
    tree = {"L": [{"A": 0}] * REFERENCES}
    head = json.dumps({**tail, "v": tree, "b": [len(npy)]}, separators=(",", ":")).encode()
    return struct.pack("!I", 4 + len(head) + len(npy)) + struct.pack("!I", len(head)) + head + npy


codec = sys.modules.get("autograder.sandbox.codec")
REAL_PACK = codec.pack if codec is not None else None
if codec is not None:
    codec.pack = _bomb_frame
_say(f"ran; reply encoder replaced: {codec is not None}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _wrong_backward(dy, cache)
