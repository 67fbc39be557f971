"""Working folders: removed on the way out; a killed run's removed by the next run of its
kind; a living run's, another kind's and anything that is not a folder left alone."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder.scratch import scratch_folder

HOLD = """\
import sys, time
from autograder.scratch import scratch_folder
with scratch_folder("verify", "held") as path:
    print(path, flush=True)
    time.sleep(60)
"""


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_folder_is_private_and_gone_on_the_way_out(tmp: Path) -> None:
    with scratch_folder("verify", "linear") as path:
        assert path.parent == tmp and path.name.startswith("autograder-verify-linear-")
        assert path.stat().st_mode & 0o777 == 0o700
        (path / "class").mkdir()
    assert not path.exists()
    with pytest.raises(RuntimeError), scratch_folder("verify", "linear") as path:
        raise RuntimeError
    assert not path.exists()


def test_only_folders_no_living_run_holds_are_swept(tmp: Path) -> None:
    killed = tmp / "autograder-verify-linear-killed"  # nobody holds it
    (killed / "class" / "reference").mkdir(parents=True)
    other_kind = tmp / "autograder-other-linear-x"
    other_kind.mkdir()
    a_file = tmp / "autograder-verify-file"
    a_file.write_text("not a folder\n")
    link = tmp / "autograder-verify-link"
    link.symlink_to(other_kind)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD],
        stdout=subprocess.PIPE,
        text=True,
        env={"TMPDIR": str(tmp), "PATH": "/usr/bin:/bin"},
    )
    try:
        held = Path(holder.stdout.readline().strip())  # type: ignore[union-attr]
        assert held.parent == tmp
        with scratch_folder("verify", "linear") as mine:
            assert not killed.exists()
            assert held.is_dir() and other_kind.is_dir() and a_file.is_file() and link.exists()
        assert sorted(p.name for p in tmp.iterdir()) == sorted(
            [held.name, other_kind.name, a_file.name, link.name]
        )
        assert not mine.exists()
    finally:
        holder.kill()
        holder.wait()
    with scratch_folder("verify", "linear"):
        assert not held.exists()  # its run is dead now


RACE = """\
import sys
from autograder.scratch import scratch_folder
errors = 0
for _ in range(int(sys.argv[1])):
    try:
        with scratch_folder("verify", "race") as path:
            (path / "x").write_text("x")
            assert (path / "x").read_text() == "x"
    except Exception as exc:
        errors += 1
        print(type(exc).__name__, exc, file=sys.stderr)
print(errors)
"""


def test_runs_that_start_and_sweep_at_once_never_fail(tmp: Path) -> None:
    # Each run sweeps before it makes its own folder: a sweep may catch another's new folder
    # in the moment before its lock. That run must make another, not fail.
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, "400"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"TMPDIR": str(tmp), "PATH": "/usr/bin:/bin"},
        )
        for _ in range(4)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [out.strip() for out, _ in outputs] == ["0"] * 4, [err[-300:] for _, err in outputs]
    assert list(tmp.iterdir()) == []


def test_a_folder_still_written_into_while_it_is_removed_is_removed(
    tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed verify's grading processes may write one more file while the next run sweeps
    their folder; rmtree then left it (and its copy of the reference) behind: a fresh-clone
    `make test` under load caught one in test_a_killed_verify_leaves_no_copy_of_the_solution."""
    import shutil

    import autograder.scratch as scratch

    real = shutil.rmtree
    late: list[Path] = []

    def rmtree_while_written(path: Path, ignore_errors: bool = False) -> None:
        real(path, ignore_errors=ignore_errors)
        if not late:  # a straggler recreates part of the tree just after
            late.append(Path(path) / ".autograder" / "zygote.log")
            late[0].parent.mkdir(parents=True)
            late[0].write_text("late")

    monkeypatch.setattr(scratch.shutil, "rmtree", rmtree_while_written)
    with scratch_folder("verify", "linear") as path:
        (path / "class").mkdir()
    assert late and not path.exists()
