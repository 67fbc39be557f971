"""A synthetic class of ``linear`` submissions: a realistic, seeded mix of styles and mistakes.

``build_class(folder, n, seed)`` writes ``folder/<student>/linear.py`` for ``n`` students and
returns which kind each student got. The mix (``KINDS``) is about 60% correct solutions in
several styles, 25% with one classic mistake, 10% that do not run at all and 5% that are slow
(a sleep in one call) or never finish (an infinite loop, which only the time limits stop).
The same ``n`` and ``seed`` always give the same class, byte for byte.

Each kind also says what a correct grader must do with it (``Kind.expect``), so a benchmark
can check the grades it timed instead of timing a grader that gets them wrong.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

FULL = "full"  # full marks
PARTIAL = "partial"  # graded, loses something, not zero
ZERO = "zero"  # nothing to grade: score 0
LOSES = "loses"  # anything below full marks


@dataclass(frozen=True)
class Kind:
    """One sort of submission: its share of the class, its family and its source template."""

    name: str
    family: str  # correct | buggy | broken | slow
    weight: float  # share of the class, in percent
    expect: str  # FULL | PARTIAL | ZERO | LOSES
    template: str  # Python source; ``{sleep}`` is filled in per student where used


_PLAIN = '''\
"""Linear layer: forward and backward pass."""
import numpy as np


def linear_forward(x, W, b):
    y = x @ W + b
    cache = (x, W)
    return y, cache


def linear_backward(dy, cache):
    x, W = cache
    dx = dy @ W.T
    dW = x.T @ dy
    db = np.sum(dy, axis=0)
    return dx, dW, db
'''

_EINSUM = """\
import numpy as np


def linear_forward(x, W, b):
    # y_bf = sum_d x_bd W_df + b_f
    return np.einsum("bd,df->bf", x, W) + b, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    dx = np.einsum("bf,df->bd", dy, W)
    dW = np.einsum("bd,bf->df", x, dy)
    db = np.einsum("bf->f", dy)
    return dx, dW, db
"""

_DICT_CACHE = """\
import numpy as np


def linear_forward(x, W, b):
    out = np.dot(x, W) + b[np.newaxis, :]
    cache = {"x": x.copy(), "W": W.copy(), "b": b.copy()}
    return out, cache


def linear_backward(dout, cache):
    x, W = cache["x"], cache["W"]
    dx = np.dot(dout, W.T)
    dW = np.dot(x.T, dout)
    db = dout.sum(0)
    return dx, dW, db
"""

_CLASS_CACHE = '''\
import numpy as np


class LinearCache:
    """What the backward pass needs from the forward pass."""

    def __init__(self, x, W):
        self.x = x
        self.W = W


def linear_forward(x, W, b):
    return np.matmul(x, W) + b, LinearCache(x, W)


def linear_backward(dy, cache):
    dx = np.matmul(dy, cache.W.T)
    dW = np.matmul(cache.x.T, dy)
    db = dy.sum(axis=0)
    return dx, dW, db
'''

_NP_FUNCTIONS = """\
import numpy as np


def linear_forward(x, W, b):
    y = np.add(np.matmul(x, W), b)
    return y, [np.array(x), np.array(W)]


def linear_backward(dy, cache):
    x, W = cache
    dx = np.matmul(dy, np.transpose(W))
    dW = np.matmul(np.transpose(x), dy)
    db = np.add.reduce(dy, axis=0)
    return dx, dW, db
"""

_ROW_LOOP = """\
import numpy as np


def linear_forward(x, W, b):
    y = np.zeros((x.shape[0], W.shape[1]))
    for i in range(x.shape[0]):
        y[i] = x[i] @ W + b
    return y, (x, W)


def linear_backward(dy, cache):
    x, W = cache
    dx = np.zeros(x.shape)
    dW = np.zeros(W.shape)
    db = np.zeros(W.shape[1])
    for i in range(x.shape[0]):
        dx[i] = W @ dy[i]
        dW += np.outer(x[i], dy[i])
        db += dy[i]
    return dx, dW, db
"""

_PURE_LOOPS = """\
import numpy as np


def linear_forward(x, W, b):
    B, D = x.shape
    F = W.shape[1]
    y = np.zeros((B, F))
    for n in range(B):
        for j in range(F):
            total = b[j]
            for i in range(D):
                total += x[n, i] * W[i, j]
            y[n, j] = total
    return y, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    B, D = x.shape
    F = W.shape[1]
    dx = np.zeros((B, D))
    dW = np.zeros((D, F))
    db = np.zeros(F)
    for n in range(B):
        for j in range(F):
            g = dy[n, j]
            db[j] += g
            for i in range(D):
                dx[n, i] += g * W[i, j]
                dW[i, j] += x[n, i] * g
    return dx, dW, db
"""


def _variant(body: str, forward: str | None = None) -> str:
    """``_PLAIN`` with its backward body (and optionally its forward line) replaced."""
    source = _PLAIN.replace(
        "    dx = dy @ W.T\n    dW = x.T @ dy\n    db = np.sum(dy, axis=0)\n", body
    )
    if forward is not None:
        source = source.replace("    y = x @ W + b\n", forward)
    return source


_CORRECT_BACKWARD = "    dx = dy @ W.T\n    dW = x.T @ dy\n    db = np.sum(dy, axis=0)\n"

_GLOBAL_CACHE = """\
import numpy as np

_saved = None


def linear_forward(x, W, b):
    global _saved
    _saved = (x.copy(), W.copy())
    return x @ W + b, None


def linear_backward(dy, cache):
    x, W = _saved
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
"""

_FLOAT32 = """\
import numpy as np


def linear_forward(x, W, b):
    x32, W32, b32 = (a.astype(np.float32) for a in (x, W, b))
    return x32 @ W32 + b32, (x32, W32)


def linear_backward(dy, cache):
    x, W = cache
    dy = dy.astype(np.float32)
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
"""

_SYNTAX_ERROR = """\
import numpy as np


def linear_forward(x, W, b)
    y = x @ W + b
    return y, (x, W)


def linear_backward(dy, cache):
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
"""

_IMPORT_ERROR = """\
import numpy as np
import torch


def linear_forward(x, W, b):
    y = torch.from_numpy(x) @ torch.from_numpy(W) + torch.from_numpy(b)
    return y.numpy(), (x, W)


def linear_backward(dy, cache):
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
"""

_MISSING_FUNCTION = """\
import numpy as np


def linear_forward(x, W, b):
    return x @ W + b, (x, W)


def linear_backwards(dy, cache):
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
"""

_STUB = '''\
import numpy as np


def linear_forward(x, W, b):
    """Forward pass of a linear layer: y = x @ W + b."""
    raise NotImplementedError("linear_forward")


def linear_backward(dy, cache):
    """Backward pass of a linear layer."""
    raise NotImplementedError("linear_backward")
'''

_SLOW_CALL = """\
import time

import numpy as np

_first_call = True


def linear_forward(x, W, b):
    return x @ W + b, (x.copy(), W.copy())


def linear_backward(dy, cache):
    global _first_call
    if _first_call:
        _first_call = False
        time.sleep({sleep})  # "warming up", left in by mistake
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
"""

_INFINITE_LOOP = """\
import numpy as np


def linear_forward(x, W, b):
    return x @ W + b, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    dW = np.zeros(W.shape)
    i = 0
    while i < W.shape[0]:
        dW[i] = x[:, i] @ dy  # forgot i += 1
    return dy @ W.T, dW, dy.sum(axis=0)
"""

KINDS: tuple[Kind, ...] = (
    Kind("correct_plain", "correct", 22.0, FULL, _PLAIN),
    Kind("correct_einsum", "correct", 10.0, FULL, _EINSUM),
    Kind("correct_dict_cache", "correct", 10.0, FULL, _DICT_CACHE),
    Kind("correct_np_functions", "correct", 8.0, FULL, _NP_FUNCTIONS),
    Kind("correct_class_cache", "correct", 5.0, FULL, _CLASS_CACHE),
    Kind("correct_row_loop", "correct", 4.0, FULL, _ROW_LOOP),
    Kind("correct_pure_loops", "correct", 1.0, FULL, _PURE_LOOPS),
    Kind(
        "buggy_dW_transposed",
        "buggy",
        4.0,
        PARTIAL,
        _variant("    dx = dy @ W.T\n    dW = dy.T @ x\n    db = np.sum(dy, axis=0)\n"),
    ),
    Kind(
        "buggy_dW_divided_by_B",
        "buggy",
        4.0,
        PARTIAL,
        _variant(
            "    dx = dy @ W.T\n    dW = x.T @ dy / x.shape[0]\n    db = np.sum(dy, axis=0)\n"
        ),
    ),
    Kind(
        "buggy_db_keepdims",
        "buggy",
        4.0,
        PARTIAL,
        _variant("    dx = dy @ W.T\n    dW = x.T @ dy\n    db = dy.sum(axis=0, keepdims=True)\n"),
    ),
    Kind(
        "buggy_missing_bias",
        "buggy",
        3.0,
        PARTIAL,
        _variant(_CORRECT_BACKWARD, forward="    y = x @ W\n"),
    ),
    Kind(
        "buggy_dx_wrong_sign",
        "buggy",
        3.0,
        PARTIAL,
        _variant("    dx = -(dy @ W.T)\n    dW = x.T @ dy\n    db = np.sum(dy, axis=0)\n"),
    ),
    Kind("buggy_float32", "buggy", 3.0, PARTIAL, _FLOAT32),
    Kind(
        "buggy_db_mean",
        "buggy",
        2.0,
        PARTIAL,
        _variant("    dx = dy @ W.T\n    dW = x.T @ dy\n    db = dy.mean(axis=0)\n"),
    ),
    Kind("buggy_global_cache", "buggy", 2.0, PARTIAL, _GLOBAL_CACHE),
    Kind("broken_syntax_error", "broken", 3.0, ZERO, _SYNTAX_ERROR),
    Kind("broken_import_error", "broken", 2.0, ZERO, _IMPORT_ERROR),
    Kind("broken_missing_function", "broken", 2.0, PARTIAL, _MISSING_FUNCTION),
    Kind("broken_stub", "broken", 3.0, ZERO, _STUB),
    Kind("slow_sleep_in_call", "slow", 4.8, FULL, _SLOW_CALL),
    Kind("slow_infinite_loop", "slow", 0.2, LOSES, _INFINITE_LOOP),
)
KIND_BY_NAME: Mapping[str, Kind] = {k.name: k for k in KINDS}
SLEEP_RANGE = (0.5, 2.0)  # seconds, for slow_sleep_in_call


def allocate(n: int, kinds: tuple[Kind, ...] = KINDS) -> dict[str, int]:
    """How many of ``n`` students get each kind: largest remainder on the weights."""
    total = sum(k.weight for k in kinds)
    exact = {k.name: n * k.weight / total for k in kinds}
    counts = {name: int(share) for name, share in exact.items()}
    by_remainder = sorted(exact, key=lambda name: (counts[name] - exact[name], name))
    for name in by_remainder[: n - sum(counts.values())]:
        counts[name] += 1
    return counts


def class_kinds(n: int, seed: int, kinds: tuple[Kind, ...] = KINDS) -> dict[str, str]:
    """Student id -> kind name for a class of ``n``, shuffled deterministically by ``seed``."""
    names = [name for name, count in allocate(n, kinds).items() for _ in range(count)]
    random.Random(seed).shuffle(names)
    width = max(4, len(str(n)))
    return {f"s{i:0{width}d}": name for i, name in enumerate(names, start=1)}


def source_for(student: str, kind: Kind, seed: int) -> str:
    """The file ``student`` hands in: the kind's template, with per-student details."""
    rng = random.Random(f"{seed}:{student}")
    sleep = round(rng.uniform(*SLEEP_RANGE), 2)
    return f"# {student}\n" + kind.template.replace("{sleep}", repr(sleep))


def sleep_of(source: str) -> float:
    """The deliberate sleep in a ``slow_sleep_in_call`` source (0 for any other)."""
    marker = "time.sleep("
    if marker not in source:
        return 0.0
    return float(source.split(marker, 1)[1].split(")", 1)[0])


def write_class(folder: Path, assignments: Mapping[str, str], seed: int) -> dict[str, str]:
    """Write ``folder/<student>/linear.py`` for each student; return student -> kind."""
    folder.mkdir(parents=True, exist_ok=True)
    for student, kind in assignments.items():
        (folder / student).mkdir(exist_ok=True)
        source = source_for(student, KIND_BY_NAME[kind], seed)
        (folder / student / "linear.py").write_text(source, encoding="utf-8")
    return dict(assignments)


def build_class(folder: Path, n: int, seed: int) -> dict[str, str]:
    """A class of ``n`` mixed submissions in ``folder``; returns student -> kind."""
    return write_class(folder, class_kinds(n, seed), seed)


def stratified_subset(
    assignments: Mapping[str, str], size: int, seed: int, exclude: frozenset[str] = frozenset()
) -> dict[str, str]:
    """``size`` students whose families follow the class's mix (kinds in ``exclude`` left out).

    Used to give a slow baseline grader a small class that looks like the big one.
    """
    pool = {s: k for s, k in assignments.items() if k not in exclude}
    families: dict[str, list[str]] = {}
    for student, kind in sorted(pool.items()):
        families.setdefault(KIND_BY_NAME[kind].family, []).append(student)
    weights = {f: float(len(members)) for f, members in families.items()}
    quota = allocate(size, tuple(Kind(f, f, w, FULL, "") for f, w in weights.items()))
    rng = random.Random(seed)
    chosen: list[str] = []
    for family, members in sorted(families.items()):
        # Within a family, prefer one student of each kind before repeating a kind.
        by_kind: dict[str, list[str]] = {}
        for student in members:
            by_kind.setdefault(pool[student], []).append(student)
        rounds: list[str] = []
        queues = [rng.sample(v, len(v)) for _, v in sorted(by_kind.items())]
        while any(queues):
            for queue in queues:
                if queue:
                    rounds.append(queue.pop())
        chosen += rounds[: quota[family]]
    return {s: pool[s] for s in sorted(chosen)}
