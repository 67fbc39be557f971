from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autograder.course import load_course
from autograder.errors import ConfigError, OutputError, UsageError
from autograder.limits import GradingLimits
from autograder.release import (
    diff_release,
    find_regions,
    prepare_release,
    release,
    render,
    stub_source,
)
from autograder.rubric import load_rubric

SOURCE = '''\
import numpy as np


def forward(x, W):
    """x: (B, D), W: (D, F) -> (B, F)"""
    ### BEGIN SOLUTION
    y = x @ W
    ### END SOLUTION
    return y


class Layer:
    def backward(self, dy):
        ### BEGIN SOLUTION
        secret_line = dy.sum(axis=0)
        return secret_line
        ### END SOLUTION
'''


def test_stub_replaces_each_region_with_named_not_implemented() -> None:
    stub = stub_source(SOURCE, Path("m.py"))
    assert "x @ W" not in stub and "secret_line" not in stub and "BEGIN SOLUTION" not in stub
    assert '    raise NotImplementedError("forward: not implemented yet")' in stub
    assert '        raise NotImplementedError("backward: not implemented yet")' in stub
    assert '"""x: (B, D), W: (D, F) -> (B, F)"""' in stub  # docstrings with shapes stay
    compile(stub, "m.py", "exec")


def test_regions_know_their_task_and_text() -> None:
    regions = find_regions(SOURCE, Path("m.py"))
    assert [(r.task, r.begin, r.end) for r in regions] == [("forward", 6, 8), ("backward", 14, 17)]
    assert "x @ W" in regions[0].text


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("### BEGIN SOLUTION\nx = 1\n", 1, "never closed"),
        ("x = 1\n### END SOLUTION\n", 2, "without a matching"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", 2, "inside the region"),
        (
            "def f():\n    ### BEGIN SOLUTION\n    # to do\n\n    ### END SOLUTION\n",
            2,
            "the region that starts here (to line 5) holds no code",
        ),
    ],
)
def test_bad_markers_are_config_errors_with_lines(text: str, line: int, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        find_regions(text, Path("m.py"))
    assert info.value.line == line
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("def f(x):\n    ## BEGIN SOLUTION\n    return x\n", 2, "looks like a solution marker"),
        (
            "def f(x):\n    ### BEGIN SOLUTION (f)\n    return x\n    ### END SOLUTION\n",
            2,
            "write exactly '### BEGIN SOLUTION', alone on its line",
        ),
        (
            "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### end solution\n",
            4,
            "write exactly '### END SOLUTION'",
        ),
    ],
)
def test_near_miss_markers_are_named_where_they_are(text: str, line: int, needle: str) -> None:
    # A mistyped marker would otherwise release its solution, or be blamed on another line.
    with pytest.raises(ConfigError) as info:
        find_regions(text, Path("m.py"))
    assert info.value.line == line
    assert needle in str(info.value)


def test_a_reference_without_regions_is_refused_not_released_whole() -> None:
    with pytest.raises(ConfigError, match="the release would be the whole solution"):
        stub_source("def f(x):\n    return x + 1\n", Path("m.py"))


@pytest.mark.parametrize(
    "text",
    [
        "def f(x):\n    ### BEGIN SOLUTION\n    return x\n  ### END SOLUTION\n",
        "def f(x):\n    ### BEGIN SOLUTION\n    if x:\n        return x\n"
        "        ### END SOLUTION\n",
    ],
)
def test_an_end_marker_indented_otherwise_is_refused(text: str) -> None:
    with pytest.raises(
        ConfigError,
        match="indented differently from its '### BEGIN SOLUTION' on "
        "line 2: indent both markers like",
    ) as info:
        stub_source(text, Path("m.py"))
    assert info.value.line == text.count("\n")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # Python ignores a comment's indentation; the stub's raise takes the marker's.
        ("def f(x):\n### BEGIN SOLUTION\n    y = x\n    ### END SOLUTION\n    return y\n", 2),
        (
            "def f(x):\n            ### BEGIN SOLUTION\n    y = x\n    ### END SOLUTION\n"
            "    return y\n",
            2,
        ),
        # A region inside an expression.
        (
            "def f(x, W):\n    c = (\n        ### BEGIN SOLUTION\n        x, W\n"
            "        ### END SOLUTION\n    )\n    return c\n",
            3,
        ),
    ],
)
def test_a_stub_that_is_not_python_is_blamed_on_its_region(text: str, line: int) -> None:
    compile(text, "m.py", "exec")  # the reference itself is fine
    with pytest.raises(ConfigError, match="not valid Python") as info:
        stub_source(text, Path("m.py"))
    assert info.value.line == line


PUBLIC = """\
import pytest


@pytest.mark.rubric("a")
def test_x():
    pass
"""


@pytest.fixture
def course(tmp_path: Path):  # type: ignore[no-untyped-def]
    solution = tmp_path / "solutions" / "toy"
    (solution / "public").mkdir(parents=True)
    (solution / "tests").mkdir()
    (solution / "toy.py").write_text(SOURCE)
    (solution / "README.md").write_text("# Toy\n")
    (solution / "rubric.yml").write_text(
        "assignment: toy\nmodule: toy.py\nitems:\n  - id: a\n    points: 1\n"
    )
    (solution / "public" / "test_toy.py").write_text(PUBLIC)
    (solution / "tests" / "test_hidden.py").write_text("HIDDEN = 1\n")
    (tmp_path / "course.yml").write_text("name: c\nassignments:\n  toy: {}\n")
    return load_course(tmp_path / "course.yml")


def test_release_writes_student_folder_reproducibly(course) -> None:  # type: ignore[no-untyped-def]
    toy = course.assignment("toy")
    files, removed = release(toy)
    assert files == ["README.md", "rubric.yml", "test_toy.py", "toy.ipynb", "toy.py"]
    assert removed == []
    first = {p.name: p.read_bytes() for p in toy.release_dir.iterdir()}
    assert not (toy.release_dir / "test_hidden.py").exists()
    assert b"secret_line" not in first["toy.py"]
    release(toy)
    assert {p.name: p.read_bytes() for p in toy.release_dir.iterdir()} == first
    assert render(toy) == first
    assert diff_release(toy) == []


def test_the_released_rubric_carries_the_course_limits_for_check(course) -> None:  # type: ignore[no-untyped-def]
    course_yml = course.path
    course_yml.write_text(
        "name: c\nlimits: {memory_mb: 256}\nassignments:\n  toy: {limits: {call_timeout: 2.5}}\n"
    )
    toy = load_course(course_yml).assignment("toy")
    release(toy)
    released = load_rubric(toy.release_dir / "rubric.yml")
    assert released.limits == GradingLimits(call_timeout=2.5, memory_mb=256)
    # Every value the course may set reads back exactly (not rounded, not a string).
    course_yml.write_text(
        "name: c\nlimits: {memory_mb: 1048576, budget_seconds: 1.00001}\n"
        "assignments:\n  toy: {limits: {call_timeout: 2.123456789}}\n"
    )
    toy = load_course(course_yml).assignment("toy")
    release(toy)
    assert load_rubric(toy.release_dir / "rubric.yml").limits == toy.limits
    assert released.items == toy.rubric().items  # the instructor's rubric, as it was
    assert toy.rubric().limits is None


def test_limits_in_the_instructors_rubric_are_refused_with_their_line(course) -> None:  # type: ignore[no-untyped-def]
    rubric = course.assignment("toy").rubric_path
    rubric.write_text(rubric.read_text() + "limits:\n  call_timeout: 1\n")
    with pytest.raises(ConfigError, match="limits are set in course.yml") as info:
        course.assignment("toy").rubric()
    assert info.value.line == 6


def test_diff_release_names_edited_extra_and_missing_files(course) -> None:  # type: ignore[no-untyped-def]
    toy = course.assignment("toy")
    release(toy)
    (toy.release_dir / "toy.py").write_text("edited\n")
    (toy.release_dir / "extra.txt").write_text("x")
    (toy.release_dir / "README.md").unlink()
    problems = diff_release(toy)
    assert any("toy.py differs" in p for p in problems)
    assert any("extra.txt is not produced" in p for p in problems)
    assert any("README.md is missing" in p for p in problems)
    # Releasing again says what it removed that was no release's.
    (toy.release_dir / ".ipynb_checkpoints").mkdir()
    (toy.release_dir / ".ipynb_checkpoints" / "toy-checkpoint.ipynb").write_text("{}")
    assert release(toy)[1] == ["extra.txt"]


def test_notebook_edition_has_readme_sections_and_stub_cells(course) -> None:  # type: ignore[no-untyped-def]
    import json

    from autograder.submissions import notebook_source

    toy = course.assignment("toy")
    release(toy)
    raw = (toy.release_dir / "toy.ipynb").read_text()
    notebook = json.loads(raw)
    kinds = [c["cell_type"] for c in notebook["cells"]]
    assert kinds[0] == "markdown" and "code" in kinds
    solution_cells = [
        c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
    ]
    assert [c["metadata"]["nbgrader"]["grade_id"] for c in solution_cells] == ["forward", "Layer"]
    assert "secret_line" not in raw and "x @ W" not in raw
    # The notebook's code is the stub module: it runs and raises the same stubs.
    namespace: dict[str, object] = {}
    exec(compile(notebook_source(raw), "toy.ipynb", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="forward"):
        namespace["forward"](1, 2)  # type: ignore[operator]


def test_caches_left_by_running_pytest_in_a_release_are_ignored(course) -> None:  # type: ignore[no-untyped-def]
    toy = course.assignment("toy")
    release(toy)
    (toy.release_dir / ".pytest_cache").mkdir()
    (toy.release_dir / ".pytest_cache" / "README.md").write_text("cache")
    (toy.release_dir / "__pycache__").mkdir()
    (toy.release_dir / "__pycache__" / "toy.cpython-311.pyc").write_bytes(b"\0")
    assert diff_release(toy) == []


def test_a_release_is_readable_by_students_not_only_its_owner(course) -> None:  # type: ignore[no-untyped-def]
    toy = course.assignment("toy")
    previous = os.umask(0o022)
    try:
        release(toy)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(toy.release_dir.stat().st_mode) == 0o755
    assert stat.S_IMODE((toy.release_dir / "toy.py").stat().st_mode) == 0o644


def test_a_failed_release_keeps_the_previous_one_and_leaves_nothing_behind(
    course, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    toy = course.assignment("toy")
    release(toy)
    before = {p.name: p.read_bytes() for p in toy.release_dir.iterdir()}
    (course.root / "solutions" / "toy" / "README.md").write_text("# Toy, edited\n")
    real_write_bytes, calls = Path.write_bytes, []

    def full(path: Path, data: bytes) -> int:
        if toy.release_dir.parent in path.parents:  # not the copy whose public tests are collected
            calls.append(path)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OutputError, match=r"cannot write the release in .*toy \(No space left"):
        release(toy)
    assert {p.name: p.read_bytes() for p in toy.release_dir.iterdir()} == before
    assert sorted(p.name for p in toy.release_dir.parent.iterdir()) == ["toy"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_release_stopped_as_it_swaps_folders_leaves_a_whole_one_there(
    course, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C just after the previous release was moved aside (where the folders are swapped
    in two renames): the previous release goes back, rather than assignments/toy/ being gone
    (kept only in .toy.old, with the new one deleted as the release unwound)."""
    import autograder.release

    toy = course.assignment("toy")
    release(toy)
    before = {p.name: p.read_bytes() for p in toy.release_dir.iterdir()}
    (course.root / "solutions" / "toy" / "README.md").write_text("# Toy, edited\n")
    real_rename = Path.rename

    def interrupted(path: Path, to: Path) -> Path:
        moved = real_rename(path, to)
        if path == toy.release_dir:
            raise KeyboardInterrupt
        return moved

    monkeypatch.setattr(Path, "rename", interrupted)
    if not exchange:  # a filesystem or a kernel without RENAME_EXCHANGE
        monkeypatch.setattr(autograder.release, "_exchange", lambda first, second: False)
    try:
        release(toy)
    except KeyboardInterrupt:
        assert {p.name: p.read_bytes() for p in toy.release_dir.iterdir()} == before
    else:  # swapped in one step: nothing to interrupt
        assert exchange
        assert (toy.release_dir / "README.md").read_text() == "# Toy, edited\n"
    assert sorted(p.name for p in toy.release_dir.parent.iterdir()) == ["toy"]


def test_a_release_killed_while_it_writes_leaves_nothing_after_the_next(
    course,
) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL while the new release is written leaves its folder beside assignments/toy/
    (nothing cleans up after SIGKILL; .toy.<pid>.tmp, a dot folder git would commit); the
    next release removes it, and assignments/toy/ was the previous release all along."""
    toy = course.assignment("toy")
    release(toy)
    before = {p.name: p.read_bytes() for p in toy.release_dir.iterdir()}
    killed = f"""
import os, signal
from pathlib import Path
from typing import Any
from autograder.course import load_course
from autograder.release import prepare_release, release
toy = load_course(Path({str(course.root / "course.yml")!r})).assignment("toy")
files = prepare_release(toy)
write_bytes = Path.write_bytes
def killed(path, data):
    if toy.release_dir.parent in path.parents and len(list(path.parent.iterdir())) >= 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return write_bytes(path, data)
Path.write_bytes = killed
release(toy, files)
"""
    run = subprocess.run([sys.executable, "-c", killed], capture_output=True, text=True)
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert {p.name: p.read_bytes() for p in toy.release_dir.iterdir()} == before
    left = sorted(p.name for p in toy.release_dir.parent.iterdir())
    assert len(left) == 2, "the kill left no folder: the test tests nothing"
    release(toy)
    assert sorted(p.name for p in toy.release_dir.parent.iterdir()) == ["toy"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_a_previous_release_that_cannot_be_deleted_does_not_fail_the_new_one(
    course, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:  # type: ignore[no-untyped-def]
    """A file of the previous release that cannot be deleted (made immutable) failed the
    release with "cannot write the release", the new one in place; the folder left beside it
    then failed every later release. The next release that can delete it does."""
    import autograder.release

    toy = course.assignment("toy")
    release(toy)
    (course.root / "solutions" / "toy" / "README.md").write_text("# Toy, edited\n")
    real_rmtree = shutil.rmtree

    def refused(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(path).parent != toy.release_dir.parent:  # others' folders (the checks' own)
            return real_rmtree(path, *args, **kwargs)
        raise PermissionError(1, "Operation not permitted", str(path))

    if not exchange:  # a filesystem or a kernel without RENAME_EXCHANGE
        monkeypatch.setattr(autograder.release, "_exchange", lambda first, second: False)
    monkeypatch.setattr(autograder.release.shutil, "rmtree", refused)
    release(toy)
    assert (toy.release_dir / "README.md").read_text() == "# Toy, edited\n"
    assert len(list(toy.release_dir.parent.iterdir())) == 2  # the previous one, beside it
    monkeypatch.setattr(autograder.release.shutil, "rmtree", real_rmtree)
    release(toy)
    assert sorted(p.name for p in toy.release_dir.parent.iterdir()) == ["toy"]


def test_a_file_where_the_release_goes_is_a_usage_error(course) -> None:  # type: ignore[no-untyped-def]
    toy = course.assignment("toy")
    toy.release_dir.parent.mkdir(parents=True)
    toy.release_dir.write_text("not a folder\n")
    with pytest.raises(UsageError, match="is not a folder: move it out of the way"):
        release(toy)
    assert toy.release_dir.read_text() == "not a folder\n"


@pytest.mark.parametrize(
    "comment", ["# End solution notes: the cache holds copies.", "# begin solution sketch"]
)
def test_prose_that_starts_like_a_marker_is_left_alone(comment: str) -> None:
    assert find_regions(f"def f(x):\n    {comment}\n    return x\n", Path("m.py")) == []


def test_a_region_inside_an_expression_is_blamed_not_the_region_above_it() -> None:
    text = (
        "def f(x):\n    ### BEGIN SOLUTION\n    y = x\n    ### END SOLUTION\n"
        "    return (\n        ### BEGIN SOLUTION\n        y, x\n        ### END SOLUTION\n    )\n"
    )
    with pytest.raises(ConfigError, match="not valid Python") as info:
        stub_source(text, Path("m.py"))
    assert info.value.line == 6


@pytest.mark.parametrize(
    ("name", "replaced"),
    [
        ("toy.py", "the stub made from the reference"),
        ("rubric.yml", "the rubric"),
        ("README.md", "the handout"),
        ("toy.ipynb", "the notebook edition"),
        ("Toy.py", "the stub made from the reference"),  # one file where case is ignored
        ("toy.py/helper.py", "the stub made from the reference"),
    ],
)
def test_a_public_file_named_like_a_generated_one_is_refused(
    course, name: str, replaced: str
) -> None:  # type: ignore[no-untyped-def]
    # It would silently replace what release writes: the full solution shipped as the stub.
    toy = course.assignment("toy")
    public = course.root / "solutions" / "toy" / "public" / name
    public.parent.mkdir(parents=True, exist_ok=True)
    public.write_text(SOURCE)
    for attempt in (render, release, diff_release):
        with pytest.raises(
            ConfigError, match=f"would replace .* in the release \\({replaced}"
        ) as info:
            attempt(toy)
        assert info.value.path == public
    assert not toy.release_dir.exists()


@pytest.mark.parametrize(
    ("files", "where", "needle"),
    [
        # Bound to no item, or to one the rubric lacks: its check would score nothing.
        (
            {"test_toy.py": PUBLIC.replace('rubric("a")', 'rubric("nosuch")')},
            ("test_toy.py", 4),
            "test test_toy.py::test_x is marked rubric('nosuch'), which is not an item of "
            "rubric.yml (items: a)",
        ),
        (
            {"test_toy.py": PUBLIC.replace('@pytest.mark.rubric("a")\n', "")},
            ("test_toy.py", 4),
            "test test_toy.py::test_x: has no @pytest.mark.rubric(...) marker",
        ),
        (
            {
                "test_toy.py": PUBLIC.replace(
                    "def test_x", '@pytest.mark.skip(reason="later")\ndef test_x'
                )
            },
            ("test_toy.py", 4),
            "is marked to be skipped (later), so every student would lose its points",
        ),
        (  # the whole file at once
            {
                "test_toy.py": "import pytest\n\npytest.skip('later', allow_module_level=True)\n"
                + PUBLIC
            },
            ("test_toy.py", 3),
            "the whole file is skipped (later), so students run none of it",
        ),
        # Broken: students could not run it at all.
        (
            {"test_toy.py": PUBLIC + "\ndef oops(:\n"},
            ("test_toy.py", 8),
            "syntax error in a public test file",
        ),
        (
            {"test_toy.py": "import numpy\nimport no_such_module\n" + PUBLIC},
            ("test_toy.py", 2),
            "the public tests cannot be collected, so students could not run them: "
            "ModuleNotFoundError: No module named 'no_such_module'",
        ),
        (
            {"test_toy.py": PUBLIC + "LIMIT = undefined_name\n"},
            ("test_toy.py", 7),
            "cannot be collected, so students could not run them: NameError: name "
            "'undefined_name' is not defined",
        ),
        (  # where the import fails, in a helper the test imports
            {"test_toy.py": "import helper\n" + PUBLIC, "helper.py": "X = 1\nimport nope\n"},
            ("helper.py", 2),
            "ModuleNotFoundError: No module named 'nope'",
        ),
        (
            {"conftest.py": "\nimport nope\n"},
            ("conftest.py", 2),
            "ModuleNotFoundError: No module named 'nope'",
        ),
    ],
)
def test_public_tests_that_are_broken_or_unbound_are_refused(
    course, files: dict[str, str], where: tuple[str, int], needle: str
) -> None:  # type: ignore[no-untyped-def]
    toy = course.assignment("toy")
    public = course.root / "solutions" / "toy" / "public"
    for name, text in files.items():
        (public / name).write_text(text)
    with pytest.raises(ConfigError) as info:
        release(toy)
    assert (info.value.path, info.value.line) == (public / where[0], where[1]), str(info.value)
    assert needle in str(info.value)
    assert not toy.release_dir.exists()


def test_public_tests_need_not_cover_every_item(course) -> None:  # type: ignore[no-untyped-def]
    rubric = course.root / "solutions" / "toy" / "rubric.yml"
    rubric.write_text(rubric.read_text() + "  - id: b\n    points: 1\n")
    release(course.assignment("toy"))  # no public test for 'b': fine, the hidden ones grade it
    (course.root / "solutions" / "toy" / "public" / "test_toy.py").unlink()
    (course.root / "solutions" / "toy" / "public" / "notes.py").write_text("X = 1\n")
    release(course.assignment("toy"))  # none at all


MARKERS_IN_STRINGS = '''\
"""How to write a reference: mark the code students write,

    ### BEGIN SOLUTION
    y = x @ W
    ### END SOLUTION

and release replaces it."""

EXAMPLE = """
### BEGIN SOLUTION
## END SOLUTION
"""


def forward(x, W):
    ### BEGIN SOLUTION
    y = x @ W
    ### END SOLUTION
    return y
'''


def test_markers_inside_strings_are_the_strings_text_not_markers() -> None:
    regions = find_regions(MARKERS_IN_STRINGS, Path("m.py"))
    assert [(r.begin, r.end, r.task) for r in regions] == [(16, 18, "forward")]
    stub = stub_source(MARKERS_IN_STRINGS, Path("m.py"))
    assert stub.startswith(MARKERS_IN_STRINGS[: MARKERS_IN_STRINGS.index("def forward")])
    assert '    raise NotImplementedError("forward: not implemented yet")\n    return y\n' in stub
    # Only in strings: no region at all, rather than a rewritten docstring.
    with pytest.raises(ConfigError, match="the release would be the whole solution"):
        stub_source(MARKERS_IN_STRINGS[: MARKERS_IN_STRINGS.index("def forward")], Path("m.py"))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("import numpy as np\n\n### BEGIN SOLUTION\nSCALE = 2.0\n### END SOLUTION\n", 3),
        (
            "class Layer:\n    ### BEGIN SOLUTION\n    scale = 2.0\n    ### END SOLUTION\n\n"
            "    def forward(self, x):\n        return x * self.scale\n",
            2,
        ),
    ],
)
def test_a_region_outside_any_function_is_refused(text: str, line: int) -> None:
    # Its stub would raise as the module is imported: no student could import the release.
    with pytest.raises(ConfigError, match="this region is not inside a function") as info:
        stub_source(text, Path("m.py"))
    assert info.value.line == line


def test_a_region_in_a_method_or_nested_function_is_inside_a_function() -> None:
    text = (
        "class Layer:\n    def forward(self, x):\n        def inner(z):\n"
        "            ### BEGIN SOLUTION\n            return z\n            ### END SOLUTION\n"
        "        return inner(x)\n"
    )
    assert "raise NotImplementedError" in stub_source(text, Path("m.py"))


def test_a_rubric_for_another_assignment_is_refused_at_its_line(course) -> None:  # type: ignore[no-untyped-def]
    rubric = course.assignment("toy").rubric_path
    rubric.write_text(
        "title: Toy\n" + rubric.read_text().replace("assignment: toy", "assignment: other")
    )
    with pytest.raises(
        ConfigError, match="rubric is for 'other' but lives in solutions/toy"
    ) as info:
        course.assignment("toy").rubric()
    assert info.value.line == 2


@pytest.mark.parametrize("separator", ["\x0c", "\x1c", "\x85", "\u2028", "\r"])
def test_a_page_break_before_a_region_does_not_hide_its_markers(separator: str) -> None:
    """str.splitlines breaks lines at a form feed (a PEP 8 page break) and a few other
    characters, tokenize only at newlines: markers after one were taken for non-comments and
    skipped, and the release shipped that region's solution."""
    source = (
        "def forward(x, W):\n    ### BEGIN SOLUTION\n    y = x @ W\n    ### END SOLUTION\n"
        f"    return y\n\n{separator}\n"
        "def backward(dy, W):\n    ### BEGIN SOLUTION\n    dx = dy @ W.T\n    ### END SOLUTION\n"
        "    return dx\n"
    )
    assert [r.task for r in find_regions(source, Path("m.py"))] == ["forward", "backward"]
    stub = stub_source(source, Path("m.py"))
    assert "dy @ W.T" not in stub and "x @ W" not in stub


def test_a_marker_that_is_neither_a_comment_nor_in_a_string_is_refused() -> None:
    """If tokenize and the line numbers ever disagree again, a marker is not skipped silently
    (that shipped a solution): it is refused at its line."""
    from autograder import release as module

    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    real = module._comment_lines
    try:
        module._comment_lines = lambda text: (set(), set())  # type: ignore[assignment]
        with pytest.raises(ConfigError, match="is not a comment on its own line") as info:
            find_regions(source, Path("m.py"))
    finally:
        module._comment_lines = real  # type: ignore[assignment]
    assert info.value.line == 2


def test_an_items_handout_section_must_be_a_heading_of_the_readme(course) -> None:  # type: ignore[no-untyped-def]
    solution = course.root / "solutions" / "toy"
    (solution / "README.md").write_text(
        "# Toy\n\n## 3. The weight gradient $\\partial L/\\partial W$\n\nText.\n\n"
        "```\n# Not a heading (in a code block)\n```\n"
    )
    rubric = solution / "rubric.yml"
    for good in ("3. The weight gradient", "3. The weight gradient $\\partial L/\\partial W$"):
        rubric.write_text(
            "assignment: toy\nmodule: toy.py\nitems:\n  - id: a\n    points: 1\n"
            f"    handout: {good}\n"
        )
        assert load_rubric(rubric).items[0].handout == good
        release(course.assignment("toy"))
    for bad in (
        "The weight gradient",
        "Not a heading (in a code block)",
        "3. The weight gradients",
    ):
        rubric.write_text(
            "assignment: toy\nmodule: toy.py\nitems:\n  - id: a\n    points: 1\n"
            f"    handout: {bad}\n"
        )
        with pytest.raises(ConfigError) as caught:
            render(course.assignment("toy"))
        message = str(caught.value)
        assert message.startswith(
            f"{rubric}:4: item 'a': handout: '{bad}' is no section of README.md"
        )
        assert '"3. The weight gradient $\\partial L/\\partial W$"' in message
        # A typo of a heading (or its start) is answered with that heading; no guess otherwise.
        meant = 'Did you mean "3. The weight gradient $\\partial L/\\partial W$"?'
        assert message.endswith(meant) == ("weight" in bad), message
    # A long handout's headings are listed in part, and it says so.
    (solution / "README.md").write_text("".join(f"## {n}. Part\n\n" for n in range(1, 21)))
    with pytest.raises(ConfigError) as caught:
        render(course.assignment("toy"))
    assert '"12. Part"; ... (20 in all))' in str(caught.value)
    # Without a README the release's handout is the title alone, whose heading is no help.
    (solution / "README.md").unlink()
    with pytest.raises(ConfigError) as caught:
        render(course.assignment("toy"))
    assert str(caught.value) == (
        f"{rubric}:4: item 'a': handout: '3. The weight gradients' names a section of the "
        f"handout, but there is no {solution / 'README.md'}: write the handout there"
    )


def test_a_release_without_a_handout_is_warned_about(course) -> None:  # type: ignore[no-untyped-def]
    assignment = course.assignment("toy")
    warnings: list[str] = []
    prepare_release(assignment, warnings)
    assert warnings == []
    readme = course.root / "solutions" / "toy" / "README.md"
    readme.unlink()
    files = prepare_release(assignment, warnings)
    assert files["README.md"] == b"# toy\n"  # the title alone (the rubric gives none)
    assert warnings == [
        f"{readme} does not exist: the released handout (README.md and the notebook's text) is "
        "only the assignment's title"
    ]


def test_the_readmes_checklist_names_every_file_of_every_assignment() -> None:
    """The "In short" list of "Writing an assignment" is where an instructor starts: each
    file it names exists in every assignment of this course, and no file of theirs is
    missing from it."""
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    checklist = readme.split("## Writing an assignment", 1)[1].split("\nAn assignment is", 1)[0]
    patterns = re.findall(r"^\d+\. `(solutions/[^`]+)`", checklist, re.MULTILINE)
    assert len(patterns) == 6, checklist
    course = load_course(root / "course.yml")
    for name in course.assignments:
        module = load_rubric(root / "solutions" / name / "rubric.yml").module_stem
        folder = root / "solutions" / name
        named: set[Path] = set()
        for pattern in patterns:
            relative = pattern.replace("<a>", name).replace("<module>", module)
            found = set(root.glob(relative))
            assert found, f"{relative}: the README's checklist names it; {name} has none"
            named |= found
        files = {p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        assert sorted(p.relative_to(root) for p in files - named) == []
