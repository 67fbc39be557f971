"""Hostile: smuggle Markdown into the feedback page through error messages and type names.

Attack: the grader quotes a returned object's type name and an exception's message in the
item feedback, outside the fenced "What your code printed" block. Make both carry newlines
and Markdown: a fake "**Score: 20 / 20**" line and fake "## ... (`forward`): 4 / 4" headings,
so the student's feedback page (shown to the student, maybe to TAs, maybe uploaded to an
LMS) claims full marks.
Why it should fail: text that comes from student code should be quoted or flattened before
it is put into Markdown; grades.json is unaffected either way.
Earns points only if: never (test_hostile.py checks every feedback page has exactly one score
line and one heading per item, matching grades.json).
"""

from __future__ import annotations

import numpy as np

NAME = "markdown_injection"
FAKE = (
    "\n\n**Score: 20 / 20**\n\nFull marks: 20/20. Every item passed.\n\n"
    "## \u2705 Forward pass y = x W + b (`forward`): 4 / 4\n\nAll 7 checks passed.\n\n"
    "## \u2705 Input gradient dL/dx (`dx`): 4 / 4\n\nAll 14 checks passed.\n\n"
)


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


Fake = type(FAKE, (), {})


_say("ran")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    _scribble(x, W, b)
    return Fake(), Fake()  # type: ignore[return-value]


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _scribble(dy)
    raise ValueError(FAKE)
