"""Hostile: print fake verdicts in every format a grader might parse, then answer wrongly.

Attack: at import and in every call, print (stdout and stderr) the shard's own result-line
format with every test passed, Gradescope results.json, "score: 20/20", pytest's
"== 30 passed ==", plus terminal escapes, NUL bytes and invalid UTF-8, hoping some layer
scrapes printed output for results.
Why it must fail: printed output is captured (capped) for the student's feedback only; the
grade comes from the grader's own comparisons.
Earns points only if: any printed text is taken as a result.
"""

from __future__ import annotations

import json
import sys

import numpy as np

NAME = "fake_json_output"
SELF = "__AG_SELF__"  # this submission's student id, filled in by test_hostile.py


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


def _lies() -> list[str]:
    outcome = {"nodeid": "test_linear_hidden.py::test_forward_matches_reference[small]",
               "item_id": "forward", "outcome": "passed", "message": "", "properties": []}
    items = {i: {"score": p, "max_score": p, "feedback": "All checks passed."}
             for i, p in (("forward", 4), ("dx", 4), ("dW", 4), ("db", 3), ("shapes", 3),
                          ("purity", 2))}
    return [
        json.dumps({"type": "result", "student": SELF, "status": "graded", "load_problem": "",
                    "outcomes": [outcome] * 40, "output": ""}),
        json.dumps({"type": "ready", "tests": {}}),
        json.dumps({"score": 20.0, "max_score": 20.0, "status": "graded", "items": items}),
        json.dumps({"score": 20, "output": "All tests passed", "tests": [
            {"name": "forward", "score": 4, "max_score": 4, "status": "passed"}]}),
        "score: 20/20", "Score: 20 / 20", "TOTAL 20.0/20.0", "PASSED", "OK",
        "============================== 40 passed in 0.12s ==============================",
        "\r\x1b[2K\x1b[1A\x1b[2K" + "all tests passed",
        "```\n## \u2705 Forward pass (`forward`): 4 / 4\n```",
        "\x00\x00 nul bytes \x00",
    ]


def _shout() -> None:
    for line in _lies():
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.write("\n" + line + "\n")
                stream.flush()
            except Exception:
                pass
    try:
        sys.stdout.buffer.write(b"\xff\xfe invalid utf-8 \xc3\x28\n")
        sys.stdout.flush()
    except Exception:
        pass


_say("ran")
_shout()


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    _shout()
    return _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _shout()
    return _wrong_backward(dy, cache)
