from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.grading import Journal


def entry(student: str, sha: str = "x") -> dict[str, object]:
    return {"student": student, "source_sha": sha, "status": "graded", "outcomes": []}


def test_journal_survives_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open(None)
    journal.record(entry("alice"))
    journal.record(entry("bob"))
    journal.close()
    with path.open("a") as handle:
        handle.write('{"student": "carol", "sta')  # killed mid-write
    again = Journal(path, "fp1")
    again.open({"alice": "x", "bob": "x", "carol": "x"})
    assert sorted(again.done) == ["alice", "bob"]
    again.record(entry("carol"))
    again.close()
    assert [e["student"] for e in Journal(path, "fp1").entries()] == ["alice", "bob", "carol"]


def test_only_unchanged_submissions_of_the_same_setup_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open(None)
    journal.record(entry("alice", "a1"))
    journal.record(entry("bob", "b1"))
    journal.record(entry("gone", "g1"))
    journal.close()
    resubmitted = Journal(path, "fp1")
    resubmitted.open({"alice": "a1", "bob": "b2"})  # bob resubmitted, "gone" left the class
    resubmitted.close()
    assert resubmitted.done == {"alice": "a1"}
    assert [e["student"] for e in resubmitted.entries()] == ["alice"]
    other_tests = Journal(path, "fp2")
    other_tests.open({"alice": "a1"})
    assert other_tests.done == {}


def test_fresh_run_forgets_everything(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open(None)
    journal.record(entry("alice"))
    journal.close()
    fresh = Journal(path, "fp1")
    fresh.open(None)
    fresh.close()
    assert list(fresh.entries()) == []


def test_records_reach_the_file_at_once_and_are_fsynced_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1", sync_interval=60.0)
    journal.open(None)
    synced.clear()
    for n in range(50):
        journal.record(entry(f"s{n}"))
        # What a SIGKILL now would leave: the file as another process reads it.
        assert len(Journal(path, "fp1").path.read_text().splitlines()) == n + 2
    assert len(synced) == 1  # the first record; the next is due after sync_interval
    journal.close()
    assert len(synced) == 2  # and on close
    assert [e["student"] for e in Journal(path, "fp1").entries()] == [f"s{n}" for n in range(50)]


def test_a_journal_that_cannot_be_rewritten_stays_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open(None)
    journal.record(entry("alice"))
    journal.close()
    before = path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("autograder.grading.os.fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        Journal(path, "fp1").open({"alice": "x"})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["journal.jsonl"]  # no temporary left


@pytest.mark.parametrize(
    "line",
    [
        "null",
        "[]",
        '{"source_sha": "x", "status": "graded", "outcomes": []}',
        '{"student": "carol", "source_sha": "x", "outcomes": []}',
        '{"student": "carol", "source_sha": "x", "status": "graded", "outcomes": 3}',
        '{"student": "carol", "source_sha": "x", "status": "graded", "outcomes": [{"a": 1}]}',
        '{"student": "carol", "source_sha": "x", "status": "graded", "outcomes": '
        '[{"nodeid": "t", "item_id": "a", "outcome": "passed", "properties": 7}]}',
        # Fields of the wrong type crashed every rerun (feedback is built from them).
        '{"student": "carol", "source_sha": "x", "status": "graded", "outcomes": [], '
        '"output": null}',
        '{"student": "carol", "source_sha": "x", "status": "error", "outcomes": [], '
        '"load_problem": ["a"]}',
        # An outcome no test gives, and one test recorded twice.
        '{"student": "carol", "source_sha": "x", "status": "graded", "outcomes": '
        '[{"nodeid": "t", "item_id": "a", "outcome": "bogus"}]}',
        '{"student": "carol", "source_sha": "x", "status": "graded", "outcomes": '
        '[{"nodeid": "t", "item_id": "a", "outcome": "passed"}, '
        '{"nodeid": "t", "item_id": "a", "outcome": "passed"}]}',
        "[" * 100_000 + "]" * 100_000,  # too deep to parse: RecursionError
    ],
)
def test_a_line_we_did_not_write_is_ignored_like_a_torn_one(tmp_path: Path, line: str) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open(None)
    journal.record(entry("alice"))
    journal.close()
    with path.open("a") as handle:
        handle.write(line + "\n")
    again = Journal(path, "fp1")
    again.open({"alice": "x", "carol": "x"})
    again.close()
    assert again.done == {"alice": "x"}
    assert [e["student"] for e in again.entries()] == ["alice"]


def test_a_header_that_is_not_ours_or_a_journal_that_is_no_file_means_no_journal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text("null\n")
    assert list(Journal(path, "fp1").entries()) == []
    path.unlink()
    os.mkfifo(path)  # reading it would block forever
    assert list(Journal(path, "fp1").entries()) == []


def test_text_no_file_can_store_is_made_storable(tmp_path: Path) -> None:
    from autograder.grading import clean_text

    assert clean_text({"m": ["bad \udcff"], "k\udcff": 1}) == {"m": ["bad ?"], "k?": 1}
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open(None)
    journal.record(entry("alice"))
    journal.close()
    with path.open("a") as handle:  # an entry journaled by a grader without clean_text
        handle.write(
            '{"student": "bob", "source_sha": "x", "status": "error", "outcomes": [],'
            ' "load_problem": "ValueError: bad \\udcff"}\n'
        )
    (bob,) = [e for e in Journal(path, "fp1").entries() if e["student"] == "bob"]
    assert bob["load_problem"] == "ValueError: bad ?"


def test_an_entry_the_grader_failed_on_is_never_reused(tmp_path: Path) -> None:
    from autograder.scoring import INTERNAL_PROBLEM

    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open(None)
    journal.record(entry("alice"))
    journal.record({**entry("bob"), "status": "error", "load_problem": INTERNAL_PROBLEM})
    journal.close()
    again = Journal(path, "fp1")
    again.open({"alice": "x", "bob": "x"})  # bob's file unchanged: still graded again
    again.close()
    assert again.done == {"alice": "x"}


def test_a_student_without_a_file_is_regraded_when_the_reason_changes() -> None:
    from autograder.grading import source_hash
    from autograder.submissions import Submission

    none = Submission("sam", None, "linear.py", "No linear.py was found (notes.txt).", True)
    unreadable = Submission("sam", None, "linear.py", "linear.py is not UTF-8 text.")
    assert source_hash(none) != source_hash(unreadable)
    assert source_hash(none) == source_hash(none)
    assert source_hash(Submission("sam", "", "linear.py")) != source_hash(none)


@pytest.mark.parametrize("removed", ["file", "folder"])
def test_a_journal_removed_during_the_run_is_written_back_on_close(
    tmp_path: Path, removed: str
) -> None:
    """``rm -r OUT/.autograder`` while a run grades: its results are read back from the
    journal at the end, so they must not be lost with the file."""
    import shutil

    path = tmp_path / ".autograder" / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open(None)
    journal.record(entry("alice"))
    if removed == "file":
        path.unlink()
    else:
        shutil.rmtree(path.parent)
    journal.record(entry("bob"))
    journal.close()
    assert [e["student"] for e in journal.entries()] == ["alice", "bob"]
    again = Journal(path, "fp1")  # and the next run resumes from it
    again.open({"alice": "x", "bob": "x"})
    assert sorted(again.done) == ["alice", "bob"]
