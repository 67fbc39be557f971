"""Hostile: write forged protocol frames and fake results straight into file descriptors 0-10.

Attack: at import and in calls, write to every fd 0..10: JSON result lines, length-prefixed
frames in four framings (u32/u64, big/little endian) announcing {"r": "ok", "passed": true}
replies with guessed sequence numbers, an .npy payload whose header claims 10**12 elements, a
frame that announces 4 GiB, and NUL padding to desynchronise the reader.
Why it must fail: the reply channel is length-checked and sequence-checked; a frame that is
not the answer to the pending request is a protocol violation (the worker is killed), an
oversized one is refused before allocation, and a well-formed forged reply can only carry a
value this code chose -- there is no verdict field to forge.
Earns points only if: a forged frame is accepted as a right answer.
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np

NAME = "fake_frames_fds"


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


def _npy_claiming(shape: tuple[int, ...]) -> bytes:
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': %r, }" % (shape,)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 48


def _frames(seq: int) -> list[bytes]:
    out = []
    blob = _npy_claiming((10**12,))
    for guess in (seq - 1, seq, seq + 1):
        head = json.dumps({"r": "ok", "v": {"A": 0}, "seq": guess, "b": [len(blob)],
                           "passed": True, "verdict": "pass", "score": 20}).encode()
        for fmt in ("!I", "<I", "!Q", "<Q"):
            body = struct.pack(fmt[0] + "I", len(head)) + head + blob
            out.append(struct.pack(fmt, len(body)) + body)
    out.append(struct.pack("!I", 0xFFFFFFF0) + b"\0" * 64)  # announces ~4 GiB
    out.append(json.dumps({"type": "result", "status": "graded", "score": 20}).encode() + b"\n")
    out.append(b"\0" * 4096)
    return out


def _spray(seq: int, fds: range | list[int] = range(0, 11)) -> list[str]:
    wrote = []
    for fd in fds:
        for frame in _frames(seq):
            try:
                os.write(fd, frame)
                wrote.append(str(fd))
            except OSError:
                break
    return sorted(set(wrote))


CALLS = [1]
# At import every fd but the channel (fd 3): a garbled load reply would end the run before any
# call; the calls below hit the channel too.
_say(f"ran; wrote forged frames to fds {_spray(1, [0, 1, 2, *range(4, 11)])}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    CALLS[0] += 1
    _spray(CALLS[0])
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    CALLS[0] += 1
    _spray(CALLS[0])
    return _wrong_backward(dy, cache)
