from __future__ import annotations

from pathlib import Path

import pytest

from autograder.rubric import Rubric, load_rubric

RUBRIC = """\
assignment: toy
module: toy.py
title: Toy
items:
  - id: a
    points: 4
  - id: b
    points: 3
    scoring: all_or_nothing
  - id: c
    points: 1
    visibility: hidden
"""


@pytest.fixture
def toy_rubric(tmp_path: Path) -> Rubric:
    path = tmp_path / "rubric.yml"
    path.write_text(RUBRIC)
    return load_rubric(path)


TOY_COURSE_YML = """\
name: Toy course
limits: {call_timeout: 5, budget_seconds: 20}
assignments:
  toy: {}
"""


def write_toy_course(root: Path, files: dict[str, str]) -> Path:
    """A one-assignment course ``toy`` under ``root``: ``files`` maps paths inside
    ``solutions/toy/`` (the reference, ``rubric.yml``, ``tests/...``) to their text."""
    solution = root / "solutions" / "toy"
    for name, text in files.items():
        (solution / name).parent.mkdir(parents=True, exist_ok=True)
        (solution / name).write_text(text)
    (root / "course.yml").write_text(TOY_COURSE_YML)
    return root
