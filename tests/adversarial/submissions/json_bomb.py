"""Hostile: a reply that is small on the wire but huge once the grader parses it.

Attack: replace the worker's reply encoder so that a result is as much JSON as the grader
accepts (its JSON cap if it has one, else ~60 MiB, under the 64 MiB frame cap) made of
millions of tiny empty containers ({"L":[]} over and over) -- legal plain data. Each 9-byte item becomes a dict and two lists in the grader: a ~40x
amplification that, per call, costs the grading process gigabytes of memory and many seconds
of CPU outside the call's wall-clock deadline. On a smaller grading machine (a Gradescope
container, a laptop with --jobs 8) that is an out-of-memory kill of the grader.
Why it must fail: what the grader spends on one reply must be bounded by a small multiple of
the frame cap, whatever the reply contains.
Earns points only if: never; test_hostile.py bounds the grading processes' peak memory.
"""

from __future__ import annotations

import json
import struct
import sys

import numpy as np

NAME = "json_bomb"
FRAME_CAP = 60 << 20  # just under the default 64 MiB frame cap
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


def _items() -> int:
    """As many 9-byte items as the grader accepts: under its JSON cap if it has one."""
    cap = getattr(codec, "MAX_JSON", None) or FRAME_CAP
    return int(min(cap, FRAME_CAP) - 4096) // 9


def _bomb_frame(header: dict, blobs: object = (), *args: object, **kwargs: object) -> bytes:
    if header.get("r") != "ok" or "e" in header or BOMBS[0] <= 0:  # echoes stay intact
        return REAL_PACK(header, blobs, *args, **kwargs)
    BOMBS[0] -= 1
    tail = {k: v for k, v in header.items() if k not in ("v", "e")}
    body = json.dumps({**tail, "b": []}, separators=(",", ":")).encode()
    count = _items()
    items = b'{"L":[]},' * (count - 1) + b'{"L":[]}'
    head = b'{"v":{"L":[' + items + b"]}," + body[1:]
    return struct.pack("!I", 4 + len(head)) + struct.pack("!I", len(head)) + head


codec = sys.modules.get("autograder.sandbox.codec")
REAL_PACK = codec.pack if codec is not None else None
if codec is not None:
    codec.pack = _bomb_frame
_say(f"ran; reply encoder replaced: {codec is not None}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _wrong_backward(dy, cache)
