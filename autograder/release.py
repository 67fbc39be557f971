"""``autograder release``: generate the student folder ``assignments/<a>/`` from ``solutions/<a>/``.

What goes out: the module with every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region
replaced by a stub that raises ``NotImplementedError`` naming the task, the same as a Jupyter
notebook (``autograder.notebook``), the public tests from ``solutions/<a>/public/``, the
``README.md`` and the ``rubric.yml``. What never goes out: the
hidden tests, the mutants and the text inside solution regions.

Public tests that could not run for students, or that score no rubric item, stop the release
(``autograder.public_tests``), as does a public file named like one of the files above.

The output is a pure function of the sources, so releasing twice gives identical bytes and
``verify`` can compare the committed folder with a fresh render.
"""

from __future__ import annotations

import ast
import bisect
import contextlib
import ctypes
import difflib
import errno
import io
import os
import re
import shutil
import tokenize
from dataclasses import dataclass
from pathlib import Path

from autograder.course import Assignment
from autograder.errors import ConfigError, OutputError, UsageError, describe
from autograder.limits import GradingLimits, limits_yaml
from autograder.notebook import render_notebook
from autograder.public_tests import check_public_tests
from autograder.report import running
from autograder.rubric import Rubric
from autograder.yamlio import not_utf8

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_DEF = re.compile(r"^(\s*)def\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")
# A comment that was meant as a marker: "## BEGIN SOLUTION", "### END SOLUTION (forward)",
# "### begin solution"; not prose that starts alike ("# End solution notes: ...").
_NEAR_MARKER = re.compile(
    r"#+\s*(BEGIN|END)[\s_-]*SOLUTION\b.*|(?i:#+\s*(begin|end)[\s_-]*solution\s*[:.!-]*)"
)


@dataclass(frozen=True)
class Region:
    """One solution region: 1-based lines of its markers, and the task it belongs to."""

    begin: int
    end: int
    task: str
    text: str


def find_regions(source: str, path: Path) -> list[Region]:
    """The solution regions of ``source``; unbalanced or nested markers are ``ConfigError``.

    A marker is a comment alone on its line: the same text inside a string (a docstring that
    shows how to mark a solution) is the string's, and stays as it is.
    """
    lines = source.splitlines()
    tokens = _comment_lines(source)
    regions: list[Region] = []
    open_at: int | None = None
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if tokens is not None and number not in tokens[0]:
            if marker in (BEGIN, END) and number not in tokens[1]:
                # Neither a comment nor in a string: never skipped without a word (skipping a
                # real marker would ship its region's solution).
                raise ConfigError(path, number, f"{marker!r} is not a comment on its own line")
            continue
        if marker not in (BEGIN, END) and _NEAR_MARKER.fullmatch(marker):
            exact = BEGIN if marker.lstrip("#").strip()[:1].upper() == "B" else END
            raise ConfigError(
                path,
                number,
                f"{marker!r} looks like a solution marker but is not one: write exactly "
                f"'{exact}', alone on its line",
            )
        if marker == BEGIN:
            if open_at is not None:
                raise ConfigError(
                    path, number, f"'{BEGIN}' inside the region opened on line {open_at}"
                )
            open_at = number
        elif marker == END:
            if open_at is None:
                raise ConfigError(path, number, f"'{END}' without a matching '{BEGIN}'")
            body = "\n".join(lines[open_at : number - 1])
            code = [x for x in body.splitlines() if x.strip() and not x.strip().startswith("#")]
            if not code:
                # The stub would raise, and the reference do nothing: nobody could earn a point.
                raise ConfigError(
                    path, open_at, f"the region that starts here (to line {number}) holds no code"
                )
            regions.append(Region(open_at, number, _task(lines, open_at), body))
            open_at = None
    if open_at is not None:
        raise ConfigError(path, open_at, f"'{BEGIN}' is never closed by '{END}'")
    return regions


def _comment_lines(source: str) -> tuple[set[int], set[int]] | None:
    """The lines that hold nothing but a comment, and the lines inside a string, numbered as
    ``str.splitlines`` numbers them (None if ``source`` cannot be tokenized: then every line
    may hold a marker, and the stub's compile check judges the result).

    tokenize counts rows at ``\n`` only; ``splitlines`` also breaks at a form feed (a PEP 8
    page break) and other separators, so each token's place is mapped across.
    """
    rows = [0, *(match.end() for match in re.finditer("\n", source))]
    starts, offset = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(offset)
        offset += len(line)

    def number(row: int, column: int) -> int:
        return bisect.bisect_right(starts, rows[row - 1] + column)

    comments: set[int] = set()
    strings: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT and not token.line[: token.start[1]].strip():
                comments.add(number(*token.start))
            elif token.type == tokenize.STRING or token.type == getattr(
                tokenize, "FSTRING_MIDDLE", -1
            ):
                strings.update(range(number(*token.start), number(*token.end) + 1))
    except (tokenize.TokenError, SyntaxError):
        return None
    return comments, strings


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _task(lines: list[str], begin: int) -> str:
    """The function a region belongs to: the nearest enclosing ``def`` above it."""
    indent = len(lines[begin - 1]) - len(lines[begin - 1].lstrip())
    for line in reversed(lines[: begin - 1]):
        match = _DEF.match(line)
        if match and len(match.group(1)) < indent:
            return match.group(2)
    return "this part"


def stub_source(source: str, path: Path) -> str:
    """``source`` with every solution region replaced by a ``NotImplementedError`` stub.

    A reference without any region, or whose stub would not be valid Python (a marker
    indented differently from the code it replaces, a region inside an expression) or would
    raise as it is imported (a region outside any function), is a ``ConfigError`` naming the
    region: releasing it would hand out the solution or a stub that cannot even be imported.
    """
    regions = find_regions(source, path)
    if not regions:
        raise ConfigError(
            path,
            None,
            f"no '{BEGIN}' ... '{END}' region: the release would be the whole solution. Mark "
            "the code students write (see solutions/linear/linear.py)",
        )
    lines = source.splitlines()
    out: list[str] = []
    stub_lines: list[tuple[int, Region]] = []  # (line of the stub's raise, its region)
    cursor = 1
    for region in regions:
        out.extend(lines[cursor - 1 : region.begin - 1])
        indent = _indent(lines[region.begin - 1])
        out.append(f"{indent}# YOUR CODE HERE")
        out.append(f'{indent}raise NotImplementedError("{region.task}: not implemented yet")')
        stub_lines.append((len(out), region))
        cursor = region.end + 1
    out.extend(lines[cursor - 1 :])
    stub = "\n".join(out) + ("\n" if source.endswith("\n") else "")
    try:
        compile(stub, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        where = getattr(exc, "lineno", None) or 0
        # The region whose stub is nearest the error (a region inside an expression makes
        # Python point at the bracket above it).
        region = min(stub_lines, key=lambda pair: abs(pair[0] - where))[1]
        message = getattr(exc, "msg", str(exc))
        raise ConfigError(
            path,
            region.begin,
            f"the stub made from this region is not valid Python ({message}, line {where} of "
            "the stub): is the marker indented like the code it replaces, and does the region "
            "hold whole statements, not part of an expression?",
        ) from None
    in_functions = {
        node.lineno
        for function in ast.walk(ast.parse(stub))
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Raise)
    }
    for line, region in stub_lines:
        if line not in in_functions:
            raise ConfigError(
                path,
                region.begin,
                "this region is not inside a function: its stub would raise NotImplementedError "
                "as the module is imported (at the top level or in a class body), so no "
                "student could even import the release. Mark code inside the function "
                "students write",
            )
    for region in regions:  # harmless to the stub, but a sign the region is not what was meant
        if _indent(lines[region.end - 1]) != _indent(lines[region.begin - 1]):
            raise ConfigError(
                path,
                region.end,
                f"'{END}' is indented differently from its '{BEGIN}' on line {region.begin}: "
                "indent both markers like the statements they enclose",
            )
    return stub


def render(assignment: Assignment) -> dict[str, bytes]:
    """The release as ``{relative path: content}``, computed without touching the disk."""
    rubric = assignment.rubric()
    solution = assignment.solution_dir
    reference = solution / rubric.module
    stub = stub_source(assignment.reference_source(rubric), reference)
    files: dict[str, bytes] = {
        rubric.module: stub.encode(),
        "rubric.yml": _released_rubric(rubric.path.read_bytes(), assignment.limits),
    }
    readme = solution / "README.md"
    readme_text = _read_readme(readme) if readme.exists() else f"# {rubric.title}\n"
    _check_handout_sections(rubric, readme_text, readme)
    files["README.md"] = readme_text.encode()
    notebook = render_notebook(readme_text, stub, rubric.module)
    files[f"{rubric.module_stem}.ipynb"] = notebook.encode()
    generated = {
        rubric.module: "the stub made from the reference",
        "rubric.yml": "the rubric (with the course's limits)",
        "README.md": "the handout (from solutions/{name}/README.md)",
        f"{rubric.module_stem}.ipynb": "the notebook edition",
    }
    taken = {name.casefold(): name for name in generated}  # one file on macOS and Windows
    public = assignment.public_tests_dir
    if public.is_dir():
        for path in sorted(public.rglob("*")):
            relative = path.relative_to(public)
            if not path.is_file() or ignored_in_release(relative):
                continue
            # A folder named like one (public/linear.py/x) cannot be written beside it either.
            clash = taken.get(relative.parts[0].casefold())
            if clash is not None:
                what = generated[clash].format(name=assignment.name)
                raise ConfigError(
                    path,
                    None,
                    f"this public file would replace {clash} in the release ({what}, which "
                    "release generates): rename or remove it",
                )
            files[str(relative)] = path.read_bytes()
    return files


def handout_sections(text: str) -> list[str]:
    """The headings of a Markdown handout, without their ``#`` (fenced code left out)."""
    sections, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and re.match(r"^#{1,6}\s", line):
            sections.append(line.lstrip("#").strip())
    return sections


def _check_handout_sections(rubric: Rubric, readme_text: str, readme: Path) -> None:
    """An item's ``handout`` names a section of the handout: its heading, or how it starts
    ("3. The weight gradient" for "3. The weight gradient $\\partial L/\\partial W$")."""
    sections = handout_sections(readme_text)
    for item in rubric.items:
        name = item.handout
        if name and not readme.exists():
            # Without one the release's handout is the title alone: its headings would mislead.
            raise ConfigError(
                rubric.path,
                item.line,
                f"item '{item.id}': handout: '{name}' names a section of the handout, but "
                f"there is no {readme}: write the handout there",
            )
        if name and not any(s == name or s.startswith(name + " ") for s in sections):
            listed = "; ".join(f'"{s}"' for s in sections[:12]) or "none"
            if len(sections) > 12:
                listed += f"; ... ({len(sections)} in all)"
            # A typo ("3. The weight gradients"): the heading it is closest to, by how it starts.
            starts = {s[: len(name)]: s for s in reversed(sections)}
            close = difflib.get_close_matches(name, list(starts), n=1, cutoff=0.8)
            meant = f' Did you mean "{starts[close[0]]}"?' if close else ""
            raise ConfigError(
                rubric.path,
                item.line,
                f"item '{item.id}': handout: '{name}' is no section of {readme.name} "
                f"(give a heading, or how one starts; its headings: {listed}).{meant}",
            )


def _read_readme(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc, "the README") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read the README: {describe(exc)}") from None


def _released_rubric(source: bytes, limits: GradingLimits) -> bytes:
    """The instructor's rubric.yml as it is, then the limits ``check`` runs the student under."""
    text = source.decode("utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    text += (
        "\n# Written by 'autograder release' from course.yml: the limits your code is graded\n"
        "# with (seconds, MiB, KiB); 'autograder check' runs it under them too.\n"
    )
    return (text + limits_yaml(limits)).encode()


def prepare_release(assignment: Assignment, warnings: list[str] | None = None) -> dict[str, bytes]:
    """The files of ``assignments/<a>/``, checked (the public tests collect), not written:
    ``ConfigError`` says what in the sources is wrong; what is allowed but likely not meant
    is added to ``warnings``."""
    files = render(assignment)
    found = check_public_tests(assignment, assignment.rubric(), files)
    readme = assignment.solution_dir / "README.md"
    if not readme.exists():  # allowed (a course taught from slides), but students get no text
        found.append(
            f"{readme} does not exist: the released handout (README.md and the notebook's "
            "text) is only the assignment's title"
        )
    if warnings is not None:
        warnings.extend(found)
    return files


def release(
    assignment: Assignment, files: dict[str, bytes] | None = None
) -> tuple[list[str], list[str]]:
    """Write ``assignments/<a>/`` from its sources (or ``files``, from ``prepare_release``),
    replacing what was there; return the files written and the files that were there but are
    no release's (removed with the old folder: what students need belongs in
    ``solutions/<a>/public/``).

    A failure to write (a full disk, no permission) raises ``OutputError`` and leaves the
    previous release as it was.
    """
    if files is None:
        files = prepare_release(assignment)
    target = assignment.release_dir
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is not a folder: move it out of the way and release again")
    removed = sorted(
        str(path.relative_to(target))
        for path in (target.rglob("*") if target.is_dir() else [])
        if path.is_file()
        and not ignored_in_release(path.relative_to(target))
        and str(path.relative_to(target)) not in files
    )
    try:
        _swap_in(target, files, assignment.name)
    except OSError as exc:
        what = describe(exc)
        raise OutputError(f"cannot write the release in {target} ({what})") from None
    return sorted(files), removed


def _swap_in(target: Path, files: dict[str, bytes], name: str) -> None:
    """Write ``files`` into a new folder beside ``target``, then swap it in: a student never
    sees a half-written release, and ``target`` is never missing, however the release stops.

    The new folder is ``.<name>.<pid>.tmp``: one that a release killed while it wrote (SIGKILL)
    left is removed by the next release, as its process is gone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(target.parent, name)
    staging = target.parent / f".{name}.{os.getpid()}.tmp"
    try:
        staging.mkdir()
        # A release is for students to read: folders as the umask lets mkdir make them.
        for relative, content in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        if target.exists() and _exchange(staging, target):
            return  # staging holds the previous release now: removed below
        old = target.with_name(f".{name}.old")
        if old.exists():
            shutil.rmtree(old)
        try:
            if target.exists():
                target.rename(old)
            staging.rename(target)
        except BaseException:  # Ctrl-C, or the rename failed: the previous release goes back
            if old.exists() and not target.exists():
                old.rename(target)
            raise
        _remove(old)
    finally:
        _remove(staging)


def _remove(folder: Path) -> None:
    """Remove ``folder`` (a previous release swapped out, or a new one not swapped in) if it
    is there, as far as it can be: the release is done or has failed by then, and a file that
    cannot be deleted (made immutable) must neither report a release in place as failed nor
    replace the error of one that failed. The next release tries again."""
    with contextlib.suppress(OSError):
        if folder.exists():
            shutil.rmtree(folder)


_STAGING = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.tmp")


def remove_abandoned_staging(folder: Path, name: str) -> None:
    """Remove the folders ``_swap_in`` of a release of ``name`` killed while it wrote (SIGKILL)
    left in ``folder``; not those of a release that is running."""
    for entry in folder.iterdir():
        found = _STAGING.fullmatch(entry.name)
        pid = int(found["pid"]) if found else 0
        if not found or found["name"] != name or (pid != os.getpid() and running(pid)):
            continue  # (of our own pid: a killed release whose pid the system gave us)
        if entry.is_dir() and not entry.is_symlink():
            _remove(entry)


_RENAME_EXCHANGE = 2  # renameat2(2)'s flag: swap two paths in one step
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap ``first`` and ``second`` in one step (Linux's renameat2 with RENAME_EXCHANGE);
    False where the system or the filesystem cannot (then nothing was done)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):  # not Linux, or a C library without it (glibc < 2.28)
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    if renameat2(_AT_FDCWD, bytes(first), _AT_FDCWD, bytes(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # not on this filesystem or kernel
        return False
    raise OSError(code, os.strerror(code), str(second))


def ignored_in_release(relative: Path) -> bool:
    """Caches that running pytest in a release leaves behind are not part of it."""
    return any(part == "__pycache__" or part.startswith(".") for part in relative.parts)


def diff_release(assignment: Assignment, expected: dict[str, bytes] | None = None) -> list[str]:
    """Problems that make the committed release differ from a fresh render (``expected``, if
    the caller has it already; empty = in sync)."""
    if expected is None:
        expected = render(assignment)
    target = assignment.release_dir
    hint = f"(run: autograder release {assignment.name})"
    problems = []
    actual = {
        str(p.relative_to(target)): p
        for p in (target.rglob("*") if target.is_dir() else [])
        if p.is_file() and not ignored_in_release(p.relative_to(target))
    }
    for name, content in sorted(expected.items()):
        if name not in actual:
            problems.append(
                f"{target / name} is missing (run: autograder release {assignment.name})"
            )
        elif actual[name].read_bytes() != content:
            problems.append(f"{target / name} differs from its source {hint}")
    for name in sorted(set(actual) - set(expected)):
        problems.append(f"{target / name} is not produced by the release (remove it)")
    return problems
