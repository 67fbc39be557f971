"""Hostile: print gigabytes, on stdout and stderr, through every layer, and never stop trying.

Attack: at import 256 MiB straight to fds 1 and 2 (os.write); in every call ~200 MiB more
(gigabytes over a run) through print() and the raw buffers, one 64 MiB line without a newline,
invalid UTF-8, catching BrokenPipeError and carrying on -- hoping to fill the grader's memory
or disk (the feedback files) or to stall it.
Why it must fail: the grader keeps only output_kb of output per submission, drops the rest and
closes the pipe after 64 MiB (further writes fail with EPIPE); nothing else reads it.
Earns points only if: never; feedback and grades.json stay small and the run finishes.
"""

from __future__ import annotations

import os
import sys

import numpy as np

NAME = "output_flood"
MIB = b"A" * (1 << 20)


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


def _flood(total_mib: int) -> int:
    written = 0
    for i in range(total_mib):
        for fd in (1, 2):
            try:
                written += os.write(fd, MIB if i % 7 else b"\xff\xfe" + MIB[2:])
            except OSError:
                pass
    try:
        sys.stdout.write("B" * (64 << 20))
        sys.stdout.flush()
    except Exception:
        pass
    for _ in range(256):
        try:
            print("C" * 4000, flush=True)
            print("D" * 4000, file=sys.stderr, flush=True)
        except Exception:
            pass
    return written


_say("ran; flooding")
_say(f"wrote {_flood(256) >> 20} MiB at import")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    _flood(64)
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _flood(64)
    return _wrong_backward(dy, cache)
