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
