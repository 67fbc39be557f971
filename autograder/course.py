"""``course.yml``: the course, its secret, its assignments, their due dates and limits.

Example::

    name: Backpropagation by hand
    secret:
      env: AUTOGRADER_SECRET        # used when this environment variable is set
      file: .autograder/secret      # otherwise read from here (created, 0600, on first use)
    limits:                          # defaults for every assignment
      call_timeout: 10               # seconds of wall time per call into student code
      memory_mb: 512
    assignments:
      linear:
        title: Backprop through a linear layer
        due: 2026-12-11T23:59:00+00:00
        limits: {call_timeout: 5}    # overrides for this assignment

Paths are relative to the folder holding course.yml. An assignment ``a`` has its instructor
files in ``solutions/a/`` and its generated student release in ``assignments/a/``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import ConfigError, UsageError, describe
from autograder.limits import GradingLimits, read_limits
from autograder.rubric import TAKEN_MODULE_NAMES, Rubric, load_rubric
from autograder.yamlio import LocatedDict, Reader, load_yaml, not_utf8


@dataclass(frozen=True)
class SecretSource:
    env: str = "AUTOGRADER_SECRET"
    file: str = ".autograder/secret"


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    due: dt.datetime | None
    limits: GradingLimits
    root: Path
    # Where course.yml names it: a missing solutions/<a>/ is reported there, when this
    # assignment is used (another assignment's missing folder stops nothing).
    course_path: Path | None = None
    line: int | None = None

    @property
    def solution_dir(self) -> Path:
        return self.root / "solutions" / self.name

    @property
    def release_dir(self) -> Path:
        return self.root / "assignments" / self.name

    @property
    def rubric_path(self) -> Path:
        return self.solution_dir / "rubric.yml"

    @property
    def hidden_tests_dir(self) -> Path:
        return self.solution_dir / "tests"

    @property
    def public_tests_dir(self) -> Path:
        return self.solution_dir / "public"

    @property
    def mutants_dir(self) -> Path:
        return self.solution_dir / "mutants"

    def rubric(self) -> Rubric:
        if not self.solution_dir.is_dir():
            problem = f"assignment '{self.name}' has no folder solutions/{self.name}/"
            raise ConfigError(self.course_path or self.root / "course.yml", self.line, problem)
        rubric = load_rubric(self.rubric_path)
        if rubric.assignment != self.name:
            raise ConfigError(
                rubric.path,
                rubric.assignment_line,
                f"rubric is for '{rubric.assignment}' but lives in solutions/{self.name}",
            )
        if rubric.limits is not None:  # grading would ignore them: say where they go
            raise ConfigError(
                rubric.path,
                rubric.limits_line,
                f"limits are set in course.yml (limits:, or assignments: {self.name}: limits:); "
                "release writes them into the student's rubric.yml",
            )
        return rubric

    @property
    def reference_path(self) -> Path:
        return self.solution_dir / self.rubric().module

    def reference_source(self, rubric: Rubric) -> str:
        """The reference solution's text, checked to be a readable file of valid Python."""
        path = self.solution_dir / rubric.module
        if not path.exists() and not path.is_symlink():
            there = sorted(p.name for p in self.solution_dir.glob("*.py"))
            raise ConfigError(
                path,
                None,
                f"the reference module does not exist (rubric.yml names it in 'module:'; "
                f"the .py files in {self.solution_dir.name}/: {', '.join(there) or 'none'})",
            )
        return read_python(path, "the reference module")

    def check_hidden_tests(self) -> None:
        """Before a run: the hidden tests exist and parse (``ConfigError`` at the bad line).

        pytest would stop on them too, but in a grading process, where the problem reads as a
        broken sandbox rather than a file and line to fix.
        """
        tests = self.hidden_tests_dir
        if not tests.is_dir():
            raise ConfigError(tests, None, "the hidden tests folder does not exist")
        for path in sorted(tests.rglob("*.py")):
            if "__pycache__" not in path.parts:
                read_python(path, "a hidden test file")
        for path in self.conftests_above_tests():
            read_python(path, "a conftest.py the hidden tests load")
        # Grading processes run in solutions/<a>/ (its modules importable, as the tests'
        # helpers): a random.py there would replace the standard library's for the grader too.
        for path in sorted([*self.solution_dir.glob("*.py"), *tests.glob("*.py")]):
            if path.stem in TAKEN_MODULE_NAMES:
                raise ConfigError(
                    path,
                    None,
                    f"this file hides the module '{path.stem}' that the grader imports; rename it",
                )

    def conftests_above_tests(self) -> list[Path]:
        """The ``conftest.py`` pytest loads besides those in tests/: ``solutions/<a>/conftest.py``
        (grading processes never look above ``solutions/<a>/``: ``--confcutdir``)."""
        conftest = self.solution_dir / "conftest.py"
        return [conftest] if conftest.is_file() else []


def read_python(path: Path, what: str, *, parse: bool = True) -> str:
    """The text of an instructor's Python file; ``ConfigError`` if missing, unreadable or (when
    ``parse``) not valid Python. A mutant need not parse: a syntax error is a wrong variant too."""
    if not path.exists():
        raise ConfigError(path, None, f"{what} does not exist")
    if not path.is_file():
        raise ConfigError(path, None, f"{what} is not a regular file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc, what) from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read {what}: {describe(exc)}") from None
    if not parse:
        return text
    try:
        compile(text, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ConfigError(path, exc.lineno, f"syntax error in {what}: {exc.msg}") from None
    except ValueError as exc:  # null bytes
        raise ConfigError(path, None, f"{what} is not Python source: {exc}") from None
    return text


@dataclass(frozen=True)
class Course:
    name: str
    path: Path
    secret_source: SecretSource
    assignments: dict[str, Assignment]

    @property
    def root(self) -> Path:
        return self.path.parent

    def assignment(self, name: str) -> Assignment:
        if name not in self.assignments:
            known = ", ".join(self.assignments) or "none"
            raise UsageError(f"no assignment '{name}' in {self.path} (assignments: {known})")
        return self.assignments[name]

    def secret(self, *, create: bool = True) -> str:
        """The course secret that seeds hidden test inputs; created on first use if allowed."""
        # Stripped as the file's is: a secret stored from a file often ends in a newline, and
        # the Gradescope bundle hands it over through $(cat ...), which drops it.
        value = os.environ.get(self.secret_source.env, "").strip()
        if value:
            return _long_enough(value, f"${self.secret_source.env}")
        path = self.root / self.secret_source.file
        try:
            return self._secret_file(path, create)
        except OSError as exc:
            raise UsageError(
                f"cannot use the course secret file {path} ({describe(exc)}); fix it, or set "
                f"${self.secret_source.env}"
            ) from None

    def _secret_file(self, path: Path, create: bool) -> str:
        if os.path.lexists(path):  # a dangling symlink too: it is not ours to replace
            if path.exists() and not path.is_file():  # /dev/zero would be read forever
                raise UsageError(f"the course secret file {path} is not a regular file")
            try:
                with path.open("rb") as handle:
                    text = handle.read(MAX_SECRET_BYTES + 1).decode("utf-8").strip()
            except UnicodeDecodeError:
                raise UsageError(f"the course secret file {path} is not UTF-8 text") from None
            if len(text.encode()) > MAX_SECRET_BYTES:
                raise UsageError(
                    f"the course secret file {path} is longer than {MAX_SECRET_BYTES} bytes"
                )
            if not text:
                raise UsageError(
                    f"the course secret file {path} is empty: write a long random value in it, "
                    "or delete it to have one made (either changes every hidden test input)"
                )
            return _long_enough(text, str(path))
        if not create:
            raise UsageError(f"no course secret: set ${self.secret_source.env} or create {path}")
        if path.parent.exists() and not path.parent.is_dir():
            problem = f"{path.parent} is a file"
            raise UsageError(f"cannot create the course secret file {path}: {problem}")
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_hex(32)
        if not _publish_new_file(path, (value + "\n").encode()):
            # Another run, started at the same moment, stored its secret first: use that one,
            # or the two runs would grade against different hidden inputs.
            return self._secret_file(path, create=False)
        # Said once, when it happens: a fresh clone (the file is git-ignored) or an unset
        # variable would otherwise change every hidden input without a word.
        print(
            f"note: created a new course secret in {path}; keep it (or set "
            f"${self.secret_source.env}): every hidden input depends on it",
            file=sys.stderr,
        )
        return value


def _publish_new_file(path: Path, data: bytes) -> bool:
    """Create ``path`` (mode 0600) holding ``data``, complete or not at all; False if it exists.

    The data is written to a private temporary file first and linked into place, so a reader
    never sees the file half-written, and of two writers exactly one wins.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        except OSError as exc:  # a file system without hard links: create it in place
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
                raise
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


MIN_SECRET_LENGTH = 12
MAX_SECRET_BYTES = 4096


def _long_enough(secret: str, where: str) -> str:
    # A short secret can be guessed, and would turn up by chance in released files.
    if len(secret) < MIN_SECRET_LENGTH:
        raise UsageError(
            f"the course secret from {where} is shorter than {MIN_SECRET_LENGTH} characters; "
            "use a long random value (e.g. python -c 'import secrets; print(secrets.token_hex())')"
        )
    return secret


def load_course(path: Path) -> Course:
    """Load ``course.yml``; problems are ``ConfigError`` with file and line."""
    path = path.resolve()
    root = Reader(
        path, load_yaml(path), "course.yml", known=("name", "secret", "limits", "assignments")
    )
    name = root.get("name", str)
    secret_node = root.child("secret", "secret", default=None, known=("env", "file"))
    secret = SecretSource(
        env=secret_node.get("env", str, default=SecretSource.env, check=_check_env_name),
        file=secret_node.get("file", str, default=SecretSource.file, check=_check_secret_file),
    )
    secret_node.done()
    defaults = read_limits(root.child("limits", "limits", default=None), GradingLimits())
    raw: LocatedDict = root.get("assignments", dict)  # type: ignore[assignment]
    if not raw:
        raise root.error("assignments", "'assignments' must name at least one assignment")
    assignments: dict[str, Assignment] = {}
    for key in raw:
        value = raw[key] if raw[key] is not None else {}
        if not isinstance(key, str) or not key.isidentifier():
            raise ConfigError(
                path, raw.line_of(key), f"assignment name {key!r} must be an identifier"
            )
        misplaced = key in ("name", "secret", "limits", "assignments")
        if misplaced and isinstance(value, dict) and set(value) - {"title", "due", "limits"}:
            # `limits:` indented one step too far reads as an assignment named limits.
            raise ConfigError(
                path,
                raw.line_of(key),
                f"'{key}' is a course key, not an assignment: indent it like 'assignments:' "
                "(or, for one assignment's limits, under that assignment's name)",
            )
        node = Reader(
            path,
            value,
            f"assignment '{key}'",
            line=raw.line_of(key),
            known=("title", "due", "limits"),
        )
        due: object = node.get("due", (str, dt.datetime, dt.date), default=None)
        assignments[key] = Assignment(
            name=key,
            title=node.get("title", str, default=key),
            due=_parse_due(node, due),
            limits=read_limits(node.child("limits", "limits", default=None), defaults),
            root=path.parent,
            course_path=path,
            line=raw.line_of(key),
        )
        node.done()
    root.done()
    return Course(name=name, path=path, secret_source=secret, assignments=assignments)


def _check_env_name(value: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        return "must be an environment variable name (letters, digits, _)"
    return None


def _check_secret_file(value: str) -> str | None:
    if not value.strip() or value.endswith(("/", "\\")) or "\0" in value:
        return "must be the path of a file (relative to course.yml, or absolute)"
    return None


def _parse_due(node: Reader, value: object) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        due = value
    elif isinstance(value, dt.date):
        due = dt.datetime.combine(value, dt.time(23, 59, 59))
    else:
        text = str(value).strip()
        try:
            # A quoted date alone is still the end of that day, as an unquoted one is.
            due = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(23, 59, 59))
        except ValueError:
            try:
                due = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise node.error("due", f"'due' is not an ISO date/time: '{value}'") from None
    return due if due.tzinfo else due.replace(tzinfo=dt.UTC)


def find_course(start: Path | None = None) -> Path:
    """The nearest ``course.yml`` at or above ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "course.yml"
        if candidate.is_file():
            return candidate
    raise UsageError(f"no course.yml found in {here} or any parent folder; pass --course PATH")
