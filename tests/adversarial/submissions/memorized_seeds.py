"""Hostile: answers memorized for the public tests' seeds, looked up by input.

Attack: the public tests draw inputs from np.random.default_rng(0..3); a student can
precompute the answers for those (and for other small seeds, in either numpy generator) and
return them from a table keyed by the input's shape and first value -- right whenever the
hidden tests reuse predictable seeds. Here the table is simulated: the first 400 draws of
default_rng(s) and RandomState(s) for s in 0..255 are regenerated, and a hit answers
correctly (what the memorized table would return); a miss answers wrongly.
Why it must fail: hidden inputs come from a generator seeded by (course secret, student id,
test id), unknown to the student, so no input matches a public seed.
Earns points only if: a hidden input was drawn from a predictable seed.
"""

from __future__ import annotations

import numpy as np

NAME = "memorized_seeds"
SEEDS = range(256)
DRAWS = 400


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


def _table() -> dict[float, str]:
    table = {}
    for seed in SEEDS:
        for label, draws in (("default_rng", np.random.default_rng(seed).standard_normal(DRAWS)),
                             ("RandomState", np.random.RandomState(seed).randn(DRAWS)),
                             ("uniform", np.random.default_rng(seed).random(DRAWS))):
            for index, value in enumerate(draws):
                table.setdefault(float(value), f"{label}({seed})[{index}]")
    return table


TABLE = _table()
HITS: list[str] = []
_say(f"ran; memorized {len(TABLE)} values")


def _known(*arrays: np.ndarray) -> bool:
    for array in arrays:
        flat = np.asarray(array).ravel()
        for value in flat[:3]:
            if float(value) in TABLE:
                HITS.append(TABLE[float(value)])
                _say(f"memorized input hit: {TABLE[float(value)]}")
                return True
    return False


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    if _known(x, W, b):
        return _honest_forward(x, W, b)
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(cache, tuple) and _known(dy):
        return _honest_backward(dy, cache)
    return _wrong_backward(dy, cache)
