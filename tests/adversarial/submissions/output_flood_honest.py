"""Control-flavoured hostile: flood the output (256 MiB at import), then answer correctly.

Attack: the same flood as output_flood.py, but the answers are right: the output cap must
not cost an honest-but-noisy submission any points, and the flood must not disturb others.
Why it must not matter: output is captured up to output_kb, the rest dropped, and the pipe is
closed after 64 MiB; the worker carries on (BrokenPipeError is caught) and its answers are
graded normally.
Earns: what it computes -- up to full marks (the flood may legitimately eat into its own
time budget).
"""

from __future__ import annotations

import os

import numpy as np

NAME = "output_flood_honest"
MIB = b"N" * (1 << 20)


def _flood(total_mib: int) -> None:
    for _ in range(total_mib):
        for fd in (1, 2):
            try:
                os.write(fd, MIB)
            except OSError:
                pass


_flood(256)


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    x = np.asarray(x, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    return x @ W + np.asarray(b, dtype=np.float64), (x.copy(), W.copy())


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, W = cache  # type: ignore[misc]
    dy = np.asarray(dy, dtype=np.float64)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
