"""Hostile: look for useful file descriptors inherited from the grader.

Attack: probe fds 0..1023: read every regular file from offset 0 (an fd left open on the
hidden tests, the reference or the journal), list and climb out of every directory fd
(``openat(fd, "..")``) looking for a solutions folder, and report sockets and pipes other
than the worker's own channel and output.
Why it must fail: the runner is exec'd with close_fds, and each worker closes every fd but
0 (/dev/null), 1-2 (its output pipe) and 3 (its channel) before any student code runs.
Earns points only if: an inherited fd gives access to a file or directory.
"""

from __future__ import annotations

import os
import stat

import numpy as np

NAME = "inherited_fds"


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
def _honest_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    """The right answer: only ever used as the signal that the attack succeeded."""
    x = np.array(x, dtype=np.float64)
    W = np.array(W, dtype=np.float64)
    return x @ W + np.asarray(b, dtype=np.float64), (x, W)


def _honest_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The right gradients: only ever used as the signal that the attack succeeded."""
    x, W = cache  # type: ignore[misc]
    dy = np.asarray(dy, dtype=np.float64)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)


def _attack() -> tuple[list[str], list[str]]:
    wins, seen = [], []
    for fd in range(0, 1024):
        try:
            info = os.fstat(fd)
        except OSError:
            continue
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = "?"
        seen.append(f"{fd}:{target}")
        if stat.S_ISREG(info.st_mode):
            try:
                data = os.pread(fd, 4096, 0)
                wins.append(f"fd {fd} ({target}) file: {data[:80]!r}")
            except OSError:
                pass
        elif stat.S_ISDIR(info.st_mode):
            try:
                wins.append(f"fd {fd} ({target}) dir: {sorted(os.listdir(fd))[:10]}")
                up = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
                wins.append(f"  parent: {sorted(os.listdir(up))[:10]}")
                os.close(up)
            except OSError:
                pass
    return wins, seen


WINS, SEEN = _attack()
_say(f"ran; open fds {SEEN}; usable: {WINS[:5]}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if WINS else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if WINS else _wrong_backward(dy, cache)
