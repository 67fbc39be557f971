"""The public tests of an assignment (``solutions/<a>/public/``), checked before they go out.

``release`` and ``verify`` refuse, as ``file:line: problem`` (``ConfigError``, exit 2), what
the hidden tests are refused for: a Python file there that is not UTF-8 or not valid Python,
test files that cannot be imported (an import that fails, a name error at the top level), and
a test that is not bound to exactly one item of the rubric (or is marked to be skipped, so
that no student could pass it). Unlike the hidden tests, not every item needs a public test.

The tests are collected (``pytest --collect-only``, never run) in a separate process, in a
folder holding the release as it is about to be written, beside the stub, as students run
them; nothing above that folder (no ini file, no conftest) takes part.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autograder.course import Assignment, read_python
from autograder.errors import ConfigError, OutputError, describe
from autograder.rubric import Rubric, TestBinding, validate_binding
from autograder.scratch import scratch_folder

COLLECT_TIMEOUT = 300.0  # seconds; collecting a course's public tests takes about one
# A frame of a short or long pytest traceback: "test_x.py:12: in <module>", "helper.py:3: Name..."
_FRAME = re.compile(r"^([^\s<>:][^:\n]*\.py):(\d+):", re.MULTILINE)


def is_test_file(relative: Path) -> bool:
    """What pytest collects by default: ``test_*.py`` and ``*_test.py``."""
    return relative.suffix == ".py" and (
        relative.name.startswith("test_") or relative.stem.endswith("_test")
    )


def check_public_tests(
    assignment: Assignment, rubric: Rubric, files: Mapping[str, bytes]
) -> list[str]:
    """Refuse public tests that would not run for students, or score nothing; ``files`` is the
    release about to be written (``release.render``). Return warnings: what is allowed but
    likely not meant (public tests of an item the rubric hides)."""
    public = assignment.public_tests_dir
    python = sorted(name for name in files if name.endswith(".py") and (public / name).is_file())
    for name in python:
        read_python(public / name, "a public test file")
    if not any(is_test_file(Path(name)) for name in python):
        return []
    with scratch_folder("public", assignment.name) as work:
        folder = work / assignment.name
        try:
            for name, content in files.items():
                path = folder / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        except OSError as exc:
            raise OutputError(
                f"cannot copy the release into {work} to collect its public tests ({describe(exc)})"
            ) from None
        result = _collect(folder, work / "collected.json", public)
    problems = [_collect_error(error, folder, public, files) for error in result["errors"]]
    if problems:
        raise problems[0]
    bindings = [
        TestBinding(
            b["nodeid"], b["item_id"], _source(b["path"], folder, public), b["line"], b["problem"]
        )
        for b in result["bindings"]
    ]
    by_item = validate_binding(rubric, bindings, complete=False)
    return _hidden_but_public(rubric, bindings, by_item)


def _hidden_but_public(
    rubric: Rubric, bindings: list[TestBinding], by_item: Mapping[str, list[str]]
) -> list[str]:
    """A ``hidden`` item that has public tests: ``autograder check`` shows the student how
    their code does on them, under the item's id and points."""
    warnings = []
    for item in rubric.items:
        if item.visibility != "hidden" or not by_item.get(item.id):
            continue
        first = next(b for b in bindings if b.item_id == item.id)
        where = f"{first.path}:{first.line}" if first.line else str(first.path)
        count = len(by_item[item.id])
        warnings.append(
            f"{where}: {count} public test(s) score item '{item.id}', which rubric.yml hides "
            "(visibility: hidden); 'autograder check' shows students how they do on them, "
            "under that item"
        )
    return warnings


def _collect(folder: Path, out: Path, public: Path) -> dict[str, Any]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "autograder.public_tests", str(folder), str(out)],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=COLLECT_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            public,
            None,
            f"collecting the public tests took more than {COLLECT_TIMEOUT:g} s: does one of "
            "them compute or wait at import?",
        ) from None
    try:
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = {"errors": [], "bindings": [], "status": None}
    if not result["errors"] and result["status"] not in (0, 5):  # 5: no tests collected
        # pytest stopped before collecting (a conftest.py that does not import): its output.
        result["errors"].append({"nodeid": "", "text": done.stdout + done.stderr})
    return result


def _source(path: str, folder: Path, public: Path) -> Path:
    """The file in ``solutions/<a>/public/`` that ``path`` (in the collection folder) is."""
    try:
        return public / Path(path).resolve().relative_to(folder.resolve())
    except ValueError:
        return Path(path)


def _collect_error(
    error: Mapping[str, str], folder: Path, public: Path, files: Mapping[str, bytes]
) -> ConfigError:
    """A collection error as ``file:line: problem``, at the deepest line of a public file in
    its traceback (the import that failed, in a helper module if that is where)."""
    text = error["text"]
    messages = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    problem = messages[-1] if messages else (text.strip().splitlines() or ["unknown error"])[-1]
    where: tuple[Path, int | None] | None = None
    for match in _FRAME.finditer(text):
        path = Path(match.group(1))
        path = path if path.is_absolute() else folder / path
        try:
            relative = path.resolve().relative_to(folder.resolve())
        except ValueError:
            continue
        if (public / relative).is_file() and str(relative) in files:
            where = (public / relative, int(match.group(2)))
    if where is None:  # no line of ours in it (pytest's own complaint): the file, if known
        named = re.search(r"(?:module|conftest) '([^']+)'", text)
        nodeid = error["nodeid"].split("::")[0]
        if named:
            where = (_source(named.group(1), folder, public), None)
        elif nodeid and (public / nodeid).is_file():
            where = (public / nodeid, None)
        else:
            where = (public, None)
    return ConfigError(
        where[0],
        where[1],
        f"the public tests cannot be collected, so students could not run them: {problem}",
    )


class _Collector:
    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []
        self.bindings: list[dict[str, Any]] = []

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.errors.append({"nodeid": report.nodeid, "text": str(report.longreprtext)})
        elif report.skipped and isinstance(report.longrepr, tuple):
            # pytest.skip(..., allow_module_level=True): the whole file, for every student.
            path, line, reason = report.longrepr
            self.errors.append(
                {
                    "nodeid": report.nodeid,
                    "text": f"{path}:{int(line)}: skipped\nE   the whole file is skipped "
                    f"({str(reason).removeprefix('Skipped: ')}), so students run none of it",
                }
            )

    def pytest_collection_finish(self, session: Any) -> None:
        from autograder.plugin import binding_of

        for item in session.items:
            binding = binding_of(item)
            info = getattr(item, "_fixtureinfo", None)
            if not binding.problem and "reference" in getattr(info, "names_closure", ()):
                # Directly or through a fixture of its own: on the grader only.
                binding = dataclasses.replace(
                    binding,
                    problem="asks for 'reference', the reference solution, which students do "
                    "not have (it is only on the grader); give the expected values in the "
                    "test, or make it a hidden test",
                )
            self.bindings.append(
                {
                    "nodeid": binding.nodeid,
                    "item_id": binding.item_id,
                    "path": str(binding.path),
                    "line": binding.line,
                    "problem": binding.problem,
                }
            )


def main(folder: str, out: str) -> int:
    """In the collecting process: collect the tests in ``folder``, write what was found."""
    import contextlib
    import io

    import pytest

    collector = _Collector()
    args = [folder, "--collect-only", "-q", "-p", "no:cacheprovider", "--rootdir", folder]
    args += ["--confcutdir", folder, "-c", os.devnull]
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        status = pytest.main(args, plugins=[collector])
    sys.stdout.write(printed.getvalue())
    result = {"status": int(status), "errors": collector.errors, "bindings": collector.bindings}
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
