"""Writing grades: ``grades.json``, ``grades.csv`` and ``feedback/<student>.md``.

Every file is written to a temporary name in the same folder and renamed over the old one, so
a reader (or a grader killed mid-write) only ever sees the old complete file or the new one.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import errno
import hashlib
import io
import json
import os
import re
import signal
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from autograder.errors import UsageError
from autograder.rubric import Rubric
from autograder.scoring import STATUS_GRADED, StudentGrade, shown_summary, without_total


def atomic_write(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace ``path`` with ``text`` so that no reader ever sees a partial file."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data``: write a temporary file, fsync, rename over.

    Without ``durable`` there is no fsync: readers and a killed process still only ever see
    the old or the new file, but after a crash of the machine the new one may be empty until
    the caller has run ``sync_filesystem`` (``grade`` does, before writing grades.json).
    The temporary file is ``.<name>.<pid>.tmp`` beside it (mode 0600), so two processes never
    share one; ``remove_stale_temporaries`` clears those a killed process left.
    """
    atomic_replace([(path, data)], durable=durable)


def atomic_replace(files: Sequence[tuple[Path, bytes]], *, durable: bool = True) -> None:
    """Replace each ``path`` with its ``data``; every file is written before any is renamed.

    If one cannot be written (a full disk, say), none is replaced and no temporary is left:
    files that belong together (grades.csv and grades.json) never end up one old, one new.
    Nor can Ctrl-C, SIGTERM or SIGHUP between the renames (they wait for the last), or a
    rename that fails (a file made immutable, a folder in the way): the files it already
    replaced are put back. Only SIGKILL between two renames, microseconds apart, can.
    """
    written: list[tuple[Path, Path]] = []
    try:
        for path, data in files:
            tmp = temporary_for(path)
            try:
                _write_new(tmp, data, durable=durable)
            except OSError as exc:
                if exc.filename not in (None, str(tmp)):  # its folder, say: named as it is
                    raise
                # The user asked for ``path``: a message names it, not our temporary.
                raise OSError(exc.errno, exc.strerror, str(path)) from None
            written.append((tmp, path))
        if len(written) == 1:
            _rename(*written[0])
        else:
            with signals_held():
                _rename_together(written)
    except BaseException:
        for tmp, _ in written:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise


def _rename(tmp: Path, path: Path) -> None:
    try:
        os.replace(tmp, path)
    except OSError as exc:  # name what is in the way (a folder), not our temporary
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def _rename_together(written: Sequence[tuple[Path, Path]]) -> None:
    """Rename each temporary over its file; if one rename fails, put back the files renamed
    over before it (from a hard link to each, made first where the filesystem allows), and
    remove those that were not there before (a first run's grades.csv without its json)."""
    kept: dict[Path, Path] = {}  # file -> a link to its old version
    new = {path for _, path in written if not os.path.lexists(path)}
    try:
        for _, path in written:
            old = temporary_for(path.with_name(f"{path.name}.old"))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(old)  # a killed process's that had our pid
            with contextlib.suppress(OSError):  # no file yet, or no hard links on this filesystem
                os.link(path, old)
                kept[path] = old
        done: list[Path] = []
        try:
            for tmp, path in written:
                _rename(tmp, path)
                done.append(path)
        except OSError:
            for path in done:
                with contextlib.suppress(OSError):
                    if path in kept:
                        os.replace(kept.pop(path), path)
                    elif path in new:
                        os.unlink(path)
            raise
    finally:
        for old in kept.values():
            with contextlib.suppress(OSError):
                os.unlink(old)


_HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP wait until the block is done, then act as they would have
    (``KeyboardInterrupt``, the CLI's ``Terminated``, or the default action): for steps that
    must not stop half-way. An ignored signal stays ignored (``nohup``). In the main thread
    only, where Python runs signal handlers; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    before: dict[int, Any] = {}
    holding = [True]

    def hold(number: int, frame: Any) -> None:
        if holding:
            held.append(number)
        else:  # the block is over but this handler not yet replaced: act as the one it replaced
            _act_as(before[number], number, frame)

    # A signal can arrive between any two of these steps, its handler raising there (Ctrl-C):
    # one of ours left installed must then not hold, that is drop, every later signal.
    try:
        for signum in _HELD:
            handler = signal.getsignal(signum)
            if handler is signal.SIG_IGN or handler is None:
                continue
            before[signum] = handler
            signal.signal(signum, hold)
        yield
    finally:
        holding.clear()
        for number, handler in before.items():
            signal.signal(number, handler)
        if held:
            _act_as(before[held[0]], held[0], None)


def _act_as(handler: Any, number: int, frame: Any) -> None:
    """What the signal ``number`` does with ``handler`` (a function, or ``SIG_DFL``)."""
    if handler is signal.SIG_DFL:
        signal.signal(number, signal.SIG_DFL)
        signal.raise_signal(number)
    else:
        handler(number, frame)


def temporary_for(path: Path) -> Path:
    """Where this process writes ``path`` before renaming it: ``.<name>.<pid>.tmp`` beside it."""
    return path.parent / f".{_short(path.name, 200)}.{os.getpid()}.tmp"


def remove_abandoned_temporaries(path: Path) -> int:
    """Delete the temporaries of ``path`` (``temporary_for``) that a process killed while
    writing it left behind, and sqlite's journals of them; how many. One whose process is
    still running is another run's, writing now: it is left alone. For files written one at
    a time (an export's), in folders that are the user's: only these exact names go."""
    own = re.compile(rf"\.{re.escape(_short(path.name, 200))}\.([0-9]+)\.tmp(?:-journal)?")
    removed = 0
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            match = own.fullmatch(entry.name)
            if match and not running(int(match.group(1))) and not entry.is_symlink():
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed += 1
    return removed


def running(pid: int) -> bool:
    """Whether a process ``pid`` is running (a temporary named for it is still being written)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # no such process; a pid no process can have
        return False
    except PermissionError:  # another user's process
        pass
    return True


def _short(name: str, limit: int) -> str:
    """``name`` if it fits in ``limit`` bytes, else a prefix of it plus a hash of all of it
    (a file name may have 255 bytes; a student's folder name can use them all)."""
    if len(name.encode()) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    prefix = name.encode()[: limit - 17].decode("utf-8", "ignore")
    return f"{prefix}-{digest}"


def gradescope_path(out: Path, student: str) -> Path:
    """``out/gradescope/<student>/results.json``, the folder name shortened like feedback's."""
    return out / "gradescope" / _short(student, 240) / "results.json"


def feedback_path(out: Path, student: str) -> Path:
    """``out/feedback/<student>.md``; a student id too long for a file name is shortened."""
    return out / "feedback" / f"{_short(student, 240)}.md"


def private_folder(path: Path) -> None:
    """``path`` and any missing folder above it, made mode 0700 (a folder that is there
    already keeps its mode): the names in ``--out`` are student ids."""
    missing = []
    while not path.is_dir():
        if path.exists():  # a file where a folder should be
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            if not folder.is_dir():  # a file in the way: the caller's error names it
                raise


def _write_new(tmp: Path, data: bytes, *, durable: bool) -> None:
    """Write ``tmp`` (mode 0600, creating its folder if need be); on failure remove it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileNotFoundError:
        private_folder(tmp.parent)
        fd = os.open(tmp, flags, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def grade_to_json(grade: StudentGrade) -> dict[str, Any]:
    return {
        "score": grade.score,
        "max_score": grade.max_score,
        "status": grade.status,
        "items": {
            item.id: {"score": item.score, "max_score": item.max_score, "feedback": item.feedback}
            for item in grade.items
        },
        "feedback": grade.feedback,
    }


def gradebook_json(rubric: Rubric, grades: Iterable[StudentGrade]) -> str:
    """The ``grades.json`` contract (README, "Grading"), students sorted by id."""
    document = {
        "assignment": rubric.assignment,
        "max_score": rubric.max_score,
        "students": {g.student: grade_to_json(g) for g in sorted(grades, key=lambda g: g.student)},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def gradebook_csv(rubric: Rubric, grades: Iterable[StudentGrade]) -> str:
    """One row per student, one column per rubric item; RFC 4180 lines (CRLF), so that a field
    with a lone CR (a student folder's name may hold one) is quoted too (csv quotes a field
    holding a character of the line terminator)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["student", "status", "score", "max_score", *rubric.ids])
    for grade in sorted(grades, key=lambda g: g.student):
        scores = {item.id: item.score for item in grade.items}
        writer.writerow(
            [
                spreadsheet_safe(grade.student),
                grade.status,
                _num(grade.score),
                _num(grade.max_score),
                *(_num(scores.get(i, 0.0)) for i in rubric.ids),
            ]
        )
    return buffer.getvalue()


def spreadsheet_safe(text: str) -> str:
    """A student id a spreadsheet will show as text: one that starts like a formula (``=``,
    ``+``, ``-``, ``@``, tab, CR; a folder name is the student's choice) gets a leading ``'``."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


# What makes Markdown anywhere in a line: code spans, emphasis, links and images (each needs
# brackets, so parentheses stay plain), HTML and autolinks, GFM tables and strikethrough,
# entity references. Everything else stays as written, so the raw page reads "(3, 4)".
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~&])")
# What makes Markdown only at the start of a line (">" is escaped everywhere): headings, list
# items (a bullet, or "1." / "1)"), setext underlines and rules.
_LINE_START = re.compile(r"^(\s*)(\d+[.)]|[#+=-])")


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown: what a student's code wrote cannot become formatting.

    Feedback quotes exception messages and type names that come from student code; escaped,
    they cannot forge a heading, a score line, a link or HTML. The list bullets the grader
    itself writes ("- " at the start of a line) stay bullets, and a line followed by another
    that is not a bullet ends in a line break (two spaces), as it does in plain text: a
    renderer would join "... No module named 'matplotlib'" and the "Hint: ..." under it.
    """
    lines = []
    for line in text.splitlines():
        bullet = "- " if line.startswith("- ") else ""
        body = _MARKDOWN.sub(r"\\\1", line[len(bullet) :])
        # (A list item's text is a block too: "- # x" would be a heading in a bullet.)
        body = _LINE_START.sub(lambda m: f"{m[1]}{m[2][:-1]}\\{m[2][-1]}", body)
        lines.append(bullet + body)
    for n in range(len(lines) - 1):
        if lines[n].strip() and lines[n + 1].strip() and not lines[n + 1].startswith("- "):
            lines[n] += "  "
    return "\n".join(lines)


def feedback_markdown(rubric: Rubric, grade: StudentGrade, *, before_due: bool = False) -> str:
    """The student's feedback page. Items with visibility ``hidden`` are left out, and so are
    ``after_due_date`` ones while ``before_due`` (graded before the assignment's due date).
    Their points count in the score, which is therefore not shown while they are not (as on
    Gradescope: a total would tell what they hide)."""
    shown = [
        item.id
        for item in grade.items
        if not (item.visibility == "hidden" or (item.visibility == "after_due_date" and before_due))
    ]
    total = (
        f"{_num(grade.score)} / {_num(grade.max_score)}"
        if len(shown) == len(grade.items)
        else "not shown (some items are not shown here)"
    )
    lines = [
        f"# {rubric.title}: feedback for {markdown_text(grade.student)}",
        "",
        f"**Score: {total}**",
        "",
        markdown_text(without_total(shown_summary(grade, shown))),
        "",
    ]
    for item in grade.items:
        if item.id not in shown:
            continue
        mark = "✅" if item.score == item.max_score else ("❌" if item.score == 0 else "⚠️")
        lines += [
            f"## {mark} {item.title} (`{item.id}`): {_num(item.score)} / {_num(item.max_score)}",
            "",
            markdown_text(item.feedback),
            "",
        ]
    if grade.status == STATUS_GRADED and grade.output.strip():
        printed = grade.output if len(grade.output) <= 4000 else grade.output[:4000] + "\n[...]"
        lines += ["## What your code printed", "", "```", printed.replace("```", "'''"), "```", ""]
    return "\n".join(lines)


def gradescope_results(rubric: Rubric, grade: StudentGrade) -> dict[str, Any]:
    """Gradescope's ``results.json`` for one submission: one test entry per rubric item.

    Item visibility maps onto Gradescope's own (``visible``, ``hidden``, ``after_due_date``,
    ``after_published``), so Gradescope enforces it; what the student printed stays hidden. The
    summary at the top, shown at once, names neither the total nor the items that are not
    ``visible`` while there are any (Gradescope itself then hides the total score).
    """
    tests = []
    for number, item in enumerate(grade.items, start=1):
        tests.append(
            {
                "name": f"{item.title} ({item.id})",
                "number": str(number),
                "score": item.score,
                "max_score": item.max_score,
                "status": "passed" if item.score == item.max_score else "failed",
                "output": markdown_text(item.feedback),  # as on the feedback page
                "output_format": "md",
                "visibility": item.visibility,
            }
        )
    return {
        "score": grade.score,
        "output": markdown_text(
            shown_summary(grade, [i.id for i in grade.items if i.visibility == "visible"])
        ),
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_student_reports(
    out: Path,
    rubric: Rubric,
    grade: StudentGrade,
    *,
    durable: bool = True,
    before_due: bool = False,
) -> None:
    """One student's feedback page and Gradescope results, each replaced atomically."""
    feedback = feedback_markdown(rubric, grade, before_due=before_due)
    atomic_write(feedback_path(out, grade.student), feedback, durable=durable)
    # One line: Gradescope reads it, and numbers of students times this file add up (the
    # indented form costs pure-Python encoding, about 10x slower).
    results = json.dumps(gradescope_results(rubric, grade), ensure_ascii=False)
    atomic_write(gradescope_path(out, grade.student), results + "\n", durable=durable)


# ``.<name>.<pid>.tmp``, as atomic_replace names them
_TEMPORARY = re.compile(r"^\..+\.[0-9]+\.tmp$")


REPORTED = "reported.json"  # in OUT/.autograder: the students whose reports are in OUT


def reported_students(out: Path) -> list[str]:
    """The students ``OUT/.autograder/reported.json`` lists: those whose reports are in OUT."""
    try:
        earlier = json.loads((out / ".autograder" / REPORTED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(earlier, list):
        return []
    # Only names a student folder can have: an entry with a "/" (or "..") names no report of
    # ours, and removing "its" reports would reach outside --out.
    return [s for s in earlier if isinstance(s, str) and _could_be_student(s)]


def _could_be_student(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name


def note_reports(out: Path, students: Sequence[str]) -> None:
    """Add ``students`` to ``reported.json`` before their reports are written, so that a run
    killed half-way leaves no report the next run does not know it wrote."""
    listed = set(reported_students(out))
    if not listed.issuperset(students):
        atomic_write(
            out / ".autograder" / REPORTED,
            json.dumps(sorted(listed | set(students)), ensure_ascii=False) + "\n",
        )


def remove_reports_of_others(out: Path, students: Sequence[str]) -> int:
    """Remove the feedback pages and Gradescope results of students no longer in the class
    (renamed, removed): published, they would still carry an old grade. Only reports this
    grader wrote, as ``OUT/.autograder/reported.json`` lists them, are touched (``--out`` may
    hold other files of the same kind); the list is then replaced by ``students``. How many
    files were removed."""
    current = set(students)
    removed = 0
    for student in reported_students(out):
        if student in current:
            continue
        page = feedback_path(out, student)
        result = gradescope_path(out, student)
        for path in (page, result):
            if path.is_file() and not path.is_symlink():
                path.unlink()
                removed += 1
        if not result.parent.is_symlink():
            with contextlib.suppress(OSError):
                result.parent.rmdir()  # only if nothing else is in it
    atomic_write(
        out / ".autograder" / REPORTED, json.dumps(sorted(current), ensure_ascii=False) + "\n"
    )
    return removed


def remove_stale_temporaries(out: Path) -> int:
    """Delete what ``atomic_write`` left when the process was killed mid-write; how many.

    Only in the folders the grader writes (``out``, its ``.autograder``, ``feedback`` and
    ``gradescope/<id>``), and only names of its own making: ``--out`` may be a folder that
    holds other things too.
    """
    folders = [out, out / ".autograder", out / "feedback"]
    if (out / "gradescope").is_dir():
        folders += [p for p in (out / "gradescope").iterdir() if p.is_dir() and not p.is_symlink()]
    removed = 0
    for folder in folders:
        if not folder.is_dir() or folder.is_symlink():
            continue
        for stale in folder.iterdir():
            if _TEMPORARY.match(stale.name) and stale.is_file() and not stale.is_symlink():
                stale.unlink()
                removed += 1
    return removed


def sync_filesystem(path: Path) -> None:
    """Flush everything written to the filesystem holding ``path`` (syncfs; else sync)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if libc.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass
    os.sync()


def write_gradebooks(out: Path, rubric: Rubric, grades: Sequence[StudentGrade]) -> None:
    """grades.csv and grades.json, both written before either replaces its old file; grades.json
    last (its presence means the run's files are written)."""
    atomic_replace(
        [
            (out / "grades.csv", gradebook_csv(rubric, grades).encode("utf-8")),
            (out / "grades.json", gradebook_json(rubric, grades).encode("utf-8")),
        ]
    )


def write_reports(out: Path, rubric: Rubric, grades: Sequence[StudentGrade]) -> None:
    """Write every report for a finished run; each file is replaced atomically."""
    for grade in grades:
        write_student_reports(out, rubric, grade)
    write_gradebooks(out, rubric, grades)


def _num(value: float) -> str:
    return f"{value:g}"


def read_grades(grades_json: Path) -> dict[str, Any]:
    """grades.json as written by ``grade``; ``UsageError`` says what is wrong with it."""
    try:
        document = json.loads(grades_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{grades_json} does not exist: run 'autograder grade' first") from None
    except OSError as exc:
        raise UsageError(f"cannot read {grades_json}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(f"{grades_json} is not valid JSON: {exc}") from None
    except RecursionError:  # "[[[[...": more levels than Python's parser goes down
        raise UsageError(
            f"{grades_json} is not a grades.json written by 'autograder grade' (it is nested "
            "deeper than the JSON parser can read)"
        ) from None
    students = document.get("students") if isinstance(document, dict) else None
    if not isinstance(students, dict) or not all(
        isinstance(record, dict) and isinstance(record.get("items", {}), dict)
        for record in students.values()
    ):
        raise UsageError(
            f"{grades_json} is not a grades.json written by 'autograder grade' "
            '(expected {"assignment", "students": {id: {"items": {...}}}})'
        )
    return document
