"""YAML loading that remembers where every value came from.

Config errors must say ``file:line: problem``. PyYAML's safe loader forgets positions, so this
loader builds ``LocatedDict`` / ``LocatedList`` whose ``line_of(key)`` answers with the 1-based
line of that key (or list element), and a ``Reader`` that validates a mapping's keys and types
while raising ``ConfigError`` at the right line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from autograder.errors import ConfigError

T = TypeVar("T")


class LocatedDict(dict):  # type: ignore[type-arg]
    """A dict that knows the source line of each key."""

    line: int = 0
    lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LocatedList(list):  # type: ignore[type-arg]
    """A list that knows the source line of each element."""

    line: int = 0
    lines: list[int]

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _Loader(yaml.SafeLoader):
    """Safe loader that records line numbers and refuses duplicate keys."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    result = LocatedDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            raise yaml.MarkedYAMLError(
                problem=f"a key must be a plain value, not a {_kind(key)}",
                problem_mark=key_node.start_mark,
            )
        if key in result.lines:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:  # 2026-13-45 looks like a date to YAML, but is none
        raise yaml.MarkedYAMLError(
            problem=f"{node.value!r} is not a valid date ({exc})", problem_mark=node.start_mark
        ) from None


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
# YAML 1.1 wants a dot and a signed exponent in a float, so 1e-9 and 1.5e3 would be strings;
# read them as the numbers everyone means.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+.0123456789"),
)


def not_utf8(path: Path, exc: UnicodeDecodeError, what: str) -> ConfigError:
    """The error for a file that is not UTF-8, at the line of the first byte that is not."""
    before = exc.object[: exc.start]
    line = before.count(b"\n") + 1
    column = exc.start - (before.rfind(b"\n") + 1) + 1
    byte = exc.object[exc.start]
    return ConfigError(
        path,
        line,
        f"{what} is not UTF-8 text (byte 0x{byte:02x} at column {column}); save it as UTF-8",
    )


def load_yaml(path: Path) -> Any:
    """Parse ``path``; syntax errors and unreadable files become ``ConfigError``."""
    if path.exists() and not path.is_file():  # a folder; a FIFO would block us forever
        raise ConfigError(path, None, "not a regular file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc, "the file") from None
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read file: {exc}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context
        if (
            exc.problem
            and exc.context
            and exc.context_mark
            and "end of stream" in (exc.problem.replace("<stream end>", "end of stream"))
        ):
            # An unclosed '[' or quote is found at the end of the file, past its last line:
            # name the line where it was opened.
            mark, problem = exc.context_mark, f"{exc.problem} ({exc.context} that starts here)"
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, f"invalid YAML: {exc}") from None
    except RecursionError:  # "[[[[...": more levels than the parser can go down
        raise ConfigError(path, None, "invalid YAML: nested deeper than it can be read") from None


class Reader:
    """Typed, position-aware access to one YAML mapping.

    ``Reader(path, mapping, what="rubric item")`` then ``.get("points", float, default=...)``;
    ``.done()`` rejects keys nobody asked for, so typos are errors rather than silently ignored.
    ``known`` lists the keys the mapping may have: a missing key is never blamed on one of
    them as a typo (a rubric without ``items:`` is not one whose ``title:`` is misspelt).
    """

    def __init__(
        self,
        path: Path,
        node: Any,
        what: str,
        line: int | None = None,
        *,
        known: Iterable[str] = (),
    ) -> None:
        if not isinstance(node, dict):
            where = getattr(node, "line", None) or line
            raise ConfigError(path, where, f"{what} must be a mapping, got {_kind(node)}")
        self.path = path
        self.node = node
        self.what = what
        self._seen: set[str] = set()
        self._known = frozenset(known)

    @property
    def line(self) -> int | None:
        return getattr(self.node, "line", None) or None

    def line_of(self, key: str) -> int | None:
        finder = getattr(self.node, "line_of", None)
        return finder(key) if finder else None

    def error(self, key: str | None, problem: str) -> ConfigError:
        line = self.line_of(key) if key is not None else self.line
        return ConfigError(self.path, line, problem)

    def has(self, key: str) -> bool:
        return key in self.node

    def get(
        self,
        key: str,
        kind: type[T] | tuple[type, ...],
        *,
        default: Any = ...,
        check: Callable[[Any], str | None] | None = None,
    ) -> T:
        """Return ``node[key]`` as ``kind``; missing keys use ``default`` or are errors."""
        self._seen.add(key)
        if key not in self.node:
            if default is ...:
                valid = self._seen | self._known
                others = [str(k) for k in self.node if str(k) not in valid]
                typo = difflib.get_close_matches(key, others, n=1)
                if typo:
                    raise self.error(typo[0], f"unknown key '{typo[0]}' (did you mean '{key}'?)")
                raise self.error(None, f"{self.what} is missing required key '{key}'")
            return default  # type: ignore[no-any-return]
        value = self.node[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
            raise self.error(key, f"'{key}' must be {names}, got {_kind(value)}")
        if check is not None:
            problem = check(value)
            if problem:
                raise self.error(key, f"'{key}' {problem}")
        return value  # type: ignore[no-any-return,return-value]

    def child(
        self, key: str, what: str, *, default: Any = ..., known: Iterable[str] = ()
    ) -> Reader:
        """A Reader for the nested mapping at ``key`` (an empty one if absent and defaulted)."""
        value = self.get(key, dict, default=default)
        if value is default and not isinstance(value, dict):
            value = LocatedDict()
        return Reader(self.path, value, what, line=self.line_of(key), known=known)

    def done(self, allowed_extra: Iterable[str] = ()) -> None:
        """Reject keys that were never read: typos must not pass silently."""
        allowed = self._seen | set(allowed_extra)
        extra = [k for k in self.node if k not in allowed]
        if extra:
            key = extra[0]
            known = ", ".join(sorted(allowed)) or "none"
            raise self.error(
                key if isinstance(key, str) else None,
                f"unknown key '{key}' in {self.what} (known keys: {known})",
            )


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    dict: "a mapping",
    list: "a list",
}


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    for kind in (bool, dict, list):  # LocatedDict is a mapping to the reader; bool before int
        if isinstance(value, kind):
            return _TYPE_NAMES[kind].replace("a ", "", 1)
    return _TYPE_NAMES.get(type(value), type(value).__name__).replace("a ", "", 1)
