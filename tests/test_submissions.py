from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograder.errors import OutputError, UsageError
from autograder.scoring import SEVERAL_FILES
from autograder.submissions import (
    ClassNotes,
    Submission,
    discover,
    notebook_source,
    read_source,
)


def make_class(root: Path) -> Path:
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "linear.py").write_text("A = 1\n")
    (root / "bob" / "hw" / "linear").mkdir(parents=True)
    (root / "bob" / "hw" / "linear" / "linear.py").write_text("B = 1\n")
    (root / "carol").mkdir()
    (root / "carol" / "notes.txt").write_text("forgot")
    (root / ".hidden").mkdir()
    (root / "expected.yml").write_text("not a student")
    return root


def find(root: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return discover(root, module="linear.py", assignment="linear", workdir=work)


def test_class_folder_layout(tmp_path: Path) -> None:
    subs = find(make_class(tmp_path / "class"), tmp_path)
    assert [s.student for s in subs] == ["alice", "bob", "carol"]
    assert subs[0].source == "A = 1\n"
    assert subs[1].source == "B = 1\n"  # found a few folders deeper
    assert subs[2].missing and "notes.txt" in subs[2].problem


def test_nbgrader_submitted_layout(tmp_path: Path) -> None:
    root = tmp_path / "course"
    folder = root / "submitted" / "dave" / "linear"
    folder.mkdir(parents=True)
    (folder / "linear.py").write_text("D = 1\n")
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00")
    subs = find(root, tmp_path)
    assert [(s.student, s.source) for s in subs] == [("dave", "D = 1\n")]


def test_zip_of_a_class_folder(tmp_path: Path) -> None:
    make_class(tmp_path / "class")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in (tmp_path / "class").rglob("*"):
            bundle.write(path, Path("class") / path.relative_to(tmp_path / "class"))
        bundle.writestr("../escape.py", "bad")
        link = zipfile.ZipInfo("class/eve/linear.py")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "/etc/passwd")
    subs = find(archive, tmp_path)
    assert [s.student for s in subs] == ["alice", "bob", "carol"]
    assert not (tmp_path / "work" / "escape.py").exists()
    assert not (tmp_path / "work" / "unzipped").exists()  # read, then removed


def test_a_zip_is_unpacked_readable_by_the_grader_alone(tmp_path: Path) -> None:
    """A grader killed while unpacking leaves the copy in --out until the next run: it must be
    as private as everything else written there (0644 files in 0755 folders before)."""
    from autograder.submissions import extract_zip

    make_class(tmp_path / "class")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in (tmp_path / "class").rglob("*"):
            bundle.write(path, Path("class") / path.relative_to(tmp_path / "class"))
    extract_zip(archive, tmp_path / "unzipped")
    assert stat.S_IMODE((tmp_path / "unzipped").stat().st_mode) == 0o700
    files = [p for p in (tmp_path / "unzipped").rglob("*") if p.is_file()]
    assert files and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}


def test_a_zip_without_students_is_named(tmp_path: Path) -> None:
    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("notes/readme.txt", "no code here\n")
    with pytest.raises(UsageError, match=f"no student folders in {archive} "):
        find(archive, tmp_path)
    assert not (tmp_path / "work" / "unzipped").exists()


def _damaged_zip(path: Path, damage: str) -> Path:
    """A class zip whose one member is encrypted, in an unknown compression, or corrupt."""
    name = "class/alice/linear.py"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(name, "x = 1\n" * 100)
    data = bytearray(path.read_bytes())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    if damage == "encrypted":  # general-purpose flag bit 0
        data[local + 6 : local + 8] = data[central + 8 : central + 10] = b"\x01\x00"
    elif damage == "compression":  # method 99 (AES), which zipfile cannot read
        data[local + 8 : local + 10] = data[central + 10 : central + 12] = b"\x63\x00"
    else:  # the deflate stream itself
        start = local + 30 + len(name)
        data[start : start + 4] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("encrypted", "it is encrypted"),
        ("compression", "its compression method (99) is not supported"),
        ("corrupt", "its data is damaged"),
    ],
)
def test_a_zip_member_that_cannot_be_extracted_is_named(
    tmp_path: Path, damage: str, reason: str
) -> None:
    archive = _damaged_zip(tmp_path / "class.zip", damage)
    with pytest.raises(UsageError) as caught:
        find(archive, tmp_path)
    assert f"cannot extract class/alice/linear.py from {archive}: {reason}" in str(caught.value)


def test_a_linked_student_folder_is_a_student(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class")
    (tmp_path / "attempts" / "dan-2").mkdir(parents=True)
    (tmp_path / "attempts" / "dan-2" / "linear.py").write_text("D = 2\n")
    (root / "dan").symlink_to(tmp_path / "attempts" / "dan-2")
    (root / "ghost").symlink_to(tmp_path / "nowhere")  # dangling: a student we cannot read
    subs = find(root, tmp_path)
    assert [s.student for s in subs] == ["alice", "bob", "carol", "dan", "ghost"]
    assert subs[3].source == "D = 2\n"
    assert not subs[4].ok and "could not read your submission" in subs[4].problem
    assert "ghost is a link to a folder that does not exist" in subs[4].problem
    assert str(tmp_path) not in subs[4].problem  # the student's page: no grader's paths
    assert subs[4].warning == (
        f"{root / 'ghost'} is a link to {tmp_path / 'nowhere'}, which does not exist"
    )


def test_an_empty_file_is_said_to_be_empty_and_does_not_hide_the_real_one(
    tmp_path: Path,
) -> None:
    root = tmp_path / "class"
    (root / "amy").mkdir(parents=True)
    (root / "amy" / "linear.py").write_bytes(b"")  # the upload failed
    (root / "bea").mkdir()
    (root / "bea" / "linear.ipynb").write_bytes(b"")
    (root / "cal").mkdir()  # an empty .py beside the finished notebook: not a second answer
    (root / "cal" / "linear.py").write_bytes(b"")
    (root / "cal" / "linear.ipynb").write_text(
        json.dumps({"cells": [{"cell_type": "code", "source": "A = 1\n"}]})
    )
    amy, bea, cal = find(root, tmp_path)
    assert not amy.ok and not amy.missing
    assert amy.problem == "Your linear.py is empty (0 bytes): the upload may have failed."
    assert amy.warning == "linear.py is empty (0 bytes): the upload may have failed"
    assert bea.problem == "Your linear.ipynb is empty (0 bytes): the upload may have failed."
    assert (cal.filename, cal.source) == ("linear.ipynb", "# In[1]\nA = 1\n")


def test_deep_nesting_in_a_folder_or_a_zip_fails_no_one(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class")
    folders = [os.fsencode(root / "mallory")]
    for _ in range(1200):  # a path of 2,400 bytes, well within PATH_MAX
        folders.append(os.path.join(folders[-1], b"d"))
    for folder in folders:
        os.mkdir(folder)
    try:
        subs = find(root, tmp_path)
    finally:  # deepest first: pytest's own clean-up would recurse 1,200 levels too
        for folder in reversed(folders):
            os.rmdir(folder)
    assert [s.student for s in subs] == ["alice", "bob", "carol", "mallory"]
    assert subs[3].missing and subs[1].source == "B = 1\n"
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("alice/linear.py", "A = 1\n")
        bundle.writestr("mallory/notes.txt", "see the deep folder")
        bundle.writestr("mallory/" + "d/" * 1200 + "x.txt", "deep")  # not extracted
    subs = find(archive, tmp_path)
    assert [s.student for s in subs] == ["alice", "mallory"]
    assert subs[0].source == "A = 1\n" and subs[1].missing


@pytest.mark.parametrize(
    ("members", "needle"),
    [
        (["mallory/" + "a" * 300 + ".py"], "(File name too long)"),
        (["mallory", "mallory/linear.py"], "cannot extract mallory/linear.py"),
    ],
)
def test_a_member_that_cannot_be_a_file_here_is_named_as_bad_input(
    tmp_path: Path, members: list[str], needle: str
) -> None:
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("alice/linear.py", "A = 1\n")
        for name in members:
            bundle.writestr(name, "x")
    with pytest.raises(UsageError) as caught:  # exit 2, not 4: the disk is fine
        find(archive, tmp_path)
    assert needle in str(caught.value) and "re-create the zip" in str(caught.value)


def test_a_zip_with_windows_separators_is_read(tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("alice\\linear.py", "A = 1\n")
        bundle.writestr("bob\\hw\\linear.py", "B = 1\n")
    subs = find(archive, tmp_path)
    assert [(s.student, s.source) for s in subs] == [("alice", "A = 1\n"), ("bob", "B = 1\n")]


@pytest.mark.parametrize(
    "member",
    ["alice/linear/linear.py", "submitted/alice/linear/linear.py", "class/alice/linear.py"],
)
def test_a_zip_of_one_student_keeps_their_id(tmp_path: Path, member: str) -> None:
    archive = tmp_path / "one.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(member, "A = 1\n")
    (sub,) = find(archive, tmp_path)
    assert (sub.student, sub.source) == ("alice", "A = 1\n")


def test_symlinked_module_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "reference.py"
    secret.write_text("SECRET = 42\n")
    (tmp_path / "class" / "mallory").mkdir(parents=True)
    os.symlink(secret, tmp_path / "class" / "mallory" / "linear.py")
    (sub,) = find(tmp_path / "class", tmp_path)
    assert sub.source is None and "symbolic link" in sub.problem


def test_a_linked_assignment_folder_is_refused(tmp_path: Path) -> None:
    solutions = tmp_path / "solutions" / "linear"
    solutions.mkdir(parents=True)
    (solutions / "linear.py").write_text("SECRET = 42\n")
    (tmp_path / "class" / "mallory").mkdir(parents=True)
    os.symlink(solutions, tmp_path / "class" / "mallory" / "linear")
    (sub,) = find(tmp_path / "class", tmp_path)
    assert sub.source is None and not sub.missing
    assert "linear/ in your submission is a symbolic link" in sub.problem


def test_two_candidates_are_ambiguous(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / "class" / "zed" / name).mkdir(parents=True)
        (tmp_path / "class" / "zed" / name / "linear.py").write_text("x = 1\n")
    (tmp_path / "class" / "amy").mkdir()  # a class, not zed's folder alone (one level too high)
    (tmp_path / "class" / "amy" / "linear.py").write_text("y = 1\n")
    (amy, sub) = find(tmp_path / "class", tmp_path)
    assert amy.ok and sub.source is None and "Several files" in sub.problem


def test_missing_folder_and_empty_class_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        find(tmp_path / "nope", tmp_path)
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "smithjohn_12345_678901_linear.py").write_text("x = 1\n")
    (tmp_path / "flat" / "doejane_LATE_22222_678902_linear-1.py").write_text("x = 1\n")
    with pytest.raises(UsageError, match="no student folders") as info:
        find(tmp_path / "flat", tmp_path)
    assert "it holds 2 file(s) like doejane_LATE_22222_678902_linear-1.py instead" in str(
        info.value
    )
    assert "must be sorted into a folder per student first" in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no student folders"):
        find(tmp_path / "empty", tmp_path)


def test_one_students_folder_given_for_the_class_says_so(tmp_path: Path) -> None:
    # Not "an LMS download ... run sort-canvas": that would sort nothing here.
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "linear.py").write_text("x = 1\n")
    (tmp_path / "alice" / "test_linear.py").write_text("x = 1\n")
    with pytest.raises(UsageError, match="no student folders") as info:
        find(tmp_path / "alice", tmp_path)
    message = str(info.value)
    assert "it holds linear.py itself, so it is one student's submission, not the class" in message
    assert "sort-canvas" not in message
    archive = tmp_path / "alice.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("linear.ipynb", "{}")
    with pytest.raises(UsageError, match="it holds linear.ipynb itself") as info:
        find(archive, tmp_path)
    assert "unzip it into a folder named for the student" in str(info.value)
    # A Canvas download that also holds a plain linear.py is still a Canvas download.
    (tmp_path / "alice" / "smithjohn_12345_678901_linear.py").write_text("x = 1\n")
    with pytest.raises(UsageError, match="must be sorted into a folder per student first"):
        find(tmp_path / "alice", tmp_path)


def test_notebook_code_cells_become_a_script_without_magics() -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Title"]},
            {"cell_type": "code", "source": ["%matplotlib inline\n", "import numpy as np"]},
            {"cell_type": "code", "source": "def f(x):\n    return x\n"},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    script = notebook_source(json.dumps(notebook))
    assert "# Title" not in script
    assert "# (IPython line removed) %matplotlib inline" in script
    assert "# In[3]\ndef f(x):" in script
    compile(script, "nb", "exec")


def test_a_notebooks_values_are_counted_outside_its_strings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The count that keeps a notebook of tiny values from costing the grader gigabytes."""
    code = 'a, b = [1, 2], {3: 4}\nprint("x\\\\", "[{,", \'\\"\')\n'  # commas, escapes
    notebook = {"cells": [{"cell_type": "code", "source": [code] * 50}], "nbformat": 4}
    text = json.dumps(notebook)
    # { [ { , [ then 49 commas between the 50 strings, then the comma before "nbformat": 55.
    monkeypatch.setattr("autograder.submissions.MAX_NOTEBOOK_VALUES", 55)
    assert "print(" in notebook_source(text)
    monkeypatch.setattr("autograder.submissions.MAX_NOTEBOOK_VALUES", 54)
    with pytest.raises(ValueError, match="holds more than 54 JSON values"):
        notebook_source(text)


def test_counting_a_notebooks_values_is_linear_in_its_size() -> None:
    """A pattern that skips escapes inside strings itself went quadratic on a text of unclosed
    escaped quotes: 40,000 took 21 s, and 64 MiB would have held a grading process for days.
    Not a timing: a process that has not finished within a minute has hung."""
    program = (
        "from autograder.submissions import _json_values; "
        "print(_json_values('\"' + '\\\\\"' * 2_000_000))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout == "0\n", done.stderr


def test_a_notebook_of_millions_of_short_code_lines_is_refused_without_gigabytes() -> None:
    """The code of a notebook is refused as it is built when over 2 MiB: a 40 MiB cell of
    "%a" lines, split and converted whole before that, took the grader 1.9 GB and 15 s (a
    markdown cell of millions of distinct "def" lines likewise). In a process of its own, to
    measure its memory."""
    program = """if True:
        import json, resource
        from autograder.submissions import notebook_source
        for source in ("%a\\n" * 10_000_000, "".join(f"def f{i:x}(\\n" for i in range(3_000_000))):
            kind = "markdown" if source.startswith("def") else "code"
            text = json.dumps({"cells": [{"cell_type": kind, "source": source}]})
            del source
            try:
                notebook_source(text, "linear.ipynb")
            except ValueError as exc:
                print(exc)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    """
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    *refusals, megabytes = done.stdout.splitlines()
    assert int(megabytes) < 600
    assert refusals == ["the code in linear.ipynb is larger than 2048 KiB."] * 2


def test_many_files_of_the_modules_name_cost_the_grader_time_in_proportion(
    tmp_path: Path,
) -> None:
    """Discovery runs in the grader's own process, for the whole class. Thousands of
    linear/*/linear.py in one folder were told apart in time squared (4,000: 7 s; a zip of
    30,000, a quarter of an hour), and each candidate was tokenized whole, 4 s for 2 MiB of
    dense code, to tell it from the stub (six: 25 s). Now a candidate is tokenized only as far
    as it matches the stub (1.5 s here). Not a timing: a process that has not finished in 20 s
    has hung (32 s before)."""
    many = tmp_path / "class" / "many"
    for i in range(4000):
        (many / "linear" / f"d{i}").mkdir(parents=True)
        (many / "linear" / f"d{i}" / "linear.py").write_text(f"x = {i}\n")
    dense = tmp_path / "class" / "dense"
    for i in range(6):
        (dense / f"d{i}").mkdir(parents=True)
        (dense / f"d{i}" / "linear.py").write_text(f"x{i} = (" + "1," * 1_000_000 + ")\n")
    program = f"""if True:
        from pathlib import Path
        from autograder.submissions import discover
        found = discover(Path({str(tmp_path / "class")!r}), module="linear.py",
                         assignment="linear", workdir=Path({str(tmp_path)!r}),
                         untouched=["def f(x):\\n    raise NotImplementedError\\n"])
        print([s.problem.split(" (")[0] for s in found])
    """
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{[SEVERAL_FILES] * 2}\n"


def test_copies_that_match_the_graded_file_to_their_end_cost_the_grader_seconds(
    tmp_path: Path,
) -> None:
    """Each copy beside the graded file is told from it as code, tokenized as far as it
    matches: twenty copies of dense code that match to their last line were tokenized whole
    (30 s for these, 70 s at 2 MiB each). Past ``COMPARED_BYTES`` a copy is compared as text:
    each is still named. Not a timing: a process that has not finished in 15 s has hung."""
    student = tmp_path / "class" / "sam"
    student.mkdir(parents=True)
    dense = "x = (" + "1," * 375_000 + ")\n"  # 0.75 MiB of dense code
    (student / "linear.py").write_text(dense + "y = 1\n")
    for n in range(1, 21):
        (student / f"linear ({n}).py").write_text(dense + f"y = {n + 1}\n")
    # One that holds the graded file's text again, past the budget: not named.
    (student / "linear (21).py").write_text(dense + "y = 1\n")
    program = f"""if True:
        from pathlib import Path
        from autograder.submissions import discover
        found = discover(Path({str(tmp_path / "class")!r}), module="linear.py",
                         assignment="linear", workdir=Path({str(tmp_path)!r}), untouched=[])
        print(found[0].note)
    """
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=15
    )
    assert done.returncode == 0, done.stderr
    # The first twenty names in order ("linear (9).py" is the 21st): all but the same text.
    assert done.stdout.count("linear (") == 19, done.stdout
    assert "linear (21).py" not in done.stdout and "linear (20).py" in done.stdout


def test_an_old_format_notebook_is_read_as_jupyter_upgrades_it() -> None:
    """nbformat 3 (IPython 1-2): cells in worksheets, code under "input"."""
    v3 = {
        "metadata": {"name": ""},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "heading", "level": 1, "source": ["Title"]},
                    {"cell_type": "code", "input": ["import numpy as np"], "language": "python"},
                ]
            },
            {"cells": [{"cell_type": "code", "input": "def f(x):\n    return x\n"}]},
        ],
    }
    v4 = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Title"]},
            {"cell_type": "code", "source": ["import numpy as np"]},
            {"cell_type": "code", "source": "def f(x):\n    return x\n"},
        ],
        "nbformat": 4,
    }
    assert notebook_source(json.dumps(v3)) == notebook_source(json.dumps(v4))
    assert "# In[3]\ndef f(x):" in notebook_source(json.dumps(v3))


def test_unreadable_sources_say_why(tmp_path: Path) -> None:
    bad = tmp_path / "linear.ipynb"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not a valid Jupyter notebook"):
        read_source(bad)
    binary = tmp_path / "linear.py"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="not UTF-8"):
        read_source(binary)
    surrogate = tmp_path / "linear.ipynb"
    cell = {"cell_type": "code", "source": "x = 1\n# caf\udcff\n"}
    surrogate.write_text(json.dumps({"cells": [cell]}))  # ensure_ascii: written as \udcff
    with pytest.raises(ValueError, match="not valid Unicode"):
        read_source(surrogate)


@pytest.mark.parametrize(
    ("notebook", "reason"),
    [
        ('{"cells": 5}', "no list of cells"),
        ('{"cells": null}', "no list of cells"),
        ("[1, 2]", "no list of cells"),
        ('{"worksheets": [{"cells": 3}]}', "no list of cells"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"cells": [{"cell_type": "code", "source": [1, 2]}]}', "cell 1 is not text"),
        ('{"cells": [{"cell_type": "code", "source": {"a": 1}}]}', "cell 1 is not text"),
    ],
)
def test_a_malformed_notebook_fails_that_student_only(
    tmp_path: Path, notebook: str, reason: str
) -> None:
    root = make_class(tmp_path / "class")
    (root / "alice" / "linear.py").unlink()
    (root / "alice" / "linear.ipynb").write_text(notebook)
    alice, bob, _ = find(root, tmp_path)
    assert not alice.ok and not alice.missing
    assert "linear.ipynb is not a valid Jupyter notebook" in alice.problem
    assert reason in alice.problem
    assert bob.source == "B = 1\n"


def test_a_file_the_grader_cannot_read_fails_that_student_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_class(tmp_path / "class")
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.parent.name == "alice":  # as an unprivileged grader sees a 0600 file of another
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    alice, bob, _ = find(root, tmp_path)
    assert not alice.ok and not alice.missing
    assert "could not read your submission (Permission denied: alice/linear.py)" in alice.problem
    # The student's page does not show where the class lies on the grader's disk; the
    # grader's terminal does.
    assert str(tmp_path) not in alice.problem
    assert alice.warning == f"cannot read {root / 'alice' / 'linear.py'} (Permission denied)"
    assert bob.source == "B = 1\n"


def test_a_class_folder_that_cannot_be_listed_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_class(tmp_path / "class")
    real_iterdir = Path.iterdir

    def iterdir(path: Path) -> Iterator[Path]:
        if path == root:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_iterdir(path)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(UsageError, match=f"cannot list the submissions in {root}: Permission"):
        find(root, tmp_path)


def test_a_zip_that_does_not_fit_on_the_disk_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_class(tmp_path / "class")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(tmp_path / "class" / "alice" / "linear.py", "class/alice/linear.py")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("autograder.submissions.shutil.copyfileobj", full)
    with pytest.raises(OutputError, match=r"cannot unpack .*class\.zip .*No space left"):
        find(archive, tmp_path)


def test_a_folder_name_that_is_not_utf8_is_read_as_latin1(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class")
    folder = os.path.join(os.fsencode(root), b"jos\xe9")  # as a Latin-1 LMS export names it
    os.mkdir(folder)
    with open(os.path.join(folder, b"linear.py"), "w") as handle:
        handle.write("J = 1\n")
    subs = find(root, tmp_path)
    assert [s.student for s in subs] == ["alice", "bob", "carol", "josé"]
    assert subs[3].source == "J = 1\n"
    subs[3].student.encode("utf-8")  # every report can hold it


def test_a_notebook_is_measured_by_its_code_not_its_saved_plots(tmp_path: Path) -> None:
    plot = {"output_type": "display_data", "data": {"image/png": "A" * (4 << 20)}}
    cells = [
        {"cell_type": "code", "source": "x = 1\n", "outputs": [plot]},
    ]
    notebook = tmp_path / "linear.ipynb"
    notebook.write_text(json.dumps({"cells": cells}))
    assert "x = 1" in read_source(notebook)
    cells.append({"cell_type": "code", "source": "# " + "y" * (3 << 20) + "\n", "outputs": []})
    notebook.write_text(json.dumps({"cells": cells}))
    with pytest.raises(ValueError, match="the code in linear.ipynb is larger than 2048 KiB"):
        read_source(notebook)


def test_zip_names_written_without_the_utf8_flag_are_read_as_meant(tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:  # ASCII stand-ins of the same length...
        bundle.writestr("josAB/linear.py", "J = 1\n")
        bundle.writestr("renQe/linear.py", "R = 1\n")
    data = archive.read_bytes()  # ...become the bytes Info-ZIP (UTF-8) and an LMS (Latin-1) write
    data = data.replace(b"josAB", "josé".encode()).replace(b"renQe", b"ren\xe9e")
    archive.write_bytes(data)
    with zipfile.ZipFile(archive) as bundle:
        assert not any(m.flag_bits & 0x800 for m in bundle.infolist())
    subs = find(archive, tmp_path)
    assert [(s.student, s.source) for s in subs] == [("josé", "J = 1\n"), ("renée", "R = 1\n")]


def test_two_folders_with_one_student_id_are_refused(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class")
    for raw in ("josé".encode(), b"jos\xe9"):  # UTF-8 and Latin-1 spellings of one name
        folder = os.path.join(os.fsencode(root), raw)
        os.mkdir(folder)
        with open(os.path.join(folder, b"linear.py"), "w") as handle:
            handle.write("J = 1\n")
    with pytest.raises(UsageError, match="are the same student id, 'josé'; rename one"):
        find(root, tmp_path)


def test_an_earlier_output_folder_in_the_class_is_no_student(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class")
    (root / "results" / ".autograder").mkdir(parents=True)  # an earlier run's --out
    (root / "results" / ".autograder" / "journal.jsonl").write_text("{}\n")
    (root / "results" / "feedback").mkdir()
    assert [s.student for s in find(root, tmp_path)] == ["alice", "bob", "carol"]


def test_a_student_cannot_hide_from_grading_behind_a_journal(tmp_path: Path) -> None:
    """A student folder holding .autograder/journal.jsonl was skipped as an earlier run's
    output folder: that student silently had no grade (and on Gradescope, no result)."""
    root = make_class(tmp_path / "class")
    (root / "bob" / ".autograder").mkdir()
    (root / "bob" / ".autograder" / "journal.jsonl").write_text("{}\n")
    assert [s.student for s in find(root, tmp_path)] == ["alice", "bob", "carol"]


def test_notebook_cells_that_are_not_python_are_left_out() -> None:
    cells = [
        {"cell_type": "code", "source": "def f(x):\n    return x\n"},
        {"cell_type": "code", "source": "%%bash\necho hello\nls -l"},
        {"cell_type": "code", "source": "%%html\n<b>bold</b>"},
        {"cell_type": "code", "source": "%%time\ny = f(2)"},
        {"cell_type": "code", "source": "np.sum?\n??f\nz = 'why?'  # really?"},
    ]
    script = notebook_source(json.dumps({"cells": cells}))
    compile(script, "nb", "exec")
    assert "# (IPython cell removed) echo hello" in script
    assert "\ny = f(2)" in script  # %%time's body is Python: kept
    assert "\nz = 'why?'  # really?" in script
    assert "# (IPython line removed) np.sum?" in script


def test_a_function_in_a_cell_that_is_not_code_is_named_but_not_run() -> None:
    cells = [
        {"cell_type": "markdown", "source": ["Mine:\n", "    def relu(x):\n", "def relu(y):"]},
        {"cell_type": "code", "source": "import math\n"},
        {"cell_type": "raw", "source": "async def  step (x):\n    return x\n"},
        {"cell_type": "markdown", "source": [1, "def bad(x):"]},  # not text: nothing to name
        {"cell_type": "markdown", "source": "A sentence about def inition (x)."},
    ]
    script = notebook_source(json.dumps({"cells": cells}))
    assert script == (
        "# (cell 1, not run) def relu(\n\n# In[2]\nimport math\n\n# (cell 3, not run) def step(\n"
    )


def test_a_damaged_zip_is_called_that(tmp_path: Path) -> None:
    (tmp_path / "class.zip").write_text("not a zip\n")
    with pytest.raises(UsageError, match=r"class.zip is not a valid zip archive \(damaged"):
        find(tmp_path / "class.zip", tmp_path)
    (tmp_path / "class.txt").write_text("not a zip\n")
    with pytest.raises(UsageError, match="class.txt is neither a folder nor a .zip file"):
        find(tmp_path / "class.txt", tmp_path)


def test_a_file_in_its_declared_encoding_is_read_as_python_reads_it(tmp_path: Path) -> None:
    declared = tmp_path / "linear.py"
    declared.write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\nX = 1\n")
    assert "# café\nX = 1" in read_source(declared)
    compile(read_source(declared), "linear.py", "exec")
    undeclared = tmp_path / "other.py"
    undeclared.write_bytes(b"# caf\xe9\nX = 1\n")
    with pytest.raises(ValueError, match=r"other.py is not UTF-8 text \(byte 5 is not\); save"):
        read_source(undeclared)


def test_notebook_lines_break_where_python_breaks_them() -> None:
    # A form feed or U+2028 inside a string is no line break for Python (nor for Jupyter).
    cells = [{"cell_type": "code", "source": "s = 'a\x0cb'\nt = 'c\u2028d'\nu = 1\r\nv = 2\r\n"}]
    source = notebook_source(json.dumps({"cells": cells}))
    namespace: dict[str, object] = {}
    exec(compile(source, "linear.ipynb", "exec"), namespace)
    assert namespace["s"] == "a\x0cb" and namespace["t"] == "c\u2028d" and namespace["v"] == 2


def test_ipython_lines_become_python_that_keeps_the_blocks_intact() -> None:
    # As IPython runs them: %time and %timeit run their code (once here), a magic's or a
    # shell command's value is None, and a removed line leaves a block that still parses.
    cells = [
        {
            "cell_type": "code",
            "source": "import sys\nif 'google.colab' in sys.modules:\n    !pip install -q tqdm\n"
            "else:\n    %load_ext autoreload\n",
        },
        {
            "cell_type": "code",
            "source": "def f(x):\n    return 2 * x\n_ = %time f(3)\n"
            "t = %timeit -n 10 -r 3 -q f(4)\nfiles = !ls\nfor k in (1, 2):\n    %time y = f(k)\n"
            "%timeit -n10 z = f(5)\nf?\n",
        },
        {
            "cell_type": "code",
            "source": "if True:\n    !pip install -q \\\n        tqdm\nk = [0]\nk[0] = !ls\n",
        },
    ]
    source = notebook_source(json.dumps({"cells": cells}))
    namespace: dict[str, object] = {}
    exec(compile(source, "linear.ipynb", "exec"), namespace)
    assert (namespace["_"], namespace["t"], namespace["y"], namespace["z"]) == (6, 8, 4, 10)
    assert namespace["files"] is None and namespace["k"] == [None]
    # %time's code continued with a backslash stays Python; a "name = %s" line of a string
    # stays text where the cell is too long to be read statement by statement.
    timed = "def f(a, b):\n    return a + b\n%time r = f(1, \\\n    2)\n"
    text = '%matplotlib inline\nt = """\nname = %s\n"""\n' + "#\n" * 70000
    cells = [{"cell_type": "code", "source": source} for source in (timed, text)]
    more: dict[str, object] = {}
    exec(compile(notebook_source(json.dumps({"cells": cells})), "linear.ipynb", "exec"), more)
    assert more["r"] == 3 and more["t"] == "\nname = %s\n"
    assert "    pass  # (IPython line removed) !pip install -q tqdm\n" in source
    assert "\nfiles = None  # (IPython line removed) !ls\n" in source


def test_a_line_starting_with_percent_inside_a_statement_is_python_not_a_magic() -> None:
    cells = [
        {"cell_type": "code", "source": "%matplotlib inline\nmsg = ('v %d'\n% 3)\n"},
        {"cell_type": "code", "source": 'doc = """\n% of the total\n"""\n!ls\n'},
    ]
    namespace: dict[str, object] = {}
    exec(compile(notebook_source(json.dumps({"cells": cells})), "linear.ipynb", "exec"), namespace)
    assert namespace["msg"] == "v 3"
    assert namespace["doc"] == "\n% of the total\n"


def find_noting(root: Path, tmp_path: Path, **kwargs: Path) -> tuple[list[Submission], ClassNotes]:
    notes = ClassNotes()
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    found = discover(
        root, module="linear.py", assignment="linear", workdir=work, notes=notes, **kwargs
    )
    return found, notes


def zip_folder(folder: Path, archive: Path, *, top: bool = True) -> Path:
    """A zip of ``folder`` (its name the zip's top folder, with ``top``) or of what it holds."""
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(folder.rglob("*")):
            bundle.write(path, path.relative_to(folder.parent if top else folder))
    return archive


def test_a_class_one_folder_too_high_is_refused_saying_what_to_grade(tmp_path: Path) -> None:
    """A Mac's HW3/ beside __MACOSX/ was one student "HW3", 'error' (several files)."""
    high = tmp_path / "high"
    make_class(high / "HW3")
    (high / "__MACOSX" / "HW3").mkdir(parents=True)
    (high / "HW3" / "zoe").mkdir()
    (high / "HW3" / "zoe" / "linear.ipynb").write_text("{}")
    with pytest.raises(UsageError) as caught:
        find(high, tmp_path)
    message = str(caught.value)
    assert f"is {high} one folder above the class?" in message
    assert "HW3/ in it holds 3 folders with linear.py in them (alice, bob, zoe)" in message
    assert f"grade {high / 'HW3'}" in message and "Nothing was graded" in message
    # A folder beside it that holds no submission (notes, a roster) changes nothing.
    (high / "notes").mkdir()
    (high / "notes" / "todo.txt").write_text("grade HW3\n")
    with pytest.raises(UsageError, match="one folder above the class"):
        find(high, tmp_path)
    # nbgrader's course folder inside another folder: the same.
    shutil.copytree(high / "HW3", tmp_path / "top" / "course" / "submitted")
    with pytest.raises(UsageError, match=r"course/ in it holds 1 folders .* \(submitted\)"):
        find(tmp_path / "top", tmp_path)
    # A zip of the folder too high: unzip it and grade that folder.
    (high / "readme.txt").write_text("HW3 of the class\n")
    with pytest.raises(UsageError) as caught:
        find(zip_folder(high, tmp_path / "high.zip"), tmp_path)
    assert "high.zip one folder above the class?" in str(caught.value)
    assert "unzip it and grade the folder high/HW3/ in it" in str(caught.value)


def test_a_class_with_a_student_who_has_two_copies_is_graded(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class")
    for name in ("v1", "v2"):
        (root / "zed" / name).mkdir(parents=True)
        (root / "zed" / name / "linear.py").write_text("Z = 1\n")
    subs = find(root, tmp_path)
    assert [s.student for s in subs] == ["alice", "bob", "carol", "zed"]
    assert "Several files" in subs[3].problem


CANVAS_FILES = (
    "smithjohn_12345_67890_linear.py",
    "doejane_LATE_22222_70001_linear-2.py",
    "leeann_33333_70002_Linear.py",
    "kimbo_44444_70003_linear (1).py",
)


def test_an_lms_download_one_folder_down_is_refused_saying_how_to_sort_it(
    tmp_path: Path,
) -> None:
    flat = tmp_path / "t1" / "submissions"
    flat.mkdir(parents=True)
    for name in CANVAS_FILES:
        (flat / name).write_text("x = 1\n")
    with pytest.raises(UsageError) as caught:
        find(tmp_path / "t1", tmp_path)
    message = str(caught.value)
    assert f"is {tmp_path / 't1'} one folder above the class?" in message
    assert "submissions/ holds an LMS download (4 files like " in message
    assert f"'autograder sort-canvas linear {flat}' (for Canvas's names only" in message
    with pytest.raises(UsageError) as caught:
        find(zip_folder(flat, tmp_path / "canvas-top.zip"), tmp_path)
    assert "unzip it into a folder DIR, run 'autograder sort-canvas linear DIR/submissions'" in (
        str(caught.value)
    )
    # One student's own folder holding their Canvas-named file is a student, no LMS download.
    (tmp_path / "one" / "smithjohn").mkdir(parents=True)
    (tmp_path / "one" / "smithjohn" / CANVAS_FILES[0]).write_text("x = 1\n")
    (sub,) = find(tmp_path / "one", tmp_path)
    assert sub.missing


def test_a_zip_of_a_sorted_lms_download_grades_its_students_and_notes_the_rest(
    tmp_path: Path,
) -> None:
    """The leftover LMS files beside the sorted folders made the zip's top folder a student."""
    sorted_ = tmp_path / "submissions"
    for name in ("doejane", "smithjohn"):
        (sorted_ / name).mkdir(parents=True)
        (sorted_ / name / "linear.py").write_text(f"N = '{name}'\n")
    for name in CANVAS_FILES:
        (sorted_ / name).write_text("x = 1\n")
    (sorted_ / "smithjohn_12345_67890_linear_nd.py").write_text("another assignment's\n")
    subs, notes = find_noting(zip_folder(sorted_, tmp_path / "sorted.zip"), tmp_path)
    assert [(s.student, s.source) for s in subs] == [
        ("doejane", "N = 'doejane'\n"),
        ("smithjohn", "N = 'smithjohn'\n"),
    ]
    assert notes.lms_files == sorted(CANVAS_FILES)
    subs, notes = find_noting(sorted_, tmp_path)  # the folder itself: the same
    assert len(subs) == 2 and notes.lms_files == sorted(CANVAS_FILES)


def test_what_an_unsorted_download_or_a_zip_of_zips_holds_is_said(tmp_path: Path) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in CANVAS_FILES:
        (flat / name).write_text("x = 1\n")
    with pytest.raises(UsageError) as caught:
        find(flat, tmp_path)
    assert "it holds 4 file(s) like" in str(caught.value)  # Linear.py counted too
    assert f"'autograder sort-canvas linear {flat}' (for Canvas's names only" in str(caught.value)
    with pytest.raises(UsageError) as caught:
        find(zip_folder(flat, tmp_path / "canvas.zip", top=False), tmp_path)
    assert "unzip it into a folder DIR, run 'autograder sort-canvas linear DIR'" in str(
        caught.value
    )
    zips = tmp_path / "zips"
    zips.mkdir()
    for student in ("alice", "bob"):
        zip_folder(make_class(tmp_path / student), zips / f"{student}.zip")
    with pytest.raises(UsageError) as caught:
        find(zip_folder(zips, tmp_path / "zipofzips.zip", top=False), tmp_path)
    assert "it holds 2 zip file(s) (alice.zip, bob.zip) instead: unzip it, then unzip each" in (
        str(caught.value)
    )


def test_students_who_handed_in_a_misnamed_file_or_a_zip_are_noted(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class")
    handed_in = {
        "anna": "Linear.py",
        "bo": "linear (1).py",
        "cy": "linear.py.txt",
        "di": "linear.PY",
        "ed": "hw/Copy of linear.ipynb",
        "fay": "linear-2.py",
    }
    for student, name in handed_in.items():
        (root / student / name).parent.mkdir(parents=True)
        (root / student / name).write_text("x = 1\n")
    (root / "gus").mkdir()
    (root / "gus" / "linear_nd.py").write_text("another assignment\n")
    for student in ("hal", "ida"):
        (root / student).mkdir()
        zip_folder(make_class(tmp_path / student), root / student / f"{student}.zip")
    subs, notes = find_noting(root, tmp_path)
    assert all(s.missing for s in subs if s.student not in ("alice", "bob"))
    assert notes.misnamed == [(student, (name,)) for student, name in sorted(handed_in.items())]
    assert notes.zipped == [("hal", ("hal.zip",)), ("ida", ("ida.zip",))]
    # From a zip of the class too (its folders are gone by the time grade warns).
    _, zipped = find_noting(zip_folder(root, tmp_path / "class.zip"), tmp_path)
    assert zipped.misnamed == notes.misnamed and zipped.zipped == notes.zipped


def test_folders_beside_nbgraders_submitted_that_hold_the_module_are_noted(
    tmp_path: Path,
) -> None:
    course = tmp_path / "nbg"
    shutil.copytree(make_class(tmp_path / "class"), course / "submitted")
    for kept in ("source", "release", "autograded/alice", "feedback/alice"):
        (course / kept / "linear").mkdir(parents=True)
        (course / kept / "linear" / "linear.py").write_text("nbgrader's\n")
    (course / "latebird").mkdir()
    (course / "latebird" / "linear.py").write_text("L = 1\n")
    (course / "out" / "latebird").mkdir(parents=True)  # --out inside: not a student
    (course / "out" / "latebird" / "linear.py").write_text("L = 1\n")
    (course / "notes").mkdir()
    (course / "notes" / "todo.txt").write_text("x\n")
    subs, notes = find_noting(course, tmp_path, exclude=[course / "out"])
    assert [s.student for s in subs] == ["alice", "bob", "carol"]
    assert notes.beside_submitted == ["latebird"]


STUB = '''"""A module.

Its docstring spans lines.
"""


def forward(x):
    # YOUR CODE HERE
    raise NotImplementedError("forward: not implemented yet")
'''


@pytest.mark.parametrize(
    "saved_as",
    [
        pytest.param(lambda s: s.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda s: s.replace("\n", "\r"), id="cr"),
        pytest.param(lambda s: s.rstrip("\n"), id="no-final-newline"),
        pytest.param(lambda s: "\ufeff" + s, id="bom"),
        pytest.param(lambda s: s.replace("\n", "  \n"), id="trailing-spaces"),
        pytest.param(lambda s: s.replace("\n", " \t\r\n").rstrip(), id="all-of-them"),
    ],
)
def test_a_stub_is_a_stub_however_it_was_saved(tmp_path: Path, saved_as) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "class" / "zoe"
    folder.mkdir(parents=True)
    (folder / "linear.py").write_bytes(saved_as(STUB).encode("utf-8"))
    notebook = {"cells": [{"cell_type": "code", "source": "def forward(x):\n    return x\n"}]}
    (folder / "linear.ipynb").write_text(json.dumps(notebook))
    work = tmp_path / "work"
    work.mkdir()
    (sub,) = discover(
        tmp_path / "class", module="linear.py", assignment="linear", workdir=work, untouched=[STUB]
    )
    assert (sub.filename, sub.problem) == ("linear.ipynb", "")
    assert "return x" in (sub.source or "")


def test_the_release_folder_handed_in_does_not_hide_the_finished_file_beside_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "class"
    finished = "def forward(x):\n    return x\n"
    # ann: the release folder (stubs) handed in, and the finished notebook beside it
    (root / "ann" / "linear").mkdir(parents=True)
    (root / "ann" / "linear" / "linear.py").write_text(STUB)
    (root / "ann" / "linear" / "linear.ipynb").write_text(
        json.dumps({"cells": [{"cell_type": "code", "source": STUB}]})
    )
    (root / "ann" / "linear.ipynb").write_text(
        json.dumps({"cells": [{"cell_type": "code", "source": finished}]})
    )
    # ben: the same with a .py
    shutil.copytree(root / "ann" / "linear", root / "ben" / "linear")
    (root / "ben" / "linear.py").write_text(finished)
    # cid: a linear/ folder with only the handout in it
    (root / "cid" / "linear").mkdir(parents=True)
    (root / "cid" / "linear" / "README.md").write_text("# Linear\n")
    (root / "cid" / "linear.py").write_text(finished)
    # dee (nbgrader): her linear/ work is graded, not another assignment's file of that name
    for name in ("linear", "hw0"):
        (root / "dee" / name).mkdir(parents=True)
        (root / "dee" / name / "linear.py").write_text(f"{finished}# {name}\n")
    # eve: only stubs, inside linear/ and beside it: the one in linear/ (it says what to do)
    (root / "eve" / "linear").mkdir(parents=True)
    (root / "eve" / "linear" / "linear.py").write_text(STUB)
    (root / "eve" / "linear.py").write_text(STUB.replace("# YOUR", "# (v1) YOUR"))
    work = tmp_path / "work"
    work.mkdir()
    subs = discover(root, module="linear.py", assignment="linear", workdir=work, untouched=[STUB])
    got = {s.student: (s.filename, s.source, s.problem) for s in subs}
    assert got["ann"] == ("linear.ipynb", f"# In[1]\n{finished}", "")
    assert got["ben"] == ("linear.py", finished, "")
    assert got["cid"] == ("linear.py", finished, "")
    assert got["dee"] == ("linear.py", f"{finished}# linear\n", "")
    assert got["eve"] == ("linear.py", STUB, "")


def test_a_changed_file_outside_the_assignment_folder_is_named_not_graded(
    tmp_path: Path,
) -> None:
    """Of two changed files, the one in linear/ is graded; the other was said nowhere."""
    root = tmp_path / "class"
    # fay: her finished file in the release folder, and another version beside it
    (root / "fay" / "linear").mkdir(parents=True)
    (root / "fay" / "linear" / "linear.py").write_text("A = 1\n")
    (root / "fay" / "linear.py").write_text("A = 2\n")
    # gus: two other folders, one holding the graded code again (nothing else to grade)
    for name, text in (("linear", "A = 1\n"), ("v2", "A = 2\n"), ("old", "# same\nA = 1\n")):
        (root / "gus" / name).mkdir(parents=True)
        (root / "gus" / name / "linear.py").write_text(text)
    work = tmp_path / "work"
    work.mkdir()
    fay, gus = discover(
        root, module="linear.py", assignment="linear", workdir=work, untouched=[STUB]
    )
    for sub, other in ((fay, "linear.py"), (gus, "v2/linear.py")):
        assert (sub.filename, sub.source, sub.problem) == ("linear.py", "A = 1\n", "")
        assert sub.note == (
            f"{other} was not graded: linear/linear.py, in your linear/ folder, was. If that file "
            "is the version you meant, tell your instructor."
        )
        assert sub.warning == (
            f"graded linear/linear.py, not {other} outside linear/, which holds other code (to "
            "grade that instead, put it in place of linear/linear.py and grade again)"
        )


def test_a_copy_under_another_name_beside_the_graded_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "class" / "sam"
    folder.mkdir(parents=True)
    (folder / "linear.py").write_text("A = 1\n")
    (folder / "linear-1.py").write_text("A = 2\n")  # Canvas's resubmission
    (folder / "linear(2).ipynb").write_text(
        json.dumps({"cells": [{"cell_type": "code", "source": "A = 3\n"}]})
    )
    (folder / "Copy of linear.py").write_text("A = 4\n")  # Google Drive
    (folder / "linear - Copy.py").write_text("A = 5\n")  # Windows
    (folder / "linear (1).py").write_text("# the same code\nA = 1\n")  # nothing else to grade
    (folder / "linear copy.py").write_text(STUB)  # still the stub: nothing else either
    (folder / "linear_final.py").write_text("A = 6\n")  # not a copy of it: a helper, maybe
    (folder / "linear-checkpoint.ipynb").write_text("{}")
    later = (folder / "linear.py").stat().st_mtime + 60
    os.utime(folder / "linear-1.py", (later, later))
    work = tmp_path / "work"
    work.mkdir()
    (sub,) = discover(
        tmp_path / "class", module="linear.py", assignment="linear", workdir=work, untouched=[STUB]
    )
    # The file of the exact name is graded, as before; the copies are named, not graded.
    assert (sub.filename, sub.source, sub.problem) == ("linear.py", "A = 1\n", "")
    copies = (
        "Copy of linear.py, linear - Copy.py, linear(2).ipynb, linear-1.py (saved after linear.py)"
    )
    assert sub.note == (
        f"{copies} beside linear.py were not graded: a file counts only under its exact name "
        "(linear.py or linear.ipynb). If one of them is the version you meant, tell your "
        "instructor."
    )
    assert sub.warning == (
        f"graded linear.py, not {copies} beside it, which hold other code (to grade one instead, "
        "rename it linear.py and grade again)"
    )


def test_a_copy_beside_an_empty_file_is_named_too(tmp_path: Path) -> None:
    folder = tmp_path / "class" / "sam"
    folder.mkdir(parents=True)
    (folder / "linear.py").write_bytes(b"")  # the first upload failed, the second one is a copy
    (folder / "linear (1).py").write_text("A = 1\n")
    (sub,) = find(tmp_path / "class", tmp_path)
    assert not sub.ok and "empty (0 bytes)" in sub.problem
    assert sub.note.startswith("linear (1).py beside linear.py was not graded: ")
    assert sub.warning == (
        "linear.py is empty (0 bytes): the upload may have failed; graded linear.py, not "
        "linear (1).py beside it, which holds other code (to grade that instead, rename it "
        "linear.py and grade again)"
    )


def test_student_ids_are_nfc_whichever_system_made_the_folder(tmp_path: Path) -> None:
    nfc, nfd = "Zo\u00eb \u00dcnal", "Zoe\u0308 U\u0308nal"  # Linux/Windows, macOS
    (tmp_path / "class" / nfd).mkdir(parents=True)
    (tmp_path / "class" / nfd / "linear.py").write_text("A = 1\n")
    (sub,) = find(tmp_path / "class", tmp_path)
    assert sub.student == nfc and sub.source == "A = 1\n"
    # The same name made on a Mac and elsewhere: one id, refused like any two folders of one id.
    (tmp_path / "class" / nfc).mkdir()
    (tmp_path / "class" / nfc / "linear.py").write_text("A = 2\n")
    with pytest.raises(UsageError, match="are the same student id") as caught:
        find(tmp_path / "class", tmp_path)
    # The two paths look the same on a terminal: say why they are two.
    assert "its accents written two ways: one folder was made on a Mac" in str(caught.value)


def test_ids_that_differ_only_in_case_or_end_spaces_are_grouped() -> None:
    from autograder.submissions import look_alike_ids

    ids = ["Alice", "alice", "ALICE ", "bob", "Bo b", "Jos\u00e9", "JOSE\u0301"]
    ids += ["Stra\u00dfe", "STRASSE"]
    assert look_alike_ids(ids) == [
        ["ALICE ", "Alice", "alice"],
        ["JOSE\u0301", "Jos\u00e9"],
        ["STRASSE", "Stra\u00dfe"],
    ]


def test_moodles_online_text_folder_is_not_a_second_student(tmp_path: Path) -> None:
    """Moodle writes a folder per student and plugin: the online text of a student who also
    handed in files was a second, 'missing' student."""
    root = tmp_path / "moodle"
    for name, files in (
        ("Ed Po_12351_assignsubmission_file_", {"linear.py": "A = 1\n"}),
        ("Ed Po_12351_assignsubmission_onlinetext_", {"onlinetext.html": "<p>done</p>"}),
        ("Al Bo_12352_assignsubmission_onlinetext_", {"onlinetext.html": "<p>sorry</p>"}),
    ):
        (root / name).mkdir(parents=True)
        for file, text in files.items():
            (root / name / file).write_text(text)
    found = {s.student: s for s in find(root, tmp_path)}
    # Al Bo handed in text only: still a student of the class, graded as missing.
    assert sorted(found) == [
        "Al Bo_12352_assignsubmission_onlinetext_",
        "Ed Po_12351_assignsubmission_file_",
    ]
    assert found["Al Bo_12352_assignsubmission_onlinetext_"].missing
    assert not found["Ed Po_12351_assignsubmission_file_"].missing


@pytest.mark.parametrize(
    ("copy_minutes_later", "said"), [(0, "linear-1.py"), (2, "linear-1.py (saved after linear.py)")]
)
def test_copies_in_a_zip_are_dated_by_the_zip_not_by_how_long_unpacking_took(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy_minutes_later: int, said: str
) -> None:
    """Whether a copy beside the graded file was "saved after" it is the zip's to say (its
    members' times, as ``unzip`` would set them), not the moment each member was unpacked: a
    copy unpacked more than a second after linear.py (a large member between them, a busy
    disk) was called later in one run and not in the next, and the feedback in grades.json
    changed between two runs on the same zip."""
    import autograder.submissions as submissions

    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(zipfile.ZipInfo("class/sam/linear.py", (2026, 3, 1, 10, 0, 0)), "A = 1\n")
        copy = zipfile.ZipInfo("class/sam/linear-1.py", (2026, 3, 1, 10, copy_minutes_later, 0))
        bundle.writestr(copy, "A = 2\n")
        bundle.writestr("class/tom/linear.py", "A = 3\n")
    extract = submissions._extract_member

    def slow(bundle, member, destination, archive):  # type: ignore[no-untyped-def]
        extract(bundle, member, destination, archive)
        if destination.name == "linear-1.py":  # unpacked a minute after linear.py
            later = time.time() + 60
            os.utime(destination, (later, later))

    monkeypatch.setattr(submissions, "_extract_member", slow)
    sam, _ = find(archive, tmp_path)
    assert sam.note.startswith(f"{said} beside linear.py was not graded")
