from __future__ import annotations

from pathlib import Path

import pytest

from autograder.errors import ConfigError
from autograder.rubric import TestBinding, load_rubric, validate_binding

GOOD = """\
assignment: linear
module: linear.py
title: Linear layer
items:
  - id: forward
    title: Forward pass
    points: 4
  - id: dW
    points: 3.5
    scoring: all_or_nothing
    visibility: after_due_date
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rubric.yml"
    path.write_text(text)
    return path


def test_loads_items_points_and_defaults(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, GOOD))
    assert rubric.ids == ("forward", "dW")
    assert rubric.max_score == 7.5
    assert rubric.module_stem == "linear"
    assert rubric.item("forward").scoring == "proportional"
    assert rubric.item("forward").visibility == "visible"
    assert rubric.item("dW").scoring == "all_or_nothing"
    assert rubric.item("dW").title == "dW"


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (GOOD.replace("points: 4", "points: four"), 7, "'points' must be a number"),
        (GOOD.replace("points: 4", "points: -1"), 7, "must be a positive number"),
        (GOOD.replace("points: 4", "points: .inf"), 7, "at most 1,000,000"),
        (GOOD.replace("points: 4", "points: .nan"), 7, "must be a positive number"),
        (GOOD.replace("points: 4", "points: 1.125"), 7, "at most two decimals"),
        (GOOD.replace("id: dW", 'id: "dW\\n"'), 8, "must be a simple identifier"),
        (GOOD.replace("module: linear.py", "module: json.py"), 2, "'json' is the name of a module"),
        (GOOD.replace("module: linear.py", "module: my-layer.py"), 2, "importable module name"),
        (GOOD.replace("title: Forward pass", "? {title: 1}\n    : x"), 6, "not a mapping"),
        (GOOD.replace("scoring: all_or_nothing", "scoring: some"), 10, "must be one of"),
        (GOOD.replace("visibility: after_due_date", "visibility: secret"), 11, "must be one of"),
        (
            GOOD.replace("    title: Forward pass\n", "    titel: Forward pass\n"),
            6,
            "unknown key 'titel'",
        ),
        (GOOD.replace("id: dW", "id: forward"), 8, "duplicate item id 'forward'"),
        (GOOD.replace("module: linear.py", "module: ../linear.py"), 2, "file name ending in .py"),
        (GOOD.replace("items:", "itemz:"), 4, "unknown key 'itemz'"),
        # An unclosed '[' or quote: the line where it opens, not the end of the file (line 13).
        (GOOD + "  - id: [oops\n", 12, "invalid YAML: expected ',' or ']', but got '<stream end>'"),
        (GOOD + '  - id: "oops\n', 12, "quoted scalar that starts here"),
        ("assignment: linear\nmodule: linear.py\nitems: []\n", 3, "at least one rubric item"),
        ("- just\n- a list\n", 1, "rubric must be a mapping"),
        (
            GOOD.replace("title: Linear layer\n", "title: Linear layer\ntitle: again\n"),
            4,
            "duplicate key",
        ),
    ],
)
def test_bad_rubric_names_file_line_and_problem(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_rubric(path)
    assert info.value.line == line, str(info.value)
    assert needle in info.value.problem
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_a_rubric_nested_too_deep_to_parse_is_a_config_error(tmp_path: Path) -> None:
    """PyYAML builds nested values by recursion: past Python's limit it raised RecursionError,
    a traceback for every command that reads a course file (release, grade, verify, check)."""
    path = write(tmp_path, GOOD + "  - id: " + "[" * 20_000 + "]" * 20_000 + "\n")
    with pytest.raises(ConfigError, match="invalid YAML: nested deeper than it can be read"):
        load_rubric(path)


def test_many_small_points_add_up_exactly(tmp_path: Path) -> None:
    items = "".join(f"  - id: i{n}\n    points: 0.01\n" for n in range(2000))
    rubric = load_rubric(write(tmp_path, f"assignment: a\nmodule: a.py\nitems:\n{items}"))
    assert rubric.max_score == 20.0


def test_numbers_in_exponent_form_are_numbers(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, GOOD.replace("points: 4", "points: 4e0")))
    assert rubric.item("forward").points == 4.0
    rubric = load_rubric(write(tmp_path, GOOD.replace("points: 4", "points: 2.5e1")))
    assert rubric.item("forward").points == 25.0


def test_missing_required_key_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing required key 'module'"):
        load_rubric(write(tmp_path, "assignment: linear\nitems:\n  - id: a\n    points: 1\n"))


def test_a_missing_key_is_not_blamed_on_a_valid_one_near_it(tmp_path: Path) -> None:
    # difflib finds 'title' close to 'items'; but it is a valid key, not a typo of 'items'.
    text = "assignment: linear\nmodule: linear.py\ntitle: Linear layer\n"
    with pytest.raises(ConfigError, match="rubric is missing required key 'items'") as info:
        load_rubric(write(tmp_path, text))
    assert "unknown key" not in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_rubric(tmp_path / "nope.yml")


def _binding(nodeid: str, item: str | None, problem: str | None = None) -> TestBinding:
    return TestBinding(nodeid, item, Path("tests/test_x.py"), 12, problem)


def test_binding_maps_items_to_tests(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, GOOD))
    mapping = validate_binding(rubric, [_binding("a", "forward"), _binding("b", "dW")])
    assert mapping == {"forward": ["a"], "dW": ["b"]}


def test_binding_rejects_unknown_item_with_test_location(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, GOOD))
    with pytest.raises(ConfigError) as info:
        validate_binding(rubric, [_binding("a", "forward"), _binding("b", "dw")])
    assert str(info.value).startswith("tests/test_x.py:12: ")
    assert "rubric('dw')" in str(info.value)


def test_binding_rejects_item_without_tests_at_item_line(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, GOOD))
    with pytest.raises(ConfigError) as info:
        validate_binding(rubric, [_binding("a", "forward")])
    assert info.value.line == 8
    assert "'dW' has no test" in str(info.value)


def test_no_tests_at_all_says_how_pytest_finds_them(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="no tests were collected") as info:
        validate_binding(rubric, [])
    assert "pytest collects test_*.py files" in str(info.value)


def test_binding_rejects_unmarked_test(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="has no @pytest.mark.rubric"):
        validate_binding(rubric, [_binding("a", None, "has no @pytest.mark.rubric(...) marker")])


def test_every_binding_problem_is_said_at_once(tmp_path: Path) -> None:
    rubric = load_rubric(write(tmp_path, GOOD))
    bindings = [
        _binding("t.py::a[1]", None, "has no @pytest.mark.rubric(...) marker"),
        _binding("t.py::a[2]", None, "has no @pytest.mark.rubric(...) marker"),  # same line
        TestBinding("t.py::b", "dw", Path("tests/test_x.py"), 20),
        _binding("t.py::c", "forward"),
    ]
    with pytest.raises(ConfigError) as info:
        validate_binding(rubric, bindings)
    message = str(info.value)
    assert message.startswith("tests/test_x.py:12: test t.py::a[1]: has no @pytest.mark.rubric")
    assert "t.py::a[2]" not in message  # one line per function, not per case
    assert "\n  also tests/test_x.py:20: test t.py::b is marked rubric('dw')" in message
    assert "\n  also " in message and "rubric item 'dW' has no test" in message
