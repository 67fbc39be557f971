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
