"""Sorting a Canvas download into a folder per student (``autograder sort-canvas``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.errors import OutputError, UsageError
from autograder.lms import OLDER, sort_canvas

DOWNLOAD = {
    # Canvas's names: <name>[_LATE]_<user id>_<submission id>_<file>, -N on a resubmission.
    "smithjohn_12345_67890_linear.py": "john 1",
    "smithjohn_12345_67891_linear-1.py": "john 2",
    "doejane_22222_69999_linear-10.py": "jane 1",  # sorts before -2, but is the oldest
    "doejane_22222_70000_linear.py": "jane 2",
    "doejane_LATE_22222_70001_linear-2.py": "jane 3",
    "leeann_33333_70002_Linear.py": "lee",  # any case
    "kimbo_44444_70003_linear (1).py": "kim",  # a browser's second download
    "smithjohn_55555_70004_linear.ipynb": "the other john",  # same name, another student
    "smithjohn_12345_67000_linear_nd.py": "another assignment",
    "HW3_adoe_attempt_2026-12-02-10-00-00_linear.py": "blackboard",
    "notes.py": "not from the LMS",
    "readme.txt": "not code",
}


def download(folder: Path) -> Path:
    folder.mkdir()
    for name, text in DOWNLOAD.items():
        (folder / name).write_text(text)
    return folder


def tree(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_each_students_newest_file_is_moved_into_a_folder_of_their_own(tmp_path: Path) -> None:
    folder = download(tmp_path / "canvas")
    result = sort_canvas(folder, "linear.py")
    assert tree(folder) == {
        f"{OLDER}/doejane_22222_69999_linear-10.py": "jane 1",
        f"{OLDER}/doejane_22222_70000_linear.py": "jane 2",
        f"{OLDER}/smithjohn_12345_67890_linear.py": "john 1",
        "HW3_adoe_attempt_2026-12-02-10-00-00_linear.py": "blackboard",
        "doejane_22222/linear.py": "jane 3",
        "kimbo_44444/linear.py": "kim",
        "leeann_33333/linear.py": "lee",
        "notes.py": "not from the LMS",
        "readme.txt": "not code",
        "smithjohn_12345/linear.py": "john 2",
        "smithjohn_12345_67000_linear_nd.py": "another assignment",
        "smithjohn_55555/linear.ipynb": "the other john",
    }
    assert ("doejane_LATE_22222_70001_linear-2.py", "doejane_22222/linear.py") in result.moved
    assert len(result.moved) == 5 and len(result.older) == 3
    # Every .py and .ipynb not moved is named, with the reason.
    left = dict(result.left)
    assert set(left) == {
        "HW3_adoe_attempt_2026-12-02-10-00-00_linear.py",
        "notes.py",
        "smithjohn_12345_67000_linear_nd.py",
    }
    assert (
        "a Blackboard name, sort it by hand"
        in left["HW3_adoe_attempt_2026-12-02-10-00-00_linear.py"]
    )
    assert "not linear.py or linear.ipynb" in left["smithjohn_12345_67000_linear_nd.py"]


def test_a_dry_run_moves_nothing_and_says_the_same(tmp_path: Path) -> None:
    folder = download(tmp_path / "canvas")
    dry = sort_canvas(folder, "linear.py", dry_run=True)
    assert tree(folder) == DOWNLOAD
    assert dry == sort_canvas(folder, "linear.py")


def test_a_late_file_sorted_later_joins_and_a_sorted_student_is_never_replaced(
    tmp_path: Path,
) -> None:
    folder = download(tmp_path / "canvas")
    sort_canvas(folder, "linear.py")
    (folder / "newguy_LATE_66666_70010_linear.py").write_text("new")
    (folder / "smithjohn_12345_70011_linear-2.py").write_text("john 3")
    again = sort_canvas(folder, "linear.py")
    assert again.moved == [("newguy_LATE_66666_70010_linear.py", "newguy_66666/linear.py")]
    assert (folder / "smithjohn_12345" / "linear.py").read_text() == "john 2"
    assert (
        "smithjohn_12345/linear.py is there already"
        in dict(again.left)["smithjohn_12345_70011_linear-2.py"]
    )


def test_a_zip_or_a_missing_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "canvas.zip").write_bytes(b"PK")
    with pytest.raises(UsageError, match="is not a folder: unzip it"):
        sort_canvas(tmp_path / "canvas.zip", "linear.py")
    with pytest.raises(UsageError, match="does not exist"):
        sort_canvas(tmp_path / "nope", "linear.py")


def test_a_file_that_cannot_be_moved_stops_the_sort_with_exit_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As --help says: 4, a file cannot be moved (it was 2, bad input)."""
    folder = download(tmp_path / "canvas")

    def refused(path: Path, to: Path) -> Path:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(Path, "rename", refused)
    with pytest.raises(OutputError, match=r"cannot move .* \(Operation not permitted\)") as caught:
        sort_canvas(folder, "linear.py")
    assert caught.value.exit_code == 4
    assert tree(folder) == DOWNLOAD


def test_a_sort_stopped_between_a_students_files_is_finished_by_sorting_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after the first file of a student with three was moved: sorting again sorts
    them all, rather than leaving their older files out as "sorted earlier?"."""
    folder = download(tmp_path / "canvas")
    real_rename = Path.rename

    def interrupted(path: Path, to: Path) -> Path:
        moved = real_rename(path, to)
        if path.name.startswith("doejane"):
            raise KeyboardInterrupt
        return moved

    with monkeypatch.context() as patch:
        patch.setattr(Path, "rename", interrupted)
        with pytest.raises(KeyboardInterrupt):
            sort_canvas(folder, "linear.py")
    again = sort_canvas(folder, "linear.py")
    assert [name for name, _ in again.left] == [
        "HW3_adoe_attempt_2026-12-02-10-00-00_linear.py",
        "notes.py",
        "smithjohn_12345_67000_linear_nd.py",
    ]
    assert (folder / "doejane_22222" / "linear.py").read_text() == "jane 3"
    assert (folder / OLDER / "doejane_22222_70000_linear.py").read_text() == "jane 2"
