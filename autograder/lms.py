"""Sorting a Canvas download (every student's file in one folder) into a folder per student.

Canvas names each handed-in file ``<name>[_LATE]_<user id>_<submission id>_<file>``:
``smithjohn_12345_678901_linear.py``. A resubmission's file gets ``-1``, ``-2``, ...
(``linear-2.py``; ``linear-10.py`` sorts before it), a browser's second download of it
`` (1)``, and students type the name in any case (``Linear.py``). ``sort_canvas`` moves each
student's newest file (the highest submission id) to ``<name>_<user id>/<module>``: the user id
keeps two students of the same name apart. Older files go to ``.older-submissions/`` (which
``grade`` does not look into); every other ``.py`` or ``.ipynb`` stays where it is, and the
result says why, so no file is lost without a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import OutputError, UsageError
from autograder.submissions import RESUBMITTED

OLDER = ".older-submissions"
_CANVAS = re.compile(
    r"^(?P<name>[^_]+)(?:_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$", re.IGNORECASE
)
_BLACKBOARD = re.compile(r"_attempt_\d{4}-\d\d-\d\d", re.IGNORECASE)
_MOODLE = re.compile(r"_assignsubmission_", re.IGNORECASE)


@dataclass
class SortResult:
    """What ``sort_canvas`` did (or, with ``dry_run``, would do), file by file."""

    moved: list[tuple[str, str]] = field(default_factory=list)  # (file, where to)
    older: list[tuple[str, str]] = field(default_factory=list)  # (file, the newer file)
    left: list[tuple[str, str]] = field(default_factory=list)  # (file, why it stays)


def sort_canvas(folder: Path, module: str, *, dry_run: bool = False) -> SortResult:
    """Sort the Canvas download in ``folder`` for ``module`` (``linear.py``) in place."""
    if not folder.is_dir():
        if folder.is_file():
            raise UsageError(f"{folder} is not a folder: unzip it, then sort the folder")
        raise UsageError(f"{folder} does not exist")
    stem = Path(module).stem
    wanted = re.compile(rf"^{re.escape(stem)}{RESUBMITTED}?\.(py|ipynb)$", re.IGNORECASE)
    result = SortResult()
    # (student folder, .py or .ipynb) -> [(submission id, file)]
    groups: dict[tuple[str, str], list[tuple[int, Path]]] = {}
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise UsageError(f"cannot list {folder}: {exc.strerror or exc}") from None
    for entry in entries:
        if entry.name.startswith(".") or entry.suffix.lower() not in (".py", ".ipynb"):
            continue
        if not entry.is_file() or entry.is_symlink():
            continue
        named = _CANVAS.match(entry.name)
        if named is None:
            result.left.append((entry.name, _not_canvas(entry.name)))
            continue
        kind = wanted.match(named["file"])
        if kind is None:
            result.left.append((entry.name, f"not {module} or {stem}.ipynb by its name"))
            continue
        student = f"{named['name']}_{named['user']}"
        groups.setdefault((student, kind[1].lower()), []).append((int(named["submission"]), entry))
    for (student, suffix), files in sorted(groups.items()):
        files.sort(key=lambda pair: (pair[0], pair[1].name), reverse=True)
        target = folder / student / (module if suffix == "py" else f"{stem}.ipynb")
        shown = f"{student}/{target.name}"
        if target.exists() or target.is_symlink():
            why = (
                f"{shown} is there already (sorted earlier?): if this file is newer, move that "
                "one away and sort again"
            )
            result.left.extend((path.name, why) for _, path in files)
            continue
        newest = files[0][1]
        result.moved.append((newest.name, shown))
        result.older.extend((path.name, newest.name) for _, path in files[1:])
        if dry_run:
            continue
        # The older files first: a sort stopped between the moves (Ctrl-C, a full disk) has
        # not sorted the student, so sorting again moves the newest file in; the other way
        # round, their older files would be left, "sorted earlier?".
        moving = files[1][1] if len(files) > 1 else newest
        try:
            if len(files) > 1:
                (folder / OLDER).mkdir(exist_ok=True)
                for _, moving in files[1:]:
                    moving.rename(folder / OLDER / moving.name)
            moving = newest
            target.parent.mkdir(exist_ok=True)
            newest.rename(target)
        except OSError as exc:
            where = shown if moving == newest else f"{OLDER}/"
            raise OutputError(
                f"cannot move {moving.name} to {where} ({exc.strerror or exc}); what was moved "
                "before it stays moved: sort again once that is fixed"
            ) from None
    return result


def _not_canvas(name: str) -> str:
    why = "not named as Canvas names files (<name>_<user id>_<submission id>_<file>)"
    if _BLACKBOARD.search(name):
        return f"{why}: a Blackboard name, sort it by hand"
    if _MOODLE.search(name):
        return f"{why}: a Moodle name, sort it by hand"
    return why
