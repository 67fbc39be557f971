"""Finding each student's submission: class folders, nbgrader's layout, zips, notebooks.

Accepted layouts for ``SUBMISSIONS``:

* ``SUBMISSIONS/<student>/linear.py`` (or ``linear.ipynb``; also found a few folders deeper);
* nbgrader's ``SUBMISSIONS/submitted/<student>/<assignment>/...`` (or ``SUBMISSIONS`` being the
  ``submitted`` folder itself);
* a ``.zip`` of either (extracted safely: no symlinks, no absolute or ``..`` paths, size caps).

Files are read here, in the trusted grader, and only their text is sent to the sandbox.
Symbolic links are refused: a link to the reference solution must not grade as the student's.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import itertools
import json
import os
import re
import shutil
import stat
import time
import tokenize
import unicodedata
import zipfile
import zlib
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import OutputError, UsageError, describe
from autograder.scoring import EMPTY_UPLOAD, SEVERAL_FILES

MAX_SOURCE_BYTES = 2 * 1024 * 1024
# A notebook keeps its outputs (plots): the file may be far larger than the code it holds.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
# Parsed, JSON of tiny values costs about 25 times its size ("[[],[],...]": a 64-byte list per
# 3 bytes), so a 64 MiB notebook could take the grader 1.7 GB. Real notebooks are mostly long
# strings (code, base64 plots): values are counted before parsing, at most this many.
MAX_NOTEBOOK_VALUES = 2_000_000
_JSON_STRING = re.compile(r'"[^"]*"')  # once escapes are out (see _json_values)
MAX_ZIP_BYTES = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 100_000
_SEARCH_DEPTH = 3
_IGNORED = re.compile(r"^(\.|__MACOSX$|__pycache__$)")
# A class zip holds class/student/assignment/.../file: far less deep than this.
MAX_ZIP_DEPTH = 32
# What a member's own name or place causes (too long, a file and a folder of the same name),
# as opposed to the disk (full, read-only), which stops the run as an OutputError.
_BAD_MEMBER_ERRORS = {errno.ENAMETOOLONG, errno.EEXIST, errno.ENOTDIR, errno.EISDIR}
# Cell magics whose body is Python (timed, captured, or run as is).
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
# ``np.sum?``, ``??np.sum``: IPython help, not Python.
_HELP_LINE = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")

MAX_BESIDE = 200
# nbgrader's own folders in its course folder, beside ``submitted/``: no students in them.
_NBGRADER_FOLDERS = frozenset({"source", "release", "autograded", "feedback", "submitted"})
# How an LMS download names a student's file: Canvas ``smithjohn[_LATE]_12345_678901_linear.py``
# (``-N`` on a resubmission, `` (N)`` on a browser's second download), Blackboard
# ``HW3_jsmith_attempt_2026-12-01-10-00-00_linear.py``. ``{stem}`` is the module's.
# What an LMS or a browser adds to a file handed in again: Canvas's ``-2``, a browser's `` (1)``.
RESUBMITTED = r"(?:-\d+| ?\(\d+\))"
_LMS_NAME = r"(?i)^.+_(?:\d+|attempt)_(?:.*_)?{stem}" + RESUBMITTED + r"?\.(?:py|ipynb)$"
_LMS_STUDENT = re.compile(r"(?i)(?:_LATE)?_(?:\d+|attempt)_.*$")  # all but the student's name
# A file meant as the module under another name: ``Linear.py``, ``linear (1).py``,
# ``linear-2.py``, ``linear.py.txt``, ``linear.PY``, ``Copy of linear.ipynb``.
_NEAR_MISS = r"(?i)^(?:copy of )?{stem}(?: copy)?" + RESUBMITTED + r"?\.(?:py|ipynb)(?:\.\w+)?$"


@dataclass(frozen=True)
class Submission:
    """One student's file, read and ready to send, or why there is nothing to grade."""

    student: str
    source: str | None
    filename: str
    problem: str = ""
    missing: bool = False
    # What else the folder of the graded file holds (a helper module, a data file): only the
    # file itself is graded, and the feedback says so when the code looks for one of these.
    beside: tuple[str, ...] = ()
    # For the grader's terminal, not the student: what the TA should look at (an empty file,
    # a link that points nowhere), with the paths the student's page does not show.
    warning: str = ""
    # For the student's feedback, whatever the grade: a copy beside the graded file that was
    # not graded (``linear-1.py`` beside ``linear.py``).
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.source is not None


@dataclass
class ClassNotes:
    """What ``discover`` noticed about the class as a whole, for ``grade`` to warn about."""

    # Plain files beside the student folders named like an LMS download's (not graded).
    lms_files: list[str] = field(default_factory=list)
    # Students graded as missing whose folder holds a file meant as the module under another
    # name, or a zip: (student, the file names).
    misnamed: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    zipped: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    # Folders beside nbgrader's ``submitted/`` that hold the module (not graded).
    beside_submitted: list[str] = field(default_factory=list)


def discover(
    root: Path,
    *,
    module: str,
    assignment: str,
    workdir: Path,
    exclude: Sequence[Path] = (),
    untouched: Sequence[str] = (),
    notes: ClassNotes | None = None,
) -> list[Submission]:
    """All submissions under ``root`` (a folder or a .zip), sorted by student id.

    Folders in ``exclude`` (the grader's own output folder, when it is inside ``root``) are
    not students. ``untouched`` are the sources of the released stubs (``released_sources``):
    of several candidate files, one that is still the stub is not the submission. What is
    worth a warning about the class as a whole goes into ``notes``.

    A class given one folder too high (its only "student" holds a folder per student, or an
    LMS download one level down) is refused (``UsageError``), before anything is graded.
    """
    if not root.exists():
        raise UsageError(f"submissions folder {root} does not exist")
    notes = notes if notes is not None else ClassNotes()
    if root.is_file():
        # Unpacked for as long as it takes to read every student's file: a copy of a class's
        # work is not left in the output folder.
        target = workdir / "unzipped"
        try:
            unpacked = _unzipped(root, target, assignment, module)
            return _find_in(
                unpacked, module, assignment, untouched, notes=notes, shown_as=(root, target)
            )
        finally:
            shutil.rmtree(target, ignore_errors=True)
    return _find_in(root, module, assignment, untouched, exclude, notes=notes)


def _unzipped(archive: Path, target: Path, assignment: str, module: str) -> Path:
    if not zipfile.is_zipfile(archive):
        if archive.suffix.lower() == ".zip":
            raise UsageError(f"{archive} is not a valid zip archive (damaged or incomplete?)")
        raise UsageError(f"{archive} is neither a folder nor a .zip file")
    try:
        if target.exists():
            shutil.rmtree(target)
        extract_zip(archive, target)
        return _unwrap(target, assignment, module)
    except OSError as exc:  # a full disk, most likely: nothing is graded or written yet
        what = describe(exc)
        raise OutputError(f"cannot unpack {archive} into {target} ({what})") from None


def _find_in(
    root: Path,
    module: str,
    assignment: str,
    untouched: Sequence[str],
    exclude: Sequence[Path] = (),
    shown_as: tuple[Path, Path] | None = None,
    notes: ClassNotes | None = None,
) -> list[Submission]:
    """The students in ``root``; ``shown_as`` is (the zip, where it was unpacked) for a zip."""
    notes = notes if notes is not None else ClassNotes()
    skip = {path.resolve() for path in exclude}
    given = root
    try:
        root = _nbgrader_root(root, assignment)
        folders = sorted(_student_dirs(root, module), key=lambda p: p.name)
        students = [folder for folder in folders if folder.resolve() not in skip]
        if root != given:
            notes.beside_submitted = _beside_submitted(given, module, skip)
        _refuse_one_level_too_high(students, module, assignment, given, shown_as)
    except OSError as exc:
        raise UsageError(f"cannot list the submissions in {root}: {exc.strerror or exc}") from None
    found = [
        load_submission(
            folder,
            student=student_id(folder.name),
            module=module,
            assignment=assignment,
            untouched=untouched,
        )
        for folder in students
    ]
    if not found:
        raise UsageError(_no_students(root, module, assignment, shown_as and shown_as[0]))
    ids: dict[str, Path] = {}
    for folder in folders:
        other = ids.setdefault(student_id(folder.name), folder)
        if other != folder:  # josé in UTF-8 and jos\xe9 in Latin-1: one would be lost
            raise UsageError(
                f"{other} and {folder} are the same student id, '{student_id(folder.name)}'"
                f"{_spelled_apart(other.name, folder.name)}; rename one of them"
            )
    stem = Path(module).stem
    with contextlib.suppress(OSError):
        notes.lms_files = sorted(
            entry.name
            for entry in root.iterdir()
            if entry.is_file() and _lms_named(entry.name, stem) and entry.name.isprintable()
        )
    for folder, submission in zip(students, found, strict=True):
        if submission.missing:
            misnamed, zipped = _handed_in_otherwise(folder, module)
            if misnamed:
                notes.misnamed.append((submission.student, misnamed))
            if zipped:
                notes.zipped.append((submission.student, zipped))
    return found


def _lms_named(name: str, stem: str) -> bool:
    """Whether ``name`` is an LMS download's name for a student's ``stem`` file."""
    return bool(re.match(_LMS_NAME.replace("{stem}", re.escape(stem)), name))


def _handed_in_otherwise(folder: Path, module: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """In the folder of a student without ``module``: the files meant as it under another
    name (``Linear.py``, ``linear (1).py``, ``linear.py.txt``), and the zips."""
    near = re.compile(_NEAR_MISS.replace("{stem}", re.escape(Path(module).stem)))
    try:
        files = [path for path in _walk(folder) if path.is_file()]
    except OSError:
        return (), ()
    misnamed = tuple(str(p.relative_to(folder)) for p in files if near.match(p.name))
    zipped = tuple(str(p.relative_to(folder)) for p in files if p.suffix.lower() == ".zip")
    return misnamed, zipped


def _no_students(root: Path, module: str, assignment: str, shown_as: Path | None) -> str:
    """Why no student folders were found in ``root``, and what to do about it."""
    where = shown_as or root
    stem = Path(module).stem
    try:
        entries = [entry for entry in root.iterdir() if entry.is_file()]
    except OSError:
        entries = []
    files = sorted(
        entry.name
        for entry in entries
        if stem.casefold() in entry.name.casefold() and entry.suffix.lower() in (".py", ".ipynb")
    )
    zips = sorted(entry.name for entry in entries if entry.suffix.lower() == ".zip")
    message = f"no student folders in {where} (expected {where}/<student>/{module})"
    own = [name for name in files if name.casefold() in (module.casefold(), f"{stem}.ipynb")]
    if own and not any(_lms_named(name, stem) for name in files):
        # One student's folder (or zip) given for the class: sort-canvas would sort nothing.
        unzip = "unzip it into a folder named for the student, then " if shown_as else ""
        return (
            f"{message}; it holds {own[0]} itself, so it is one student's submission, not the "
            f"class: {unzip}grade the folder that holds the students' folders (to grade one "
            "student alone, a folder holding only theirs)"
        )
    if files:
        first = files[0]
        sort = _sort_hint(assignment, "DIR" if shown_as else str(where))
        how = f"unzip it into a folder DIR, {sort}, then grade DIR" if shown_as else ""
        return (
            f"{message}; it holds {len(files)} file(s) like {first} instead: an LMS download "
            "(Canvas names files <student>_<ids>_<file>) must be sorted into a folder per "
            f"student first: {how or sort + ', then grade it again'}"
        )
    if zips:
        shown = ", ".join(zips[:3]) + (", ..." if len(zips) > 3 else "")
        unzip = "unzip it, then " if shown_as else ""
        return (
            f"{message}; it holds {len(zips)} zip file(s) ({shown}) instead: {unzip}unzip each "
            "into a folder of its own, named for its student, and grade the folder that holds "
            "those folders"
        )
    return message


def _sort_hint(assignment: str, folder: str) -> str:
    return (
        f"run 'autograder sort-canvas {assignment} {folder}' (for Canvas's names only; sort "
        "another LMS's download by hand)"
    )


def _refuse_one_level_too_high(
    students: list[Path],
    module: str,
    assignment: str,
    given: Path,
    shown_as: tuple[Path, Path] | None,
) -> None:
    """A class given one folder too high (a Mac's ``HW3/`` beside ``__MACOSX``, a zip of the
    sorted class's folder, nbgrader's course folder inside another) would be graded as one
    student, "ambiguous" or "missing": refused, saying what to grade instead."""
    stem = Path(module).stem
    above: list[tuple[Path, list[str]]] = []  # a student folder, and the students inside it
    flat: list[tuple[Path, list[str]]] = []  # ... and the LMS-named files right in it
    for folder in students:
        if not folder.is_dir():
            continue
        entries = [entry for entry in folder.iterdir() if not _IGNORED.match(entry.name)]
        inner = [
            entry.name
            for entry in entries
            if entry.is_dir()
            and not entry.is_symlink()
            and entry.name != assignment
            and holds_submission(entry, module)
        ]
        if len(inner) >= 2 or "submitted" in inner:
            above.append((folder, sorted(inner)))
            continue
        named = [e.name for e in entries if e.is_file() and _lms_named(e.name, stem)]
        if len({_LMS_STUDENT.sub("", name).casefold() for name in named}) >= 2:
            flat.append((folder, sorted(named)))
    if len(above) + len(flat) != 1:
        return
    (folder, inside), kind = (above[0], "above") if above else (flat[0], "flat")
    others = [s for s in students if s != folder and holds_submission(s, module)]
    if others:  # a class of its own beside them: that one student's folder is just odd
        return
    if shown_as:  # a zip: the folder as its path in the zip
        where, inner_path = shown_as[0], folder.relative_to(shown_as[1])
        instead = f"unzip it and grade the folder {inner_path}/ in it"
    else:
        where, inner_path = given, folder.relative_to(given)
        instead = f"grade {folder}"
    if kind == "above":
        shown = ", ".join(inside[:3]) + (", ..." if len(inside) > 3 else "")
        raise UsageError(
            f"is {where} one folder above the class? {inner_path}/ in it holds {len(inside)} "
            f"folders with {module} in them ({shown}), as a class does: {instead}. "
            "Nothing was graded"
        )
    sorted_ = f"DIR/{inner_path}" if shown_as else str(folder)
    unzip = "unzip it into a folder DIR, " if shown_as else ""
    raise UsageError(
        f"is {where} one folder above the class? {inner_path}/ holds an LMS download "
        f"({len(inside)} files like {inside[0]}), which must be sorted into a folder per "
        f"student first: {unzip}{_sort_hint(assignment, sorted_)}, then grade {sorted_}. "
        "Nothing was graded"
    )


def _beside_submitted(course: Path, module: str, skip: set[Path]) -> list[str]:
    """Folders beside nbgrader's ``submitted/`` that hold ``module``: a late student put
    there by hand is not graded, which ``grade`` says."""
    return sorted(
        entry.name
        for entry in course.iterdir()
        if entry.name not in _NBGRADER_FOLDERS
        and not _IGNORED.match(entry.name)
        and entry.is_dir()
        and entry.resolve() not in skip
        and holds_submission(entry, module)
    )


def holds_submission(folder: Path, module: str) -> bool:
    """Whether ``folder`` holds ``module`` (or its notebook) where a student's would be."""
    if not folder.is_dir():
        return False
    return bool(_find(folder, module) or _find(folder, f"{Path(module).stem}.ipynb"))


def student_id(name: str) -> str:
    """A folder's name as a student id. A name that is not UTF-8 (an LMS export in Latin-1,
    ``jos\\xe9``) is read as Latin-1, so the id can be written into every report. The id is in
    NFC: macOS (its zips too) writes ``José`` decomposed (NFD), Linux and Windows composed; one
    student is one id, whichever made the folder."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        name = os.fsencode(name).decode("latin-1")
    return unicodedata.normalize("NFC", name)


def _spelled_apart(first: str, second: str) -> str:
    """Why two names of one student id look the same: said when they are the same text
    composed and decomposed (the name as Linux or Windows writes it, and as macOS does)."""
    if first != second and unicodedata.normalize("NFC", first) == unicodedata.normalize(
        "NFC", second
    ):
        return (
            " (the same name, its accents written two ways: one folder was made on a Mac, "
            "which writes them decomposed)"
        )
    return ""


def look_alike_ids(ids: Iterable[str]) -> list[list[str]]:
    """Groups of ids that differ only in case or in spaces at their ends (``Alice``, ``alice``,
    ``ALICE ``): one student twice, most likely, and their feedback files would be one file on
    a Mac's or Windows's disk (whose names ignore case)."""
    groups: dict[str, list[str]] = {}
    for student in ids:
        key = unicodedata.normalize("NFC", unicodedata.normalize("NFC", student).casefold())
        key = key.strip()
        groups.setdefault(key, []).append(student)
    return [sorted(group) for group in groups.values() if len(group) > 1]


# Moodle's "Download all submissions": a folder per student and plugin,
# ``Full Name_12345_assignsubmission_file_`` and ``..._assignsubmission_onlinetext_``.
_MOODLE_TEXT = re.compile(r"(.+)_assignsubmission_onlinetext_")


def _student_dirs(root: Path, module: str) -> Iterator[Path]:
    # A symbolic link to a folder is a student too (``alice -> attempts/alice-2``): only the
    # class's owner can put one at this level; links inside a submission are never followed.
    names = {entry.name for entry in root.iterdir()}
    for entry in root.iterdir():
        if _IGNORED.match(entry.name):
            continue
        text = _MOODLE_TEXT.fullmatch(entry.name)
        if text and f"{text.group(1)}_assignsubmission_file_" in names:
            continue  # the online text of a student whose files are in the folder beside it
        # A link to a folder that is gone is a student whose files cannot be read (said so in
        # their feedback), not someone to leave out without a word.
        if (entry / ".autograder" / "journal.jsonl").is_file() and not holds_submission(
            entry, module
        ):
            continue  # the grader's own output folder of an earlier run, not a student
        if entry.is_dir() or (entry.is_symlink() and not entry.exists()):
            yield entry


def _nbgrader_root(root: Path, assignment: str) -> Path:
    if (root / "submitted").is_dir():
        return root / "submitted"
    return root


def _unwrap(root: Path, assignment: str, module: str) -> Path:
    """A zip of one folder (``class/alice/...``) is graded as that folder."""
    entries = [e for e in root.iterdir() if not _IGNORED.match(e.name)]
    while (
        len(entries) == 1
        and entries[0].is_dir()
        and not _looks_like_student(entries[0], assignment, module)
    ):
        root = entries[0]
        entries = [e for e in root.iterdir() if not _IGNORED.match(e.name)]
    return root


def _looks_like_student(folder: Path, assignment: str, module: str) -> bool:
    """Its files are right inside it, or in ``<assignment>/`` (``alice/linear/linear.py``);
    but a folder that holds other files (an LMS download's, left over when it was sorted)
    beside two or more folders that each hold the module is a class."""
    if (folder / assignment).is_dir():
        return True
    files = [f.name for f in folder.iterdir() if f.is_file() and f.suffix in (".py", ".ipynb")]
    if not files:
        return False
    if module in files or f"{Path(module).stem}.ipynb" in files:
        return True
    inner = [
        entry
        for entry in folder.iterdir()
        if entry.is_dir() and not _IGNORED.match(entry.name) and holds_submission(entry, module)
    ]
    return len(inner) < 2


def load_submission(
    folder: Path, *, student: str, module: str, assignment: str, untouched: Sequence[str] = ()
) -> Submission:
    """Read one student's module (or notebook) from their folder.

    A folder or file the grader cannot read (permissions, an I/O error) makes this student's
    submission one that could not run, with the reason; the rest of the class is graded.
    Once it is readable, its text differs, so a rerun grades it.
    """
    try:
        return _load_submission(folder, student, module, assignment, untouched)
    except OSError as exc:
        # The student's page names what could not be read as the student knows it, never by
        # where the class lies on the grader's disk; the grader's terminal gets the full path.
        where = Path(os.fsdecode(exc.filename)) if exc.filename else folder
        if folder.is_symlink() and not folder.exists():
            why = f"{folder.name} is a link to a folder that does not exist"
            try:
                warning = f"{folder} is a link to {os.readlink(folder)}, which does not exist"
            except OSError:
                warning = f"{folder} is a link to a folder that does not exist"
        else:
            shown = where.relative_to(folder.parent) if where.is_relative_to(folder) else where.name
            why = f"{exc.strerror or exc}: {shown}"
            warning = f"cannot read {where} ({exc.strerror or exc})"
        return Submission(
            student,
            None,
            module,
            f"The grader could not read your submission ({why}). "
            "This is a problem on the grading side, not in your code: tell your instructor.",
            warning=warning,
        )


_STUB_RAISE = ': not implemented yet")'  # what release writes in place of each solution
# What grading does when a module and its notebook are handed in together (``_load_submission``),
# as the handout, the notebook and ``autograder check`` all tell the student.
BOTH_HANDED_IN = (
    "a file whose code is still as released (comments aside) is ignored, and if both "
    "differ from the release, neither is graded, even when they hold the same code"
)


def choose_local_file(folder: Path, module: str) -> tuple[Path, str]:
    """The file ``autograder check`` (or plain pytest) checks in a student's folder, and why.

    A release holds both ``<module>.py`` and its notebook edition; the student fills in one.
    Like ``grade``, which takes the one no longer the released stub, check takes the one with
    fewer stubs left (``raise NotImplementedError("...: not implemented yet")``), then the
    one changed last; the ``.py`` when they hold the same code. The reason is for the student.
    """
    py, notebook = folder / module, folder / f"{Path(module).stem}.ipynb"
    if not (py.is_file() and notebook.is_file()):
        return (notebook if notebook.is_file() and not py.exists() else py), ""
    readable: dict[Path, str] = {}
    problems = []
    for path in (py, notebook):
        try:
            readable[path] = read_source(path)
        except ValueError as exc:
            problems.append(str(exc).rstrip("."))
    if len(readable) < 2:  # the readable one, saying what is wrong with the other
        return (notebook if notebook in readable else py), "; ".join(problems)
    if readable[py] == readable[notebook]:
        return py, f"{py.name} and {notebook.name} hold the same code"
    stubs = [readable[path].count(_STUB_RAISE) for path in (py, notebook)]
    if stubs[0] != stubs[1]:
        chosen, other = (py, notebook) if stubs[0] < stubs[1] else (notebook, py)
        return chosen, f"{other.name} has more of the released stub left"
    if notebook.stat().st_mtime > py.stat().st_mtime + 1.0:  # a copy's are a moment apart
        return notebook, f"it was changed after {py.name}"
    if py.stat().st_mtime > notebook.stat().st_mtime + 1.0:
        return py, f"it was changed after {notebook.name}"
    return py, ""


def released_sources(release: Path, module: str) -> tuple[str, ...]:
    """The code of the released stub and of its notebook edition, as ``read_source`` gives it."""
    found = []
    for path in (release / module, release / f"{Path(module).stem}.ipynb"):
        try:
            found.append(read_source(path))
        except (OSError, ValueError):
            continue
    return tuple(found)


def _load_submission(
    folder: Path, student: str, module: str, assignment: str, untouched: Sequence[str]
) -> Submission:
    if (folder / assignment).is_symlink():  # it could point anywhere, the solutions included
        problem = f"{assignment}/ in your submission is a symbolic link; submit the folder itself."
        return Submission(student, None, module, problem)
    stem = Path(module).stem
    # nbgrader's <student>/<assignment>/ first, then the folder itself: a student who hands in
    # the release folder (linear/, the stubs) with the finished file beside it is graded on
    # that file, not on the stub inside linear/.
    nested = folder / assignment
    inner = _find(nested, module) + _find(nested, f"{stem}.ipynb") if nested.is_dir() else []
    outer = _find(folder, module) + _find(folder, f"{stem}.ipynb")
    # A set: a folder of thousands of linear/*/linear.py took seconds a thousand, squared.
    in_nested = set(inner)
    candidates = inner + [path for path in outer if path not in in_nested]
    if len(candidates) > 1:
        # The whole release handed in (the .py stub beside the finished notebook, or an old
        # copy in a subfolder): what is still the stub is not what the student wrote, nor is
        # an empty file (an upload that failed).
        stubs = [_code_of(text) for text in untouched]
        edited = [
            path
            for path in candidates
            if not _is_empty(path) and not (stubs and _is_one_of(path, stubs))
        ]
        candidates = edited or candidates[:1]
    passed_over: list[Path] = []  # changed files outside <assignment>/, not graded
    if len(candidates) > 1 and any(path in in_nested for path in candidates):
        # Of the changed ones, those in <assignment>/ (nbgrader's place for it): another
        # assignment's folder may hold a file of the same name.
        passed_over = [path for path in candidates if path not in in_nested]
        candidates = [path for path in candidates if path in in_nested]
    if not candidates:
        present = sorted(p.name for p in _walk(folder) if p.is_file())[:8]
        listing = ", ".join(present) if present else "the folder is empty"
        return Submission(
            student,
            None,
            module,
            f"No {module} (or {stem}.ipynb) was found in your submission ({listing}).",
            missing=True,
        )
    if len(candidates) > 1:
        # As the student laid them out: inside <assignment>/ when all are (nbgrader's layout,
        # and Gradescope's, where the grader itself puts the upload there).
        inside = all(c.is_relative_to(nested) for c in candidates)
        names = ", ".join(str(c.relative_to(nested if inside else folder)) for c in candidates)
        return Submission(
            student,
            None,
            module,
            f"{SEVERAL_FILES} ({names}): hand in exactly one of them.",
        )
    path = candidates[0]
    if _is_empty(path):
        source, problem = None, f"Your {path.name} {EMPTY_UPLOAD}."
        warnings = [f"{path.relative_to(folder)} {EMPTY_UPLOAD}"]
    else:
        try:
            source, problem, warnings = read_source(path), "", []
        except ValueError as exc:
            source, problem, warnings = None, str(exc), []
    # Named, as a copy beside it is (the student's latest work may be the one outside
    # <assignment>/), unless it holds the same code.
    if passed_over and source is not None:
        passed_over = [p for p in passed_over if not _is_one_of(p, [_code_of(source)])]
    notes: list[str] = []
    if passed_over:
        names = ", ".join(str(p.relative_to(folder)) for p in passed_over)
        one = len(passed_over) == 1
        graded = path.relative_to(folder)
        notes.append(
            f"{names} {'was' if one else 'were'} not graded: {graded}, in your {assignment}/ "
            f"folder, was. If {'that file' if one else 'one of them'} is the version you meant, "
            "tell your instructor."
        )
        warnings.append(
            f"graded {graded}, not {names} outside {assignment}/, which "
            f"{'holds' if one else 'hold'} other code (to grade {'that' if one else 'one'} "
            f"instead, put it in place of {graded} and grade again)"
        )
    copies = copies_beside(path, source, module, untouched)
    if copies:
        names = ", ".join(copies)
        one = len(copies) == 1
        notes.append(
            f"{names} beside {path.name} {'was' if one else 'were'} not graded: a file counts "
            f"only under its exact name ({module} or {stem}.ipynb). If "
            f"{'that copy' if one else 'one of them'} is the version you meant, tell your "
            "instructor."
        )
        warnings.append(
            f"graded {path.relative_to(folder)}, not {names} beside it, which "
            f"{'holds' if one else 'hold'} other code (to grade {'that' if one else 'one'} "
            f"instead, rename it {path.name} and grade again)"
        )
    return Submission(
        student,
        source,
        path.name,
        problem,
        beside=files_beside(path) if source is not None else (),
        warning="; ".join(warnings),
        note=" ".join(notes),
    )


# A resubmission saved under another name: Canvas's "linear-1.py", a browser's "linear (1).py"
# or "linear(2).ipynb", Google Drive's "Copy of linear.ipynb", macOS's "linear copy.py",
# Windows's "linear - Copy.py" (and their combinations).
_COPY_MARKS = rf"(?:{RESUBMITTED}| copy(?: \d+)?| - copy(?: \(\d+\))?)*"
MAX_COPIES = 20  # of the copies beside the graded file, the first ones looked at
COMPARED_BYTES = 1024 * 1024  # of those copies, compared with the graded file as code


def copies_beside(
    path: Path, source: str | None, module: str, untouched: Sequence[str]
) -> list[str]:
    """The copies beside ``path`` under another name (``linear-1.py``, ``linear (1).py``,
    ``Copy of linear.ipynb``) that hold other code than it and than the released stub: what
    the student may have meant instead of it. Each with "(saved after linear.py)" if so."""
    stem = Path(module).stem
    copy = re.compile(rf"(?:copy of )?{re.escape(stem)}{_COPY_MARKS}\.(?:py|ipynb)", re.IGNORECASE)
    exact = {module, f"{stem}.ipynb"}
    names = sorted(
        entry.name
        for entry in path.parent.iterdir()
        if entry.name not in exact and copy.fullmatch(entry.name)
    )
    if not names:
        return []  # the usual case: no tokenizing (a class of 1,000 spent 2 s of CPU here)
    # Still the stub, or the same code as the graded file: nothing else to grade.
    known = [_code_of(text) for text in untouched]
    if source is not None:
        known.insert(0, _code_of(source))
    # Telling code apart tokenizes it (seconds a MiB of dense code, in the grader's process):
    # copies are compared so up to COMPARED_BYTES in all, the rest as saved text, so twenty
    # copies of 2 MiB that match the graded file to their last line cost seconds, not 70 s.
    budget = COMPARED_BYTES
    texts = [_saved_as_is(text) for text in (*untouched, *([source] if source else []))]
    found = []
    for name in names[:MAX_COPIES]:
        entry = path.parent / name
        if _is_empty(entry) or entry.is_dir():
            continue
        try:
            size = entry.stat().st_size
        except OSError:
            size = 0
        if size <= budget:
            budget -= size
            if _is_one_of(entry, known):  # (one that cannot be read is still handed in)
                continue
        elif _is_text_of(entry, texts):
            continue
        try:
            later = entry.lstat().st_mtime > path.lstat().st_mtime + 1.0  # copies: a moment apart
        except OSError:
            later = False
        found.append(f"{name} (saved after {path.name})" if later else name)
    return found


def files_beside(path: Path) -> tuple[str, ...]:
    """The names of what lies beside ``path`` in its folder (the first ``MAX_BESIDE``)."""
    names = sorted(
        entry.name
        for entry in path.parent.iterdir()
        if entry.name != path.name and not _IGNORED.match(entry.name) and entry.name.isprintable()
    )
    return tuple(names[:MAX_BESIDE])


def _is_one_of(path: Path, codes: Sequence[tuple[tuple[int, str], ...] | str]) -> bool:
    """Whether ``path`` holds one of ``codes`` (``_code_only`` of released stubs, or of the
    graded file), comments and blank lines aside: a stub from an earlier release whose text or
    markdown changed since (the ``# In[n]`` of a notebook's cells shift with a new markdown
    cell) is still a stub. False if it cannot be read."""
    try:
        text = _saved_as_is(read_source(path))
    except (OSError, ValueError):
        return False
    return any(_same_code(text, code) for code in codes)


def _is_text_of(path: Path, texts: Sequence[str]) -> bool:
    """Whether ``path`` holds one of ``texts`` as saved (``_saved_as_is``), comments and all."""
    try:
        return _saved_as_is(read_source(path)) in texts
    except (OSError, ValueError):
        return False


def _same_code(text: str, code: tuple[tuple[int, str], ...] | str) -> bool:
    """Whether ``text`` (as ``_saved_as_is`` gives it) holds ``code``, tokenized only as far
    as it matches: a file of 2 MiB is not tokenized whole (seconds) to tell it from a stub."""
    if isinstance(code, str):  # what does not tokenize is compared as text
        return text == code
    ours = _tokens_of(text)
    try:
        return all(a == b for a, b in itertools.zip_longest(ours, code))
    except (tokenize.TokenError, SyntaxError):
        return False
    finally:
        ours.close()


@functools.lru_cache(maxsize=8)
def _code_of(source: str) -> tuple[tuple[int, str], ...] | str:
    """``_code_only``, kept: a released stub is tokenized once for the whole class, and a
    graded file once however many files beside it are compared with it."""
    return _code_only(source)


def _code_only(source: str) -> tuple[tuple[int, str], ...] | str:
    """``source``'s tokens but comments and blank lines (itself, if it does not tokenize).

    How the file was saved does not count: Windows line endings (git's autocrlf, Notepad), a
    BOM, spaces at the ends of lines (in a docstring too) or a missing last line break."""
    text = _saved_as_is(source)
    try:
        return tuple(_tokens_of(text))
    except (tokenize.TokenError, SyntaxError):
        return text


def _saved_as_is(source: str) -> str:
    """``source`` without what how it was saved adds (see ``_code_only``)."""
    lines = _LINE_BREAK.split(source.removeprefix("\ufeff"))
    return "".join(line.rstrip() + "\n" for line in lines).rstrip("\n") + "\n"


def _tokens_of(text: str) -> Generator[tuple[int, str], None, None]:
    return (
        (token.type, token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type not in (tokenize.COMMENT, tokenize.NL)
    )


def _is_empty(path: Path) -> bool:
    """A regular file of 0 bytes (not a link: that is refused as one)."""
    return not path.is_symlink() and path.is_file() and path.stat().st_size == 0


def _find(base: Path, name: str) -> list[Path]:
    direct = base / name
    if direct.is_file() or direct.is_symlink():
        return [direct]
    return sorted(path for path in _walk(base) if path.name == name)


def _walk(base: Path) -> Iterator[Path]:
    """What lies within ``_SEARCH_DEPTH`` levels of ``base``, hidden entries and links to
    folders left out; deeper nesting (a hostile submission's 1,200 levels) is never entered."""
    level = [base]
    for _ in range(_SEARCH_DEPTH):
        deeper = []
        for folder in level:
            for entry in sorted(folder.iterdir()):
                if _IGNORED.match(entry.name):
                    continue
                yield entry
                if entry.is_dir() and not entry.is_symlink():
                    deeper.append(entry)
        level = deeper


def read_source(path: Path) -> str:
    """The Python source of a ``.py`` file or a notebook; ``ValueError`` says what is wrong."""
    if path.is_symlink():
        raise ValueError(f"{path.name} is a symbolic link; submit the file itself.")
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path.name} is not a regular file.")
    limit = MAX_NOTEBOOK_BYTES if path.suffix == ".ipynb" else MAX_SOURCE_BYTES
    if info.st_size > limit:
        raise ValueError(f"{path.name} is larger than {limit // 1024} KiB.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        declared = _declared_text(raw) if path.suffix == ".py" else None
        if declared is None:
            raise ValueError(
                f"{path.name} is not UTF-8 text (byte {exc.start} is not); save it as UTF-8 "
                "('Save with Encoding' in most editors)."
            ) from None
        text = declared
    source = notebook_source(text, path.name) if path.suffix == ".ipynb" else text
    try:  # a notebook's JSON can spell a lone surrogate ("\\udcff"), which is no text at all
        size = len(source.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"{path.name} holds characters that are not valid Unicode.") from None
    if size > MAX_SOURCE_BYTES:
        raise ValueError(f"the code in {path.name} is larger than {MAX_SOURCE_BYTES // 1024} KiB.")
    return source


def _declared_text(raw: bytes) -> str | None:
    """A ``.py`` file in the encoding its ``# -*- coding: ... -*-`` line declares (PEP 263),
    as Python itself reads it; None without such a line or if it does not decode."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        return None if encoding in ("utf-8", "utf-8-sig") else raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
MAX_TOKENIZED = 64 * 1024  # characters of a cell read as Python to tell a magic from a "% n"
_CELL_MARK = re.compile(r"# In\[[0-9]+\]")  # as worker.cell_starts finds them
# A function defined in a Markdown or raw cell (names as long as a graded function's).
_DEFINED = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w{0,99})[ \t]*\(", re.M)


def _looks_like_magic(line: str, assigned: bool = True) -> bool:
    """``%magic``, ``!shell``, ``name?`` or (with ``assigned``) ``x = !shell``: IPython
    syntax, if a statement begins there."""
    return (
        line.lstrip().startswith(("%", "!"))
        or bool(_HELP_LINE.match(line))
        or (assigned and bool(_ASSIGNED_MAGIC.match(line)))
    )


# ``files = !ls``, ``t = %time f(x)``: a magic's value assigned to names.
_ASSIGNED_MAGIC = re.compile(r"^\s*[A-Za-z_(\[][^=!%'\"#]*?=\s*[%!]")
_TIMEIT_VALUED = ("-n", "-r", "-p")  # options of %timeit that take a value
BACKSLASH = "\\"  # at the end of a line: it goes on on the next one


def _as_python(line: str) -> str:
    """An IPython line as Python that keeps the cell's blocks intact, as IPython would run it:
    ``%time`` and ``%timeit`` run the code they time (once), ``x = %magic`` and ``x = !shell``
    give None, and any other magic, shell or help line is a ``pass``."""
    indent = line[: len(line) - len(line.lstrip())]
    text = line.strip()
    target = ""
    if _ASSIGNED_MAGIC.match(line):
        at = text.index("=") + 1
        target, text = text[:at] + " ", text[at:].strip()
    name, _, code = text.partition(" ")
    code = code.strip()
    if name == "%timeit":
        while code.startswith("-"):
            option, _, code = code.partition(" ")
            if option in _TIMEIT_VALUED:
                code = code.lstrip().partition(" ")[2]
            code = code.lstrip()
    if name in ("%time", "%timeit") and code:
        # A backslash at the end continues the code on the next line: no comment after it.
        return f"{indent}{target}{code}" + ("" if code.endswith(BACKSLASH) else f"  # ({name})")
    return f"{indent}{target}{'None' if target else 'pass'}  # (IPython line removed) {text}"


def _statement_starts(lines: list[str]) -> set[int] | None:
    """The lines (from 1) on which a statement may begin: not inside brackets or a string
    that spans lines, where a line starting with ``%`` is Python (``'%d' \\n % n``), not a
    magic. None when the cell does not tokenize (then every line counts as a start)."""
    starts: set[int] = set()
    depth, at_start = 0, True
    try:
        for token in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if token.type == tokenize.NEWLINE or (token.type == tokenize.NL and depth == 0):
                at_start = True
                continue
            if token.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                continue
            if at_start:
                starts.add(token.start[0])
                at_start = False
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth = max(depth - 1, 0)
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    # A line of only a comment or nothing starts nothing, but removing it changes nothing.
    return starts | {n for n, line in enumerate(lines, start=1) if not line.strip()}


def _json_values(text: str) -> int:
    r"""About how many values the JSON ``text`` holds: each value but the first of a list or
    object follows a comma, counted outside strings. Escapes go first (``\\``, then ``\"``), so
    every quote left opens or closes a string and blanking them is one linear pass; a pattern
    that skips escapes itself is quadratic on a text of unclosed escaped quotes, and this runs
    in the grader's process."""
    plain = text.replace("\\\\", "").replace('\\"', "")
    outside = _JSON_STRING.sub("", plain)
    del plain
    return sum(outside.count(c) for c in ",[{")


def _lines_of(code: str) -> Iterator[str]:
    """``_LINE_BREAK.split(code)``, one line at a time (Python's own line breaks only:
    splitlines() also breaks at form feeds and U+2028, which may sit inside a string literal).
    A student's own "# In[7]" line gets a space, or it would pass for a cell mark
    (worker.cell_starts)."""
    start = 0
    for match in _LINE_BREAK.finditer(code):
        line = code[start : match.start()]
        yield line + " " if _CELL_MARK.fullmatch(line) else line
        start = match.end()
    line = code[start:]
    yield line + " " if _CELL_MARK.fullmatch(line) else line


def notebook_source(text: str, name: str = "notebook") -> str:
    """The code cells of a notebook as one script; IPython magics and shell lines are dropped.

    Each cell is preceded by a ``# In[n]`` comment so a line number in an error can be traced
    back to its cell. A script that would be larger than ``MAX_SOURCE_BYTES`` is refused as it
    is built: a 60 MiB cell of short lines, split and converted whole, took the grader 2.9 GB.
    """
    invalid = f"{name} is not a valid Jupyter notebook"
    size = 0  # characters of the script so far (each at least a byte), a line break after each

    def spend(chars: int) -> None:
        nonlocal size
        size += chars
        if size > MAX_SOURCE_BYTES:
            raise ValueError(f"the code in {name} is larger than {MAX_SOURCE_BYTES // 1024} KiB.")

    if _json_values(text) > MAX_NOTEBOOK_VALUES:
        raise ValueError(
            f"{name} holds more than {MAX_NOTEBOOK_VALUES:,} JSON values, more than a notebook "
            "needs; clear its outputs (Edit > Clear Outputs of All Cells), save and submit again."
        )
    try:
        notebook = json.loads(text)
    except ValueError:
        raise ValueError(f"{invalid}: it is not JSON.") from None
    except RecursionError:  # '[' * 2000: fails this student, not the whole class's run
        raise ValueError(f"{invalid}: its JSON is nested too deeply.") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    code_key = "source"
    if (
        cells is None
        and isinstance(notebook, dict)
        and isinstance(notebook.get("worksheets"), list)
    ):
        # nbformat 3 (IPython before 2015): the cells of every worksheet, code under "input",
        # as Jupyter and nbgrader read it after upgrading it to nbformat 4.
        sheets = [sheet.get("cells") for sheet in notebook["worksheets"] if isinstance(sheet, dict)]
        lists = [sheet for sheet in sheets if isinstance(sheet, list)]
        if len(lists) == len(sheets):
            cells, code_key = [cell for sheet in lists for cell in sheet], "input"
    if not isinstance(cells, list):
        raise ValueError(f"{invalid}: it has no list of cells.")
    parts = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            continue
        if cell.get("cell_type") != "code":
            # A function written in a Markdown or raw cell (a code cell whose type a key press
            # changed) does not run; a comment naming it lets the feedback say where it is.
            words = cell.get("source")
            if isinstance(words, list) and all(isinstance(line, str) for line in words):
                words = "".join(words)
            if isinstance(words, str):
                # One at a time, each counted as it is added: millions of them are refused
                # before they are all held.
                names: set[str] = set()
                for match in _DEFINED.finditer(words):
                    if match.group(1) not in names:
                        names.add(match.group(1))
                        parts.append(f"# (cell {number}, not run) def {match.group(1)}(")
                        spend(len(parts[-1]) + 1)
            continue
        source = cell.get(code_key, "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            body = "".join(source)
        elif isinstance(source, str):
            body = source
        else:
            raise ValueError(f"{invalid}: the source of cell {number} is not text.")
        header = f"# In[{number}]"
        spend(len(header) + 1)
        code = body.rstrip("\r\n")
        if body:
            # Each line is one of the script's (converted, at least its line break): counted
            # before the cell is split into lines.
            spend(code.count("\n") + code.count("\r") - code.count("\r\n") + 1)
        # A huge cell is read line by line, never held as a list of lines (tens of millions
        # of them in a notebook of 64 MiB): only a cell that is tokenized needs the list.
        lines: Iterable[str] = _lines_of(code) if body else ()
        if len(body) <= MAX_TOKENIZED:
            lines = list(lines)
        first = next((line.strip() for line in _lines_of(code) if line.strip()), "")
        if first.startswith("%%") and first[2:].split(" ")[0] not in _PYTHON_CELL_MAGICS:
            # %%bash, %%html, %%writefile...: the body is not Python; the whole cell goes.
            removed_cell = []
            for line in lines:
                removed_cell.append(f"# (IPython cell removed) {line}")
                spend(len(removed_cell[-1]))
            lines = removed_cell
        else:
            # Tokenizing costs about 1 s a MiB (in the grader, before any grading): only for
            # a cell with a candidate, and not a huge one (there every candidate goes).
            candidates = isinstance(lines, list) and any(map(_looks_like_magic, lines))
            starts = _statement_starts(lines) if candidates and isinstance(lines, list) else None
            # Without statement starts every candidate counts, but only the forms that start
            # with "%" or "!": "name = %s" may be a line of a string.
            converted, continued = [], False
            for at, line in enumerate(lines, start=1):
                if continued:  # "!pip install" continued here, as IPython reads it
                    converted.append(f"# (IPython line removed) {line}")
                    continued = line.endswith(BACKSLASH)
                elif (starts is None or at in starts) and _looks_like_magic(line, bool(starts)):
                    converted.append(_as_python(line))
                    # What a removed line continues on goes too; %time's code keeps its own.
                    removed = "# (IPython line removed)" in converted[-1]
                    continued = removed and line.endswith(BACKSLASH)
                else:
                    converted.append(line)
                spend(len(converted[-1]))
            lines = converted
        parts.append(header + "\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def extract_zip(archive: Path, target: Path) -> None:
    """Extract regular files only, refusing paths that escape ``target`` and zip bombs.

    ``target`` is made readable by its owner alone (0700), its files 0600: a copy of a class's
    work left behind by a grader killed while unpacking (removed on the next run) is as
    private as the rest of the output folder."""
    target.mkdir(parents=True, mode=0o700)
    total = 0
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise UsageError(f"{archive} has more than {MAX_ZIP_MEMBERS} entries")
            for member in members:
                mode = member.external_attr >> 16
                if stat.S_ISLNK(mode):
                    continue
                # Some Windows tools write "alice\\linear.py"; the zip format says "/".
                name = _member_name(member).replace("\\", "/")
                parts = Path(name).parts
                if name.startswith("/") or ".." in parts or not parts:
                    continue
                if len(parts) > MAX_ZIP_DEPTH:  # nothing is looked for that deep anyway
                    continue
                destination = target.joinpath(*parts)
                if not name.endswith("/"):
                    total += member.file_size
                    if total > MAX_ZIP_BYTES:
                        limit = MAX_ZIP_BYTES >> 20
                        raise UsageError(f"{archive} expands to more than {limit} MiB")
                try:
                    if name.endswith("/"):
                        destination.mkdir(parents=True, exist_ok=True)
                        continue
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    _extract_member(bundle, member, destination, archive)
                    _date_as_zipped(destination, member)
                except OSError as exc:
                    if exc.errno not in _BAD_MEMBER_ERRORS:
                        raise  # a full disk: the caller's OutputError
                    raise UsageError(
                        f"cannot extract {member.filename} from {archive} ({exc.strerror}): "
                        "re-create the zip without it and grade again"
                    ) from None
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise UsageError(f"{archive} is not a readable zip file: {exc}") from None


def _date_as_zipped(destination: Path, member: zipfile.ZipInfo) -> None:
    """Give an unpacked file its time in the zip (as ``unzip`` does): which copy was saved
    after the graded file is the zip's to say, not how long unpacking the members between them
    took (a second more or less from run to run changed the feedback in grades.json)."""
    try:
        stamp = time.mktime((*member.date_time, 0, 0, -1))
        os.utime(destination, (stamp, stamp))
    except (OverflowError, ValueError, OSError):  # a date no clock has: the time unpacked
        pass


def _member_name(member: zipfile.ZipInfo) -> str:
    """A member's name as its maker meant it. Without the UTF-8 flag, zipfile reads the bytes
    as cp437, but Info-ZIP's ``zip`` writes UTF-8 without the flag and LMS exports Latin-1:
    read them as UTF-8, else as Latin-1, as folder names are read."""
    if member.flag_bits & 0x800:
        return member.filename
    try:
        raw = member.filename.encode("cp437")
    except UnicodeEncodeError:
        return member.filename
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _extract_member(
    bundle: zipfile.ZipFile, member: zipfile.ZipInfo, destination: Path, archive: Path
) -> None:
    try:
        with bundle.open(member) as src:
            descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(descriptor, "wb") as dst:
                shutil.copyfileobj(src, dst)
    except NotImplementedError:  # before RuntimeError, its base class
        why = f"its compression method ({member.compress_type}) is not supported"
    except RuntimeError:  # zipfile's word for "encrypted, password required"
        why = "it is encrypted"
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        why = f"its data is damaged ({exc})"
    else:
        return
    raise UsageError(
        f"cannot extract {member.filename} from {archive}: {why}; "
        "re-create the zip without it (or with it fixed) and grade again"
    )
