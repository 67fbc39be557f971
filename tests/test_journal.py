from __future__ import annotations

from pathlib import Path

from autograder.grading import Journal


def entry(student: str) -> dict[str, object]:
    return {"student": student, "source_sha": "x", "status": "graded", "outcomes": []}


def test_journal_survives_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open()
    journal.record(entry("alice"))
    journal.record(entry("bob"))
    journal.close()
    with path.open("a") as handle:
        handle.write('{"student": "carol", "sta')  # killed mid-write
    again = Journal(path, "fp1")
    again.load()
    assert sorted(again.entries) == ["alice", "bob"]
    again.open()  # rewrites without the torn line
    again.record(entry("carol"))
    again.close()
    third = Journal(path, "fp1")
    third.load()
    assert sorted(third.entries) == ["alice", "bob", "carol"]


def test_journal_from_other_tests_or_secret_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, "fp1")
    journal.open()
    journal.record(entry("alice"))
    journal.close()
    other = Journal(path, "fp2")
    other.load()
    assert other.entries == {}
