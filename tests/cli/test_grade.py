"""End to end: ``autograder grade`` on the example class, as an instructor runs it."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from autograder.plugin import PARSED_DEFINITION_CHARS, _raise_left_beside_code
from tests.cli.conftest import EXAMPLES, run_cli


def grade(course: Path, submissions: Path, out: Path, *extra: str) -> dict[str, Any]:
    result = run_cli("grade", "linear", submissions, "--out", out, *extra, cwd=course)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads((out / "grades.json").read_text())


def grade_one(
    course: Path, tmp_path: Path, student: str, source: str, assignment: str = "mlp"
) -> dict[str, Any]:
    """Grade a class of one submission of ``assignment``; that student's record in grades.json."""
    (tmp_path / "class" / student).mkdir(parents=True)
    (tmp_path / "class" / student / f"{assignment}.py").write_text(source)
    out = tmp_path / "out"
    result = run_cli("grade", assignment, tmp_path / "class", "--out", out, cwd=course)
    assert result.returncode == 0, result.stderr
    return json.loads((out / "grades.json").read_text())["students"][student]


@pytest.fixture(scope="module")
def example_grades(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.cli.conftest import REPO

    out = tmp_path_factory.mktemp("out")
    return grade(REPO, EXAMPLES, out, "--fresh")


def test_example_class_gets_the_grades_an_instructor_expects(
    example_grades: dict[str, Any],
) -> None:
    expected = yaml.safe_load((EXAMPLES / "expected.yml").read_text())
    assert set(example_grades["students"]) == set(expected)
    assert example_grades["assignment"] == "linear"
    assert example_grades["max_score"] == 20.0
    for student, wanted in expected.items():
        items = example_grades["students"][student]["items"]
        for item in wanted.get("full", []):
            assert items[item]["score"] == items[item]["max_score"], (student, item, items[item])
        for item in wanted.get("zero", []):
            assert items[item]["score"] == 0, (student, item, items[item])
        if "status" in wanted:
            assert example_grades["students"][student]["status"] == wanted["status"]


def test_every_student_record_follows_the_contract(example_grades: dict[str, Any]) -> None:
    items = {"forward", "dx", "dW", "db", "shapes", "purity"}
    for record in example_grades["students"].values():
        assert set(record) == {"score", "max_score", "status", "items", "feedback"}
        assert record["status"] in {"graded", "error", "missing"}
        assert set(record["items"]) == items
        assert record["score"] == pytest.approx(sum(i["score"] for i in record["items"].values()))
        for item in record["items"].values():
            assert set(item) == {"score", "max_score", "feedback"}
            assert 0 <= item["score"] <= item["max_score"]
            assert item["feedback"]


# How a notebook's cell is counted in feedback (Jupyter itself shows no cell numbers).
CELLS = "(counting every cell from the top, markdown included)"
COINS = """\
import os, random
import numpy as np

def heads():
    # Five coins tossed without a seed; wrong whenever most land heads.
    coins = (os.urandom(1)[0] % 2, random.getrandbits(1), int(np.random.rand() < 0.5),
             int(np.random.default_rng().random() < 0.5), int(next(iter(set("xWbdy"))) in "xWb"))
    return sum(coins) >= 3

def linear_forward(x, W, b):
    y = x @ W + b
    return (2 * y if heads() else y), (x, W)

def linear_backward(dy, cache):
    x, W = cache
    dW = x.T @ dy
    return dy @ W.T, (-dW if heads() else dW), dy.sum(axis=0)
"""


def test_regrading_gives_identical_files(course_copy: Path, tmp_path: Path) -> None:
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES, klass)
    (klass / "zoe").mkdir()
    (klass / "zoe" / "linear.py").write_text(COINS)  # about 14 coins per grading
    first = grade(course_copy, klass, tmp_path / "a", "--jobs", "2")
    second = grade(course_copy, klass, tmp_path / "b", "--jobs", "1")
    assert 0 < first["students"]["zoe"]["score"] < 20
    assert first == second
    assert (tmp_path / "a" / "grades.csv").read_bytes() == (
        tmp_path / "b" / "grades.csv"
    ).read_bytes()


def test_reports_are_written_for_every_student(course_copy: Path, tmp_path: Path) -> None:
    doc = grade(course_copy, EXAMPLES, tmp_path / "out")
    rows = list(csv.DictReader((tmp_path / "out" / "grades.csv").read_text().splitlines()))
    assert [r["student"] for r in rows] == sorted(doc["students"])
    for student in doc["students"]:
        feedback = (tmp_path / "out" / "feedback" / f"{student}.md").read_text()
        assert f"feedback for {student}" in feedback
        results = tmp_path / "out" / "gradescope" / student / "results.json"
        assert json.loads(results.read_text())["score"] == doc["students"][student]["score"]


def test_every_file_the_grader_writes_is_private(course_copy: Path, tmp_path: Path) -> None:
    # Grades, feedback and the grader's own logs and journal alike: only the owner reads them.
    # The folders it makes too: their entries are student ids (often e-mail addresses).
    (tmp_path / "mine").mkdir(mode=0o755)
    os.chmod(tmp_path / "mine", 0o755)
    grade(course_copy, EXAMPLES, tmp_path / "mine" / "deep" / "out")
    written = list((tmp_path / "mine" / "deep").rglob("*"))
    files = [path for path in written if path.is_file()]
    assert {path.name for path in files} >= {"grades.json", "zygote.log", "journal.jsonl"}
    assert {path.name for path in written if path.is_dir()} >= {"out", "feedback", "gradescope"}
    shared = [
        str(path) for path in [*written, tmp_path / "mine" / "deep"] if path.stat().st_mode & 0o077
    ]
    assert shared == []
    assert (tmp_path / "mine").stat().st_mode & 0o777 == 0o755  # a folder that was there: kept


def test_zip_and_nbgrader_layouts_grade_like_the_folder(course_copy: Path, tmp_path: Path) -> None:
    folder = grade(course_copy, EXAMPLES, tmp_path / "folder")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in EXAMPLES.rglob("*"):
            bundle.write(path, Path("class") / path.relative_to(EXAMPLES))
    assert grade(course_copy, archive, tmp_path / "zip")["students"] == folder["students"]
    # The class's work was unpacked only to be read: no copy of it stays in the output.
    assert not list((tmp_path / "zip").rglob("linear.py"))
    nbgrader = tmp_path / "nbcourse" / "submitted"
    for student in folder["students"]:
        target = nbgrader / student / "linear"
        shutil.copytree(EXAMPLES / student, target)
    graded = grade(course_copy, tmp_path / "nbcourse", tmp_path / "nb")
    assert graded["students"] == folder["students"]


NAMED = """\
from typing import NamedTuple


class Cache(NamedTuple):
    x: object
    W: object


class Forward(NamedTuple):
    y: object
    cache: Cache


class Grads(NamedTuple):
    dx: object
    dW: object
    db: object


def linear_forward(x, W, b):
    return Forward(x @ W + b, Cache(x.copy(), W.copy()))


def linear_backward(dy, cache):
    return Grads(dy @ cache.W.T, cache.x.T @ dy, dy.sum(axis=0))
"""


def test_answers_in_a_namedtuple_grade_like_a_tuple(course_copy: Path, tmp_path: Path) -> None:
    # A namedtuple is a tuple: (y, cache) and (dx, dW, db) returned as one are right; the
    # namedtuple cache inside stays the student's object, attributes and all.
    (tmp_path / "class" / "nina").mkdir(parents=True)
    (tmp_path / "class" / "nina" / "linear.py").write_text(NAMED)
    record = grade(course_copy, tmp_path / "class", tmp_path / "out")["students"]["nina"]
    assert record["score"] == record["max_score"], record["feedback"]


SGD_IN_BACKWARD = {
    "tuple_cache": """\
def linear_forward(x, W, b):
    return x @ W + b, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    dx, dW = dy @ W.T, x.T @ dy
    W -= 0.1 * dW  # an update step inside the backward: the cache changes
    return dx, dW, dy.sum(axis=0)
""",
    "class_cache": """\
class Cache:
    def __init__(self, x, W):
        self.x, self.W = x.copy(), W.copy()


def linear_forward(x, W, b):
    return x @ W + b, Cache(x, W)


def linear_backward(dy, cache):
    dx, dW = dy @ cache.W.T, cache.x.T @ dy
    cache.W -= 0.1 * dW
    return dx, dW, dy.sum(axis=0)
""",
}


def test_a_backward_that_changes_its_cache_loses_purity_whatever_the_cache(
    course_copy: Path, tmp_path: Path
) -> None:
    # As in plain Python, the second backward on one cache sees what the first changed, be
    # the cache a tuple of arrays (plain data) or an object: the same mistake, the same grade.
    for student, source in SGD_IN_BACKWARD.items():
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "linear.py").write_text(source)
    students = grade(course_copy, tmp_path / "class", tmp_path / "out")["students"]
    for record in students.values():
        items = {name: item["score"] for name, item in record["items"].items()}
        assert items == {"forward": 4, "dx": 4, "dW": 4, "db": 3, "shapes": 3, "purity": 0}
        assert (
            "twice with the same dy and cache gave two answers"
            in record["items"]["purity"]["feedback"]
        )


LISTS = """\
def linear_forward(x, W, b):
    return x @ W + b, (x.copy(), W.copy())


def linear_backward(dy, cache):
    x, W = cache
    return (dy @ W.T).tolist(), (x.T @ dy).tolist(), dy.sum(axis=0).tolist()
"""


def test_the_right_numbers_as_lists_cost_only_the_layout(course_copy: Path, tmp_path: Path) -> None:
    # One mistake, one item: the form of the answers is what `shapes` judges.
    (tmp_path / "class" / "lee").mkdir(parents=True)
    (tmp_path / "class" / "lee" / "linear.py").write_text(LISTS)
    record = grade(course_copy, tmp_path / "class", tmp_path / "out")["students"]["lee"]
    scores = {name: item["score"] for name, item in record["items"].items()}
    assert scores == {"forward": 4, "dx": 4, "dW": 4, "db": 3, "shapes": 0.75, "purity": 2}
    assert "dW should be a numpy array" in record["items"]["shapes"]["feedback"]


def test_gradients_in_a_dict_subclass_grade_like_a_dict(course_copy: Path, tmp_path: Path) -> None:
    # mlp's grads "a new dict": an OrderedDict or a defaultdict is one.
    reference = (course_copy / "solutions" / "mlp" / "mlp.py").read_text()
    ordered = reference.replace(
        'grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}',
        'grads = __import__("collections").OrderedDict(W1=dW1, b1=db1, W2=dW2, b2=db2)',
    )
    assert ordered != reference
    record = grade_one(course_copy, tmp_path, "olga", ordered)
    assert record["score"] == record["max_score"], record["feedback"]


@pytest.mark.parametrize(
    "grads",
    ["[dW1, db1, dW2, db2]", '{"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}'],
    ids=["list", "other_keys"],
)
def test_gradients_in_another_form_cost_only_the_layout(
    course_copy: Path, tmp_path: Path, grads: str
) -> None:
    # The right gradients as a list in the order of params, or under keys that name the
    # parameters: a form mistake, judged by `shapes` alone, as float32 gradients are.
    reference = (course_copy / "solutions" / "mlp" / "mlp.py").read_text()
    other_form = reference.replace(
        'grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}', f"grads = {grads}"
    )
    assert other_form != reference
    record = grade_one(course_copy, tmp_path, "lin", other_form)
    lost = {item for item, got in record["items"].items() if got["score"] < got["max_score"]}
    assert lost == {"shapes"}, record
    assert "grads a dict holding the keys W1, b1, W2, b2" in record["items"]["shapes"]["feedback"]


def test_a_relu_gradient_as_a_list_costs_only_the_layout(course_copy: Path, tmp_path: Path) -> None:
    # relu's dx checked at the kink too: the right numbers as a list are a form mistake.
    reference = (course_copy / "solutions" / "mlp" / "mlp.py").read_text()
    line = 'dx = np.where(cache["positive"], dy, 0.0)'
    # linear_backward takes dy as the list the network now hands it, as np.sum would.
    as_list = reference.replace(line, line + ".tolist()").replace(
        "    x, W = cache\n", "    x, W = cache\n    dy = np.asarray(dy)\n"
    )
    assert as_list.count(".tolist()") == 1 and as_list.count("np.asarray(dy)") == 1
    record = grade_one(course_copy, tmp_path, "lia", as_list)
    lost = {item for item, got in record["items"].items() if got["score"] < got["max_score"]}
    assert lost == {"shapes"}, record


def test_the_gradients_of_w1_and_w2_swapped_are_named(course_copy: Path, tmp_path: Path) -> None:
    reference = (course_copy / "solutions" / "mlp" / "mlp.py").read_text()
    right = 'grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}'
    swapped = reference.replace(right, 'grads = {"W1": dW2, "b1": db1, "W2": dW1, "b2": db2}')
    assert swapped != reference
    items = grade_one(course_copy, tmp_path, "sol", swapped)["items"]
    for key, other in (("W2", "W1"), ("W1", "W2")):
        item = items[f"d{key}"]
        assert item["score"] == 0
        assert f"grads['{key}'] holds the gradient of {other}" in item["feedback"], item


def test_a_relu_mask_the_wrong_way_round_is_named_in_the_network(
    course_copy: Path, tmp_path: Path
) -> None:
    reference = (course_copy / "solutions" / "mlp" / "mlp.py").read_text()
    inverted = reference.replace('cache = {"positive": x > 0}', 'cache = {"positive": x < 0}')
    assert inverted != reference
    items = grade_one(course_copy, tmp_path, "ray", inverted)["items"]
    assert "dx is dy masked where x < 0" in items["relu"]["feedback"]
    for item in ("dW1", "db1"):
        assert items[item]["score"] == 0
        assert "relu_backward masks where Y1 < 0" in items[item]["feedback"], items[item]


def test_linear_nd_transpose_before_reshape_is_named(course_copy: Path, tmp_path: Path) -> None:
    # x.T on (B, T, D) is (D, T, B): flattened, its positions run in another order than dy's.
    reference = (course_copy / "solutions" / "linear_nd" / "linear_nd.py").read_text()
    mistaken = reference.replace("dW = rows_x.T @ rows_dy", "dW = x.T.reshape(D, -1) @ rows_dy")
    assert mistaken != reference
    item = grade_one(course_copy, tmp_path, "tia", mistaken, "linear_nd")["items"]["dW"]
    assert 0 < item["score"] < item["max_score"]  # right with one leading axis
    assert "x.T.reshape(D, -1) lists the positions in another order" in item["feedback"], item


def test_files_handed_in_beside_the_module_are_named_when_it_looks_for_them(
    course_copy: Path, tmp_path: Path
) -> None:
    """Only linear.py is graded: a helper module or data file beside it is not there when it
    runs, and the feedback says so instead of leaving "No module named ..." to puzzle over."""
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    cases = {
        "hana": (
            "from helpers import twice\n",
            {"helpers.py": "def twice(x):\n    return 2 * x\n"},
        ),
        "ivan": ("from mylib.ops import mm\n", {"mylib/__init__.py": "", "mylib/ops.py": ""}),
        "jun": ("SCALE = float(open('scale.txt').read())\n", {"scale.txt": "1.0\n"}),
        "kai": ("import helpers\n", {}),  # nothing beside it: no such note
    }
    for student, (first_line, files) in cases.items():
        folder = tmp_path / "class" / student
        folder.mkdir(parents=True)
        (folder / "linear.py").write_text(reference + first_line)
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
    students = grade(course_copy, tmp_path / "class", tmp_path / "out")["students"]
    note = "Only linear.py is graded, on its own: {} beside it cannot be imported or read"
    assert note.format("helpers.py") in students["hana"]["feedback"]
    assert "No module named 'helpers'. Only linear.py" in students["hana"]["feedback"]
    assert note.format("mylib/") in students["ivan"]["feedback"]
    assert note.format("scale.txt") in students["jun"]["feedback"]
    assert "Only linear.py is graded" not in students["kai"]["feedback"]
    assert {record["score"] for record in students.values()} == {0.0}


def test_files_beside_the_module_are_named_when_a_call_or_numpy_looks_for_them(
    course_copy: Path, tmp_path: Path
) -> None:
    """The note above was given only when running the file looked for them: a helper imported
    inside a function, a config read in a call, or np.loadtxt's own words ("data.txt not
    found.") left the student with an error about a file they had handed in."""
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    unpack = "    x, W = cache\n"
    assert unpack in reference
    cases = {
        "lena": (
            reference.replace(unpack, "    from helpers import unpack\n    x, W = unpack(cache)\n"),
            {"helpers.py": "def unpack(cache):\n    return cache\n"},
        ),
        "milo": (
            reference.replace(unpack, unpack + "    open('config.txt').read()\n"),
            {"config.txt": "lr=0.1\n"},
        ),
        "nora": (
            reference + "DATA = np.loadtxt('test data.txt')\n",
            {"test data.txt": "1 2\n"},
        ),
        "otto": (reference.replace(unpack, unpack + "    import helpers\n"), {}),
    }
    for student, (source, files) in cases.items():
        folder = tmp_path / "class" / student
        folder.mkdir(parents=True)
        (folder / "linear.py").write_text(source)
        for name, text in files.items():
            (folder / name).write_text(text)
    students = grade(course_copy, tmp_path / "class", tmp_path / "out")["students"]
    note = "Only linear.py is graded, on its own: {} beside it cannot be imported or read"
    for student, name in (("lena", "helpers.py"), ("milo", "config.txt")):
        items = students[student]["items"]
        assert items["forward"]["score"] == 4.0, items["forward"]
        assert note.format(name) in items["dW"]["feedback"], items["dW"]["feedback"]
    assert students["nora"]["status"] == "error"
    assert note.format("test data.txt") in students["nora"]["feedback"]
    assert "Only linear.py is graded" not in json.dumps(students["otto"])


def test_a_script_s_top_level_that_stops_the_import_is_explained(
    course_copy: Path, tmp_path: Path
) -> None:
    """A plot's import, a question to the keyboard and an exit at the end of a script stop
    the import when graded: the feedback said only "No module named 'matplotlib'", "EOF when
    reading a line" or "SystemExit at linear.py line 19: 0", which a student whose file ran
    on their own machine cannot act on."""
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    endings = {
        "pia": ("import matplotlib.pyplot as plt\n", "that module is not there when"),
        "quin": ('name = input("Your name: ")\n', "input() waits for someone to type"),
        "rui": ("import sys\nsys.exit(0)\n", "sys.exit(), exit() and quit() stop the program"),
        "sol": ("np.ones((2, 2)) + np.ones(3)\n", "two arrays of an elementwise operation"),
    }
    for student, (ending, _) in endings.items():
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "linear.py").write_text(reference + ending)
    students = grade(course_copy, tmp_path / "class", tmp_path / "out")["students"]
    for student, (_, said) in endings.items():
        record = students[student]
        assert record["status"] == "error" and record["score"] == 0, record
        assert f"Hint: {said}" in record["feedback"], record["feedback"]
        assert said in record["items"]["dW"]["feedback"], record["items"]["dW"]
    page = (tmp_path / "out" / "feedback" / "pia.md").read_text()
    assert page.count("that module is not there when") == 1 + 6, page


def test_a_stub_raise_left_beside_the_student_s_code_is_not_called_not_implemented(
    course_copy: Path, tmp_path: Path
) -> None:
    """A student who wrote linear_backward under "# YOUR CODE HERE" (or below the raise) but
    left the stub's raise line in was told it "is not implemented yet"."""
    stub = (course_copy / "assignments" / "linear" / "linear.py").read_text()
    forward = '    raise NotImplementedError("linear_forward: not implemented yet")\n'
    backward = '    raise NotImplementedError("linear_backward: not implemented yet")\n'
    done = stub.replace(forward, "    y = x @ W + b\n    cache = (x.copy(), W.copy())\n")
    code = "    x, W = cache\n    dx, dW, db = dy @ W.T, x.T @ dy, dy.sum(axis=0)\n"
    sources = {
        "uma": done.replace(backward, code + backward),  # the raise below the code
        "vic": done.replace(backward, backward + code),  # the code below the raise
        "wes": done,  # backward untouched
    }
    assert len(set(sources.values()) | {stub}) == 4
    for student, source in sources.items():
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "linear.py").write_text(source)
    students = grade(course_copy, tmp_path / "class", tmp_path / "out")["students"]
    left_in = "linear_backward still raises NotImplementedError at line {}, beside code of yours"
    for student in ("uma", "vic"):
        line = sources[student].splitlines().index(backward.rstrip("\n")) + 1
        feedback = students[student]["items"]["dW"]["feedback"]
        assert left_in.format(line) in feedback, feedback
        assert "not implemented yet" not in feedback, feedback
    feedback = students["wes"]["items"]["dW"]["feedback"]
    assert "linear_backward is not implemented yet (it raises NotImplementedError" in feedback
    assert {r["score"] for r in students.values()} == {students["wes"]["score"]} != {0.0}


def test_a_raise_left_in_is_looked_for_in_the_function_alone_and_at_bounded_cost() -> None:
    """The grader's own process parses the student's text to word that message: a long enough
    expression made the parser raise RecursionError (the grader failed on the student), and
    a 2 MiB file took seconds and 600 MB at every call."""
    left = "def linear_backward(dy, cache):\n    x = 1\n    raise NotImplementedError\n"
    assert _raise_left_beside_code(left, "linear_backward")
    stub = "def linear_backward(dy, cache):\n    raise NotImplementedError\n    return dx\n"
    assert not _raise_left_beside_code(stub, "linear_backward")
    # The rest of the file is not parsed: code after the function that does not parse, or
    # an expression deeper than the parser's limit in it, changes nothing.
    rest = "def other():\n    return " + "1+" * 5000 + "1\n" + "x = (\n"
    assert _raise_left_beside_code(left + "\n" + rest, "linear_backward")
    deep = "def linear_backward(dy, cache):\n    x = 1\n    raise NotImplementedError("
    assert not _raise_left_beside_code(deep + "1+" * 5000 + "1)\n", "linear_backward")
    padded = left + "".join(f"    v{i} = [{i}, {i}, {i}]\n" for i in range(5000))
    assert len(padded) > PARSED_DEFINITION_CHARS
    assert not _raise_left_beside_code(padded, "linear_backward")


def test_a_call_that_timed_out_while_printing_a_flood_says_so(
    course_copy: Path, tmp_path: Path
) -> None:
    """Debugging prints of whole arrays in every call, which took the call past its limit,
    were told only "did not return within 3 s": nothing pointed at the printing."""
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    forward = "    ### BEGIN SOLUTION\n"  # the first: linear_forward's
    assert forward in reference
    loops = {
        "pat": "    for _ in range(10**9):\n        print(np.ones((300, 300)))\n",
        "quiet": "    while True:\n        pass\n",
    }
    for student, loop in loops.items():
        (tmp_path / "class" / student).mkdir(parents=True)
        code = reference.replace(forward, "    np.set_printoptions(threshold=10**9)\n" + loop, 1)
        (tmp_path / "class" / student / "linear.py").write_text(code)
    # A forward pass that prints a flood and returns, then a backward pass that loops quietly:
    # the printing was done before that call began, and took none of its time.
    (tmp_path / "class" / "lou").mkdir()
    loud = "    print(np.ones((300, 300)))\n"
    backward = "    x, W = cache\n"
    assert backward in reference
    code = reference.replace(forward, "    np.set_printoptions(threshold=10**9)\n" + loud, 1)
    code = code.replace(backward, "    while True:\n        pass\n", 1)
    (tmp_path / "class" / "lou" / "linear.py").write_text(code)
    students = grade(course_copy, tmp_path / "class", tmp_path / "out")["students"]
    note = "by then it had printed more than the 64 KiB of output kept: printing takes time"
    said = students["pat"]["items"]["forward"]["feedback"]
    assert "did not return within" in said and note in said, said
    said = students["quiet"]["items"]["forward"]["feedback"]
    assert "did not return within" in said and "printed" not in said, said
    assert students["lou"]["items"]["forward"]["score"] > 0, students["lou"]
    said = students["lou"]["items"]["dW"]["feedback"]
    assert "did not return within" in said and "printed" not in said, said


def test_a_summed_loss_is_told_it_is_b_times_the_mean(course_copy: Path, tmp_path: Path) -> None:
    reference = (course_copy / "solutions" / "mlp" / "mlp.py").read_text()
    summed = reference.replace(
        "loss = -log_probs[rows, targets].mean()", "loss = -log_probs[rows, targets].sum()"
    )
    assert summed != reference
    items = grade_one(course_copy, tmp_path, "sam", summed)["items"]
    # Said of the loss's cases only (for B = 1 a sum is the mean), so it names its case.
    feedback = items["softmax_ce"]["feedback"]
    said = r"Hint \(for B=\d+, C=\d+( and \d+ other cases?)?\): the loss is B times"
    assert re.search(said, feedback), feedback
    assert "the network's loss is B times the right answer" in items["end_to_end"]["feedback"]


def test_a_reshape_error_is_not_answered_with_the_matmul_hint(
    course_copy: Path, tmp_path: Path
) -> None:
    """x.reshape(-1, F) for x.reshape(-1, D) raises a reshape error on some cases and a matmul
    error on others: the matmul hint (a missing .T) was said plainly under a list of reshape
    errors, and the class report gave it "seen as" the first of them."""
    reference = (course_copy / "solutions" / "linear_nd" / "linear_nd.py").read_text()
    wrong = reference.replace("    rows_x = x.reshape(-1, D)\n", "    rows_x = x.reshape(-1, F)\n")
    assert wrong != reference
    feedback = grade_one(course_copy, tmp_path, "rae", wrong, "linear_nd")["items"]["dW"][
        "feedback"
    ]
    assert "cannot reshape array of size" in feedback and "matmul:" in feedback, feedback
    at = r"the ValueError at linear_nd\.py line (\d+)"
    matmul = re.search(rf"^Hint \(for {at}\): the inner sizes of a matrix product", feedback, re.M)
    reshape = re.search(rf"^Hint \(for {at}\): reshape keeps every number", feedback, re.M)
    assert matmul and reshape and matmul.group(1) != reshape.group(1), feedback
    assert f"linear_nd.py line {reshape.group(1)}: in linear_nd_backward: cannot reshape" in (
        feedback
    )
    # The class report's problem is a hint with the error it was given for.
    lines = run_cli("report", tmp_path / "out", cwd=tmp_path).stdout.splitlines()
    said = {"reshape keeps every number": "cannot reshape", "matrix product must": "matmul:"}
    problems = [(n, key) for n, line in enumerate(lines) for key in said if key in line]
    assert problems, lines
    for n, hint in problems:
        assert "seen as:" in lines[n + 1] and said[hint] in lines[n + 1], lines


def test_a_backward_that_empties_its_cache_loses_mlp_purity(
    course_copy: Path, tmp_path: Path
) -> None:
    reference = (course_copy / "solutions" / "mlp" / "mlp.py").read_text()
    popping = reference.replace(
        '    cache = {"positive": x > 0}\n', "    cache = [x > 0]\n"
    ).replace(
        'np.where(cache["positive"], dy, 0.0)', "np.where(cache.pop() if cache else False, dy, 0.0)"
    )
    assert popping.count("cache.pop()") == 1 and "cache = [x > 0]" in popping
    record = grade_one(course_copy, tmp_path, "pia", popping)
    lost = {item for item, got in record["items"].items() if got["score"] < got["max_score"]}
    assert lost == {"purity"}, record
    assert (
        "calling relu_backward twice with the same dy and cache gave two answers"
        in record["items"]["purity"]["feedback"]
    )


def test_a_backward_that_frees_its_cache_is_told_so(course_copy: Path, tmp_path: Path) -> None:
    # Like a framework freeing saved tensors: the second backward on one cache raises, and the
    # error alone (a KeyError in linear_backward) would not say that it is the second call.
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    freeing = reference.replace(
        "    cache = (x.copy(), W.copy())\n", '    cache = {"x": x.copy(), "W": W.copy()}\n'
    ).replace("    x, W = cache\n", '    x, W = cache.pop("x"), cache.pop("W")\n')
    assert freeing.count("cache.pop") == 2, freeing
    (tmp_path / "class" / "fay").mkdir(parents=True)
    (tmp_path / "class" / "fay" / "linear.py").write_text(freeing)
    record = grade(course_copy, tmp_path / "class", tmp_path / "out")["students"]["fay"]
    lost = {item for item, got in record["items"].items() if got["score"] < got["max_score"]}
    assert lost == {"purity"}, record
    said = re.search(
        r"KeyError at linear.py line \d+: in linear_backward: 'x' \(an earlier linear_backward "
        r"call was given this same dict object and returned: does linear_backward delete or "
        r"change what it is given\?\)",
        record["items"]["purity"]["feedback"],
    )
    assert said, record["items"]["purity"]


def test_large_logits_blame_stability_only_for_a_softmax_right_on_ordinary_ones(
    course_copy: Path, tmp_path: Path
) -> None:
    reference = (course_copy / "solutions" / "mlp" / "mlp.py").read_text()
    fancy = reference.replace("dlogits[rows, targets] -= 1.0", "dlogits[:, targets] -= 1.0")
    clipped = reference.replace(
        "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
        "log_probs = np.log(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True) + 1e-12)",
    )
    assert fancy != reference and clipped != reference
    stability = "subtract each row's own maximum before exponentiating"
    wrong = grade_one(course_copy, tmp_path / "fancy", "fay", fancy)
    assert stability not in wrong["items"]["softmax_ce"]["feedback"], wrong["items"]["softmax_ce"]
    unstable = grade_one(course_copy, tmp_path / "clipped", "cy", clipped)
    assert stability in unstable["items"]["softmax_ce"]["feedback"], unstable["items"]["softmax_ce"]


LOG_OF_P = (
    """    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, targets].mean()
""",
    """    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    log_probs = np.log(probs)
    loss = -log_probs[rows, targets].mean()
""",
)
GLOBAL_SHIFT = (
    "shifted = logits - logits.max(axis=1, keepdims=True)",
    "shifted = logits - logits.max()",
)


@pytest.mark.parametrize("mistake", [LOG_OF_P, GLOBAL_SHIFT], ids=["log_of_p", "global_shift"])
def test_an_unstable_log_softmax_loses_softmax_ce_on_large_logits(
    course_copy: Path, tmp_path: Path, mistake: tuple[str, str]
) -> None:
    reference = (course_copy / "solutions" / "mlp" / "mlp.py").read_text()
    assert reference.count(mistake[0]) == 1
    record = grade_one(course_copy, tmp_path, "uma", reference.replace(*mistake))
    lost = {item for item, got in record["items"].items() if got["score"] < got["max_score"]}
    assert lost == {"softmax_ce"}, record
    assert (
        "the loss or dlogits contains NaN or infinity" in record["items"]["softmax_ce"]["feedback"]
    )


NETWORK_GRADIENTS = ("dW2", "db2", "dW1", "db1")
# What the feedback says of each softmax mistake that has a mutant, item by item.
SOFTMAX_MISTAKE_HINTS = {
    "softmax_one_hot_every_column": {
        "softmax_ce": "1 is subtracted in every row at the column of every target",
        **{item: "(dY2[:, t] -= 1) instead of once per example" for item in NETWORK_GRADIENTS},
    },
    "softmax_divides_by_classes": {
        item: "B/C times the right answer" for item in ("softmax_ce", *NETWORK_GRADIENTS)
    }
    | {"end_to_end": "the network's loss is B/C times the right answer"},
    "softmax_over_batch_axis": {
        "softmax_ce": "the loss is what a softmax of each column (over the batch, axis 0) gives",
        "end_to_end": "the network's loss is what a softmax of each column",
        **{item: "the softmax is taken of each column of Y2" for item in NETWORK_GRADIENTS},
    },
    "softmax_loss_of_last_example": {
        "softmax_ce": "the loss is the cross-entropy of the last example alone",
        "end_to_end": "the network's loss is the cross-entropy of the last example alone",
    },
}


def test_softmax_mistakes_are_named_for_their_own_mutant_only(
    course_copy: Path, tmp_path: Path
) -> None:
    # The reference and every mlp mutant in one class: each hint must reach its own mistake
    # (on every item that mistake costs) and no other submission.
    mlp = course_copy / "solutions" / "mlp"
    klass = tmp_path / "class"
    for source in [mlp / "mlp.py", *sorted((mlp / "mutants").glob("*.py"))]:
        (klass / source.stem).mkdir(parents=True)
        shutil.copy(source, klass / source.stem / "mlp.py")
    result = run_cli("grade", "mlp", klass, "--out", tmp_path / "out", cwd=course_copy)
    assert result.returncode == 0, result.stderr
    students = json.loads((tmp_path / "out" / "grades.json").read_text())["students"]
    assert set(SOFTMAX_MISTAKE_HINTS) < set(students)
    for student, record in students.items():
        for mutant, hints in SOFTMAX_MISTAKE_HINTS.items():
            for item, hint in hints.items():
                said = hint in record["items"][item]["feedback"]
                assert said == (student == mutant), (student, item, record["items"][item])


def test_notebook_submission_grades_like_its_script(course_copy: Path, tmp_path: Path) -> None:
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    assert "\nfrom __future__ import annotations\n" in reference

    def code(source: str) -> dict[str, Any]:
        lines = source.splitlines(keepends=True)
        return {"cell_type": "code", "metadata": {}, "outputs": [], "source": lines}

    def notebook(*cells: dict[str, Any]) -> str:
        return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4})

    klass = tmp_path / "class"
    (klass / "nora").mkdir(parents=True)
    markdown = {"cell_type": "markdown", "metadata": {}, "source": ["# My work"]}
    (klass / "nora" / "linear.ipynb").write_text(notebook(markdown, code(reference)))
    # The module pasted below a cell of its own: Jupyter runs its __future__ import there.
    (klass / "omar").mkdir()
    first = code("import numpy as np\n%matplotlib inline\n")
    (klass / "omar" / "linear.ipynb").write_text(notebook(first, code(reference)))
    # A cell that fails (a plot without matplotlib, a check of the student's own) does not
    # stop the others, as in nbgrader; the feedback names it.
    (klass / "pia").mkdir()
    plot = code("import matplotlib_is_not_here as plt\nplt.plot(losses)\n")
    (klass / "pia" / "linear.ipynb").write_text(
        notebook(code(reference), plot, code("assert my_own_answer == 3\n"))
    )
    # Functions where grading cannot see them get a hint at why.
    (klass / "quinn").mkdir()
    guarded = "if __name__ == '__main__':\n" + "".join(
        f"    {line}\n" for line in reference.splitlines()
    )
    (klass / "quinn" / "linear.ipynb").write_text(notebook(code(guarded)))
    (klass / "ravi").mkdir()
    written = code("%%writefile my_linear.py\n" + reference)
    (klass / "ravi" / "linear.ipynb").write_text(
        notebook(written, code("from my_linear import linear_forward, linear_backward\n"))
    )
    # ... and only then: a misspelled name beside an unrelated guard gets none.
    (klass / "sam").mkdir()
    misspelled = reference.replace("def linear_backward(", "def linear_backwrd(")
    unrelated = code("if __name__ == '__main__':\n    print('hi')\n")
    (klass / "sam" / "linear.ipynb").write_text(notebook(code(misspelled), unrelated))
    # A code cell turned into Markdown by a key press: it shows the function, but is not run.
    (klass / "tess").mkdir()
    turned = {"cell_type": "markdown", "metadata": {}, "source": reference}
    (klass / "tess" / "linear.ipynb").write_text(notebook(markdown, turned))
    doc = grade(course_copy, klass, tmp_path / "out")
    tess = doc["students"]["tess"]
    assert tess["score"] == 0.0
    assert (
        "linear.ipynb does not define a function named linear_forward (it is in cell 2 "
        f"{CELLS}, which is not a code cell, so it does not run: make that cell a code cell)"
    ) in tess["items"]["dW"]["feedback"]
    assert doc["students"]["nora"]["score"] == 20.0
    assert doc["students"]["omar"]["score"] == 20.0, doc["students"]["omar"]["feedback"]
    sam = doc["students"]["sam"]["items"]["dW"]["feedback"]
    assert "does not define a function named linear_backward" in sam and "__main__" not in sam
    quinn, ravi = doc["students"]["quinn"], doc["students"]["ravi"]
    assert quinn["score"] == ravi["score"] == 0.0
    assert (
        "linear.ipynb does not define a function named linear_forward (code under `if __name__ "
        '== "__main__":` does not run when your work is graded'
    ) in quinn["items"]["forward"]["feedback"]
    assert (
        "No module named 'my_linear'. Cells that write files (%%writefile) do nothing when your "
        "work is graded: put your code in the notebook's own cells."
    ) in ravi["feedback"]
    assert "(%%writefile cells and %run lines do nothing" in ravi["items"]["dW"]["feedback"]
    pia = doc["students"]["pia"]
    assert pia["status"] == "graded" and pia["score"] == 20.0, pia["feedback"]
    assert pia["feedback"] == (
        "Full marks: 20/20. Every item passed. 2 cells of linear.ipynb raised an error, so "
        "what each defines after its error is missing; the other cells ran anyway, as "
        f"nbgrader runs them. ModuleNotFoundError at linear.ipynb cell 2 {CELLS}, line 1: No "
        f"module named 'matplotlib_is_not_here'; NameError at linear.ipynb cell 3 {CELLS}, "
        "line 1: name "
        "'my_own_answer' is not defined. A package that is not installed where your work is "
        "graded stops its cell at the import: import such packages in a cell of their own."
    )
    assert doc["students"]["nora"]["feedback"] == "Full marks: 20/20. Every item passed."


def test_missing_and_broken_files_are_explained(course_copy: Path, tmp_path: Path) -> None:
    klass = tmp_path / "class"
    (klass / "empty").mkdir(parents=True)
    (klass / "syntax").mkdir()
    (klass / "syntax" / "linear.py").write_text("def linear_forward(x, W, b)\n    return x\n")
    (klass / "crash").mkdir()
    (klass / "crash" / "linear.py").write_text("import numpy as np\nraise RuntimeError('boom')\n")
    doc = grade(course_copy, klass, tmp_path / "out")["students"]
    assert doc["empty"]["status"] == "missing" and doc["empty"]["score"] == 0
    assert "No linear.py" in doc["empty"]["feedback"]
    assert doc["syntax"]["status"] == "error"
    assert "SyntaxError" in doc["syntax"]["items"]["dW"]["feedback"]
    assert "line 1" in doc["syntax"]["items"]["dW"]["feedback"]
    assert doc["crash"]["status"] == "error"
    assert "RuntimeError" in doc["crash"]["items"]["forward"]["feedback"]
    assert "line 2" in doc["crash"]["items"]["forward"]["feedback"]


def test_bad_rubric_exits_2_with_file_and_line(course_copy: Path, tmp_path: Path) -> None:
    rubric = course_copy / "solutions" / "linear" / "rubric.yml"
    rubric.write_text(rubric.read_text().replace("points: 4", "points: four", 1))
    lines = rubric.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "four" in text)
    result = run_cli("grade", "linear", EXAMPLES, "--out", tmp_path / "out", cwd=course_copy)
    assert result.returncode == 2
    assert f"rubric.yml:{line}: 'points' must be a number" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "grades.json").exists()


def test_test_bound_to_unknown_item_exits_2_before_grading(
    course_copy: Path, tmp_path: Path
) -> None:
    hidden = sorted((course_copy / "solutions" / "linear" / "tests").glob("test_*.py"))[0]
    source = hidden.read_text()
    source += "\n\n@pytest.mark.rubric('dw')\ndef test_typo_item():\n    pass\n"
    if "import pytest" not in source:
        source = "import pytest\n" + source
    hidden.write_text(source)
    # The marker with the unknown id is where the problem is (pytest places a decorated test
    # at its first decorator).
    line = source.splitlines().index("@pytest.mark.rubric('dw')") + 1
    result = run_cli("grade", "linear", EXAMPLES, "--out", tmp_path / "out", cwd=course_copy)
    assert result.returncode == 2, result.stderr
    assert f"{hidden.name}:{line}:" in result.stderr
    assert "rubric('dw')" in result.stderr
    assert not (tmp_path / "out" / "grades.json").exists()


SLOW = """\
import time
import numpy as np

def linear_forward(x, W, b):
    time.sleep({delay})
    return x @ W + b, (x.copy(), W.copy())

def linear_backward(dy, cache):
    x, W = cache
    return dy @ W.T, x.T @ dy, dy.sum(axis=0)
"""


def slow_class(klass: Path, count: int, *, delay: float) -> Path:
    """``count`` correct students whose every forward call sleeps ``delay`` seconds."""
    for index in range(count):
        (klass / f"s{index}").mkdir(parents=True)
        (klass / f"s{index}" / "linear.py").write_text(SLOW.format(delay=delay))
    return klass


def start_grade(
    course: Path,
    klass: Path,
    out: Path,
    *options: str,
    program: Sequence[str] = ("-m", "autograder"),
    new_session: bool = False,
) -> subprocess.Popen[str]:
    """``autograder grade linear KLASS --out OUT --quiet OPTIONS`` in the background, its
    output captured."""
    return subprocess.Popen(
        [sys.executable, *program, "grade", "linear", str(klass), "--out", str(out), "--quiet"]
        + list(options),
        cwd=course,
        env=dict(os.environ, AUTOGRADER_SECRET="cli-test-secret"),
        start_new_session=new_session,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_journal_lines(out: Path, lines: int, timeout: float = 120) -> None:
    """Until the run grading into ``out`` has journaled ``lines`` lines (its header included)."""
    journal = out / ".autograder" / "journal.jsonl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and len(journal.read_text().splitlines()) >= lines:
            return
        time.sleep(0.05)


def test_killed_run_resumes_and_matches_a_clean_run(course_copy: Path, tmp_path: Path) -> None:
    klass = slow_class(tmp_path / "class", 6, delay=0.3)
    shutil.copytree(EXAMPLES, klass, dirs_exist_ok=True)
    out = tmp_path / "out"
    process = start_grade(course_copy, klass, out, "--jobs", "1", new_session=True)
    wait_for_journal_lines(out, 4)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert not (out / "grades.json").exists()
    # What a kill in the middle of writing a report leaves behind (atomic_write's temporary).
    (out / "feedback").mkdir(exist_ok=True)
    (out / "feedback" / ".s0.md.31337.tmp").write_text("half a fee")  # .<name>.<pid>.tmp
    resumed = run_cli("grade", "linear", klass, "--out", out, cwd=course_copy)
    assert resumed.returncode == 0, resumed.stderr
    assert "reused from an earlier run" in resumed.stdout
    assert not list(out.rglob("*.tmp"))
    clean = grade(course_copy, klass, tmp_path / "clean", "--fresh")
    assert json.loads((out / "grades.json").read_text()) == clean


def graded_class_with_late_students(
    course_copy: Path, tmp_path: Path, *, delay: float
) -> tuple[Path, Path, dict[str, bytes]]:
    """The example class graded into ``out``, then six late students (each forward call
    sleeping ``delay`` s) added to the class; returns the class, ``out`` and its gradebooks."""
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES, klass)
    out = tmp_path / "out"
    grade(course_copy, klass, out)
    old = {name: (out / name).read_bytes() for name in ("grades.json", "grades.csv")}
    for index in range(6):  # late submissions, graded into the same folder
        (klass / f"late{index}").mkdir()
        (klass / f"late{index}" / "linear.py").write_text(SLOW.format(delay=delay))
    return klass, out, old


def assert_old_grades_kept_and_the_rerun_resumes(
    course_copy: Path, klass: Path, out: Path, old: dict[str, bytes]
) -> dict[str, Any]:
    """After a stopped run: the old complete gradebooks, no temporaries, and the same command
    resumes to a clean run's grades (returned)."""
    for name, content in old.items():  # still the old complete files, not half of new ones
        assert (out / name).read_bytes() == content
    assert not list(out.rglob("*.tmp"))
    resumed = run_cli("grade", "linear", klass, "--out", out, cwd=course_copy)
    assert resumed.returncode == 0, resumed.stderr
    assert "reused from an earlier run" in resumed.stdout
    clean = grade(course_copy, klass, out.parent / "clean", "--fresh")
    assert json.loads((out / "grades.json").read_text()) == clean
    return clean


def test_ctrl_c_stops_cleanly_keeps_the_old_grades_and_the_rerun_resumes(
    course_copy: Path, tmp_path: Path
) -> None:
    klass, out, old = graded_class_with_late_students(course_copy, tmp_path, delay=0.3)
    process = start_grade(course_copy, klass, out, "--jobs", "1", new_session=True)
    records = len((out / ".autograder" / "journal.jsonl").read_text().splitlines())
    wait_for_journal_lines(out, records + 2)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted; finished results are journaled, rerun to resume" in stderr
    assert "Traceback" not in stderr + stdout
    clean = assert_old_grades_kept_and_the_rerun_resumes(course_copy, klass, out, old)
    assert set(clean["students"]) == set(json.loads(old["grades.json"])["students"]) | {
        f"late{index}" for index in range(6)
    }


def test_ctrl_c_of_a_fresh_run_says_how_to_resume(course_copy: Path, tmp_path: Path) -> None:
    # Rerunning "the same command" would start over: --fresh forgets the journal.
    klass = slow_class(tmp_path / "class", 3, delay=0.3)
    out = tmp_path / "out"
    process = start_grade(course_copy, klass, out, "--jobs", "1", "--fresh", new_session=True)
    wait_for_journal_lines(out, 2)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "finished results are journaled, rerun without --fresh to resume" in stderr


def _descendants(pid: int) -> dict[int, str]:
    """Every live process below ``pid`` (pid -> its command line), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # the command name may hold spaces and parentheses; ppid follows its last ")"
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, str] = {}
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        if _alive(child):
            found[child] = _cmdline(child)
        todo += children.get(child, [])
    return found


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that may never reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _still_alive_after(processes: dict[int, str], *, seconds: float) -> dict[int, str]:
    """Those of ``processes`` still alive once they all died or ``seconds`` passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(pid) for pid in processes):
        time.sleep(0.1)
    return {pid: cmd for pid, cmd in processes.items() if _alive(pid)}


def _full_cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
    except OSError:
        return "?"


# ``autograder`` with grading processes started as new processes instead of forked by the
# zygote (as when the zygote cannot fork).
WITHOUT_ZYGOTE = """\
import functools, sys
from autograder import cli, grading
grading.grade = functools.partial(grading.grade, zygote=False)
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("zygote", [True, False], ids=["forked", "started"])
def test_killing_only_the_grader_takes_every_process_it_started_with_it(
    course_copy: Path, tmp_path: Path, zygote: bool
) -> None:
    """``kill -9 PID`` of the grader alone, not its process group: nothing it started may go
    on grading for nobody (holding a core and a sandbox slot while the rerun starts)."""
    # each call sleeps 2 s (under the 3 s limit): about 20 s a student
    klass = slow_class(tmp_path / "class", 2, delay=2.0)
    program = ["-m", "autograder"] if zygote else ["-c", WITHOUT_ZYGOTE]
    process = start_grade(course_copy, klass, tmp_path / "out", "--jobs", "2", program=program)
    started: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 60
        # Until both students are in their first sleep: two grading processes, their
        # sandboxes and two workers (at least six processes below the grader).
        while time.monotonic() < deadline and len(started) < 6:
            time.sleep(0.2)
            started = _descendants(process.pid)
        assert len(started) >= 6, started
        time.sleep(0.5)
        started.update(_descendants(process.pid))
        process.kill()
        process.communicate(timeout=60)
        # the students would sleep for another 15 s or more
        left = _still_alive_after(started, seconds=5)
        assert not left, f"still running 5 s after the grader was killed: {left}"
    finally:
        for pid in started:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def test_a_sandbox_runner_killed_from_outside_costs_the_student_nothing(
    course_copy: Path, tmp_path: Path
) -> None:
    """The runner is the grader's (a student cannot signal it): if it dies mid-call (the OOM
    killer, an operator's kill), the call's failure is not the student's. The submission is
    graded again in a new grading process, and the grades are those of an undisturbed run."""
    klass = slow_class(tmp_path / "class", 1, delay=0.3)  # about 14 calls of 0.3 s
    clean = grade(course_copy, klass, tmp_path / "clean")
    process = start_grade(course_copy, klass, tmp_path / "out", "--jobs", "1")
    killed = None
    try:
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline:
            time.sleep(0.2)
            found = _descendants(process.pid)
            runners = [pid for pid in found if b"sandbox.runner" in _full_cmdline(pid)]
            # once the worker runs the student's calls (a process below the runner)
            if runners and len(found) >= 4:
                time.sleep(1.0)
                os.kill(runners[0], signal.SIGKILL)
                killed = runners[0]
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert killed is not None, "no sandbox runner was seen"
    assert process.returncode == 0, stderr
    doc = json.loads((tmp_path / "out" / "grades.json").read_text())
    assert doc == clean
    assert doc["students"]["s0"]["score"] == 20.0


def test_a_grader_stopped_and_continued_grades_as_an_undisturbed_run(
    course_copy: Path, tmp_path: Path
) -> None:
    """Ctrl-Z, then ``fg``: the grader's process group stops, its sandboxes (sessions of their
    own) do not. A call that outlasted its time limit during the pause must not count as in
    time, nor the pause against the student."""
    klass = slow_class(tmp_path / "class", 1, delay=4.0)  # over linear's 3 s call_timeout
    clean = grade(course_copy, klass, tmp_path / "clean")
    process = start_grade(course_copy, klass, tmp_path / "out", "--jobs", "1", new_session=True)
    try:
        deadline = time.monotonic() + 60
        # until the worker runs the student's first call (a process below the runner)
        while len(_descendants(process.pid)) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        os.killpg(process.pid, signal.SIGSTOP)
        time.sleep(5)  # the 4 s call ends, past its limit, while the grader is stopped
        os.killpg(process.pid, signal.SIGCONT)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, stderr
    assert json.loads((tmp_path / "out" / "grades.json").read_text()) == clean


@pytest.mark.parametrize(
    ("signum", "code", "word"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGHUP, 129, "hung up")],
    ids=["SIGTERM", "SIGHUP"],
)
def test_sigterm_stops_like_ctrl_c_and_the_rerun_resumes(
    course_copy: Path, tmp_path: Path, signum: int, code: int, word: str
) -> None:
    """``kill PID`` (SIGTERM, to the grader alone), or the terminal closing (SIGHUP): exit
    128 + the signal with a message, nothing left running or half-written, and the same
    command resumes."""
    klass = slow_class(tmp_path / "class", 6, delay=0.3)
    out = tmp_path / "out"
    process = start_grade(course_copy, klass, out, "--jobs", "1")
    wait_for_journal_lines(out, 3)
    started = _descendants(process.pid)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert f"{word}; finished results are journaled, rerun to resume" in stderr
    assert "Traceback" not in stderr + stdout
    assert not _still_alive_after(started, seconds=5)
    assert not (out / "grades.json").exists()
    assert not list(out.rglob("*.tmp"))
    resumed = run_cli("grade", "linear", klass, "--out", out, cwd=course_copy)
    assert resumed.returncode == 0, resumed.stderr
    assert "reused from an earlier run" in resumed.stdout
    assert len(json.loads((out / "grades.json").read_text())["students"]) == 6


# ``nohup autograder ...``: SIGHUP ignored before the grader starts.
UNDER_NOHUP = """\
import signal, sys
signal.signal(signal.SIGHUP, signal.SIG_IGN)
from autograder import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_under_nohup_a_closed_terminal_does_not_stop_the_run(
    course_copy: Path, tmp_path: Path
) -> None:
    klass = slow_class(tmp_path / "class", 2, delay=0.3)
    out = tmp_path / "out"
    process = start_grade(course_copy, klass, out, "--jobs", "1", program=["-c", UNDER_NOHUP])
    wait_for_journal_lines(out, 2)
    process.send_signal(signal.SIGHUP)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert len(json.loads((out / "grades.json").read_text())["students"]) == 2


# ``autograder`` on a disk that fills up: the N+1th write of a report file or of a journal
# record fails as a full disk does (ENOSPC).
FULL_DISK = """\
import errno, sys
from autograder import cli, grading, report
target, limit = sys.argv.pop(1), int(sys.argv.pop(1))
owner, name = (report, "_write_new") if target == "reports" else (grading.Journal, "record")
real, calls = getattr(owner, name), []
def full(*args, **kwargs):
    calls.append(1)
    if len(calls) > limit:
        raise OSError(errno.ENOSPC, "No space left on device")
    return real(*args, **kwargs)
setattr(owner, name, full)
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("target", ["reports", "journal"])
def test_a_full_disk_stops_the_run_with_a_message_and_loses_nothing(
    course_copy: Path, tmp_path: Path, target: str
) -> None:
    klass, out, old = graded_class_with_late_students(course_copy, tmp_path, delay=0)
    args = ("grade", "linear", klass, "--out", out, "--quiet")
    full = run_cli(target, "4", *args, cwd=course_copy, program=FULL_DISK)
    assert full.returncode == 4, full.stderr
    where = re.escape(str(out.resolve()))
    named = rf": {where}/\S+" if target == "reports" else ""  # the report it could not write
    assert re.search(
        rf"error: cannot write the results in {where} \(No space left on device{named}\)\. ",
        full.stderr,
    ), full.stderr
    assert "run the same command again to resume" in full.stderr
    assert "Traceback" not in full.stderr + full.stdout
    assert_old_grades_kept_and_the_rerun_resumes(course_copy, klass, out, old)


# ``autograder`` whose output folder's ``.autograder/`` is removed (``rm -r``) while it grades:
# after the third journal record.
STATE_REMOVED = """\
import shutil, sys
from autograder import cli, grading
real, calls = grading.Journal.record, []
def record(journal, entry):
    real(journal, entry)
    calls.append(1)
    if len(calls) == 3:
        shutil.rmtree(journal.path.parent)
grading.Journal.record = record
sys.exit(cli.main(sys.argv[1:]))
"""


def test_state_removed_during_the_run_loses_no_grade_and_no_feedback(
    course_copy: Path, tmp_path: Path
) -> None:
    klass, out, _ = graded_class_with_late_students(course_copy, tmp_path, delay=0)
    result = run_cli(
        "grade", "linear", klass, "--out", out, "--quiet", cwd=course_copy, program=STATE_REMOVED
    )
    assert result.returncode == 0, result.stderr
    clean = grade(course_copy, klass, tmp_path / "clean", "--fresh")
    assert json.loads((out / "grades.json").read_text()) == clean
    assert {p.stem for p in (out / "feedback").iterdir()} == set(clean["students"])
    resumed = run_cli("grade", "linear", klass, "--out", out, cwd=course_copy)
    assert resumed.returncode == 0, resumed.stderr
    assert "(17 reused from an earlier run)" in resumed.stdout


def test_an_output_folder_that_cannot_be_made_is_named_without_a_traceback(
    course_copy: Path, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "out"
    not_a_folder.write_text("a file where the output folder should go\n")
    result = run_cli("grade", "linear", EXAMPLES, "--out", not_a_folder, cwd=course_copy)
    assert result.returncode == 2, result.stderr  # a command-line mistake
    assert f"error: --out {not_a_folder} is a file; name a folder" in result.stderr
    under = run_cli("grade", "linear", EXAMPLES, "--out", not_a_folder / "out", cwd=course_copy)
    assert under.returncode == 4, under.stderr
    assert f"cannot write the results in {not_a_folder / 'out'} (Not a directory" in under.stderr
    assert "Traceback" not in result.stderr


def test_a_student_folder_name_of_255_bytes_is_graded(course_copy: Path, tmp_path: Path) -> None:
    klass = tmp_path / "class"
    long_name = "é" * 127 + "s"  # 255 bytes in UTF-8, the most a file name may have
    for name in (long_name, "bob"):
        (klass / name).mkdir(parents=True)
        shutil.copy(course_copy / "solutions" / "linear" / "linear.py", klass / name)
    doc = grade(course_copy, klass, tmp_path / "out")
    assert doc["students"][long_name]["score"] == doc["students"]["bob"]["score"] == 20.0
    (feedback,) = [p for p in (tmp_path / "out" / "feedback").iterdir() if p.name != "bob.md"]
    assert feedback.name.startswith("é" * 50) and len(feedback.name.encode()) <= 255
    assert "**Score: 20 / 20**" in feedback.read_text()
    from autograder.report import gradescope_path

    results = gradescope_path(tmp_path / "out", long_name)  # shortened like the feedback's
    assert results.parent.name.startswith("é" * 50) and len(results.parent.name.encode()) <= 255
    assert json.loads(results.read_text())["score"] == 20.0


def test_the_class_folder_itself_or_an_empty_path_is_refused_as_out(
    course_copy: Path, tmp_path: Path
) -> None:
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES, klass)
    before = sorted(p.name for p in klass.iterdir())
    result = run_cli("grade", "linear", klass, "--out", klass, cwd=course_copy)
    assert result.returncode == 2, result.stderr
    assert f"--out {klass} is the submissions folder itself" in result.stderr
    nbgrader = tmp_path / "nbclass"
    (nbgrader / "submitted" / "alice" / "linear").mkdir(parents=True)
    shutil.copy(klass / "alice" / "linear.py", nbgrader / "submitted" / "alice" / "linear")
    inside = run_cli("grade", "linear", nbgrader, "--out", nbgrader / "submitted", cwd=course_copy)
    assert inside.returncode == 2, inside.stderr
    assert f"--out {nbgrader / 'submitted'} is the submissions folder itself" in inside.stderr
    alice = run_cli("grade", "linear", klass, "--out", klass / "alice", cwd=course_copy)
    assert alice.returncode == 2, alice.stderr
    assert f"--out {klass / 'alice'} is a student's folder (it holds their linear.py)" in (
        alice.stderr
    )
    empty = run_cli("grade", "linear", klass, "--out", "", cwd=klass)
    assert empty.returncode == 2, empty.stderr
    assert "argument --out: an empty path" in empty.stderr
    assert sorted(p.name for p in klass.iterdir()) == before  # nothing written into the class


def test_max_jobs_one_without_jobs_grades_with_one_process(
    course_copy: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "grade", "linear", EXAMPLES, "--out", tmp_path / "out", "--max-jobs", "1", cwd=course_copy
    )
    assert result.returncode == 0, result.stderr
    assert "with up to 1 process;" in result.stdout
    refused = run_cli(
        "grade", "linear", EXAMPLES, "--out", tmp_path / "o", "--max-jobs", "0", cwd=course_copy
    )
    assert refused.returncode == 2
    assert "--max-jobs must be >= 1" in refused.stderr


def test_text_no_file_can_hold_never_stops_the_class(course_copy: Path, tmp_path: Path) -> None:
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    klass = tmp_path / "class"
    for name, source in [
        (
            "eve",
            reference
            + '\n\ndef linear_backward(dy, cache):\n    raise ValueError("bad \\udcff")\n',
        ),
        ("bob", reference),
    ]:
        (klass / name).mkdir(parents=True)
        (klass / name / "linear.py").write_text(source)
    latin1 = os.path.join(os.fsencode(klass), b"jos\xe9")  # a Latin-1 LMS export's folder name
    os.mkdir(latin1)
    with open(os.path.join(latin1, b"linear.py"), "w") as handle:
        handle.write(reference)
    out = tmp_path / "out"
    for _ in range(2):  # the rerun reads what the first run journaled
        doc = grade(course_copy, klass, out)
        assert sorted(doc["students"]) == ["bob", "eve", "josé"]
        assert doc["students"]["bob"]["score"] == doc["students"]["josé"]["score"] == 20.0
        assert "ValueError" in doc["students"]["eve"]["items"]["dx"]["feedback"]
        assert "bad ?" in (out / "feedback" / "eve.md").read_text()


def test_an_output_folder_inside_the_class_is_not_a_student(
    course_copy: Path, tmp_path: Path
) -> None:
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES, klass)
    students = {p.name for p in klass.iterdir() if p.is_dir()}
    first = grade(course_copy, klass, klass / "graded")
    assert set(first["students"]) == students
    again = run_cli("grade", "linear", klass, "--out", klass / "graded", cwd=course_copy)
    assert again.returncode == 0, again.stderr
    assert f"{len(students)} reused from an earlier run" in again.stdout
    assert json.loads((klass / "graded" / "grades.json").read_text()) == first


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(
    course_copy: Path, tmp_path: Path
) -> None:
    klass = slow_class(tmp_path / "class", 4, delay=0.3)
    out = tmp_path / "out"
    first = start_grade(course_copy, klass, out, "--jobs", "1")
    wait_for_journal_lines(out, 2)
    second = run_cli("grade", "linear", klass, "--out", out, cwd=course_copy)
    assert second.returncode == 2, second.stderr
    assert f"another 'autograder grade' (pid {first.pid}) is writing into {out}" in second.stderr
    assert "Traceback" not in second.stderr
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert sorted(json.loads((out / "grades.json").read_text())["students"]) == [
        f"s{index}" for index in range(4)
    ]
    again = run_cli("grade", "linear", klass, "--out", out, cwd=course_copy)  # lock released
    assert again.returncode == 0, again.stderr
    assert "4 reused from an earlier run" in again.stdout


def test_one_students_recorded_numbers_never_reach_the_next(
    course_copy: Path, tmp_path: Path
) -> None:
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    for student in ("s1", "s2", "s3"):
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "linear.py").write_text(reference)
    grade(course_copy, tmp_path / "class", tmp_path / "out", "--jobs", "1")
    journal = (tmp_path / "out" / ".autograder" / "journal.jsonl").read_text().splitlines()[1:]
    shapes = [
        [len(outcome["properties"]) for outcome in json.loads(line)["outcomes"]] for line in journal
    ]
    assert len(shapes) == 3 and shapes[0] == shapes[1] == shapes[2]
    assert max(shapes[0]) <= 2  # rel_error and numerical_rel_error, recorded once each


def test_a_grading_process_that_dies_at_startup_stops_the_run(
    course_copy: Path, tmp_path: Path
) -> None:
    conftest = course_copy / "solutions" / "linear" / "tests" / "conftest.py"
    conftest.write_text("import os\nprint('instructor conftest broke')\nos._exit(7)\n")
    result = run_cli(
        "grade", "linear", EXAMPLES, "--out", tmp_path / "out", cwd=course_copy, timeout=120
    )
    assert result.returncode == 2  # the hidden tests are at fault, not the sandbox
    assert "the hidden tests cannot be loaded" in result.stderr
    assert "exited with status 7 before it was ready" in result.stderr
    assert "instructor conftest broke" in result.stderr  # the log's tail says why
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "grades.json").exists()


def test_an_endless_function_times_out_once_not_in_every_check(
    course_copy: Path, tmp_path: Path
) -> None:
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    endless = reference.replace(
        "def linear_backward(dy: np.ndarray, cache: object)",
        "def linear_backward(dy: np.ndarray, cache: object)",
    ).replace("    x, W = cache\n", "    while True:\n        pass\n", 1)
    assert "while True" in endless
    (tmp_path / "class" / "looper").mkdir(parents=True)
    (tmp_path / "class" / "looper" / "linear.py").write_text(endless)
    started = time.monotonic()
    doc = grade(course_copy, tmp_path / "class", tmp_path / "out", "--jobs", "1")
    # One call_timeout (3 s) for the first endless call, not one per check (budget: 60 s).
    assert time.monotonic() - started < 30
    looper = doc["students"]["looper"]
    assert looper["items"]["forward"]["score"] == 4.0
    assert looper["items"]["dW"]["score"] == 0.0
    assert (
        "did not return within 3 s"
        in looper["items"]["dx"]["feedback"]
        + looper["items"]["dW"]["feedback"]
        + looper["items"]["db"]["feedback"]
    )
    assert "so it was not run again" in looper["items"]["dW"]["feedback"]


def test_the_summary_counts_timeouts_graded_errors_and_the_mean(
    course_copy: Path, tmp_path: Path
) -> None:
    course_yml = course_copy / "course.yml"
    text = course_yml.read_text()
    assert "call_timeout: 3" in text
    limits = "call_timeout: 1\n      import_timeout: 2"
    course_yml.write_text(text.replace("call_timeout: 3", limits))
    reference = (course_copy / "solutions" / "linear" / "linear.py").read_text()
    students = {
        "honest": reference,
        "loops_in_backward": reference.replace(
            "    x, W = cache\n", "    while True:\n        pass\n", 1
        ),
        "loops_on_import": "while True:\n    pass\n",
        "syntax": "def linear_forward(:\n",
    }
    for student, source in students.items():
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "linear.py").write_text(source)
    result = run_cli(
        "grade", "linear", tmp_path / "class", "--out", tmp_path / "out", cwd=course_copy
    )
    assert result.returncode == 0, result.stderr
    stdout = result.stdout
    cells = {row[0]: row[1:] for row in _table_rows(stdout)}
    students = json.loads((tmp_path / "out" / "grades.json").read_text())["students"]
    # one row per student: status, then each item's score and the total
    assert cells["honest"] == ["graded", "4/4", "4/4", "4/4", "3/3", "3/3", "2/2", "20/20"]
    assert cells["syntax"][0] == "error" and cells["syntax"][-1] == "0/20"
    assert cells["loops_in_backward"][-1] == f"{students['loops_in_backward']['score']:g}/20"
    # the class: counts and the mean
    counts = dict(
        re.findall(
            r"^(graded|could not run|missing|with timeouts|full marks) +(\d+)$", stdout, re.M
        )
    )
    assert counts == {
        "graded": "2",
        "could not run": "2",
        "missing": "0",
        "with timeouts": "2",
        "full marks": "1",
    }, stdout
    mean = sum(s["score"] for s in students.values()) / 4
    assert re.search(rf"^mean score +{mean:.2f}/20$", stdout, re.M), stdout
    # each rubric item: its points, the class's mean on it and how many got it all
    for item in ("forward", "dx", "dW", "db", "shapes", "purity"):
        scores = [s["items"][item] for s in students.values()]
        full = sum(1 for i in scores if i["score"] == i["max_score"])
        mean = sum(i["score"] for i in scores) / 4
        points = f"{scores[0]['max_score']:g}"
        assert cells[item] == [points, f"{mean:.2f}", str(full)], (item, stdout)
    assert stdout.strip().splitlines()[-1].startswith("4 submissions in ")


def _table_rows(text: str) -> list[list[str]]:
    """The cells of every table row in ``text`` (cells are separated by two spaces or more)."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if "  " in line]


@pytest.mark.parametrize(
    "change",
    [
        "tests/data.json",  # a data file the hidden tests read
        "conftest.py",  # beside tests/, loaded by pytest
        "course_helpers.py",  # a module the tests import (grading runs in solutions/<a>/)
        "pytest.ini",
        "tests/test_linear_hidden.py",
        "linear.py",
        "rubric.yml",
    ],
)
def test_a_journal_is_not_reused_after_any_change_that_decides_grades(
    course_copy: Path, change: str
) -> None:
    from autograder.course import load_course
    from autograder.grading import fingerprint

    assignment = load_course(course_copy / "course.yml").assignment("linear")
    before = fingerprint(assignment, assignment.rubric(), "a-secret-of-12+")
    path = assignment.solution_dir / change
    path.write_text((path.read_text() if path.exists() else "") + "\n# changed\n")
    assert fingerprint(assignment, assignment.rubric(), "a-secret-of-12+") != before


def test_a_journal_is_not_reused_by_another_version_of_the_grader(
    course_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from autograder import grading
    from autograder.course import load_course

    assignment = load_course(course_copy / "course.yml").assignment("linear")
    before = grading.fingerprint(assignment, assignment.rubric(), "a-secret-of-12+")
    monkeypatch.setattr(grading, "_grader_code_hash", lambda: b"the next release")
    assert grading.fingerprint(assignment, assignment.rubric(), "a-secret-of-12+") != before


def test_output_that_cannot_be_shown_never_loses_the_grades(
    course_copy: Path, tmp_path: Path
) -> None:
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES, klass)
    shutil.copytree(klass / "alice", klass / "José")
    command = [sys.executable, "-m", "autograder", "grade", "linear", str(klass)]

    def run(out: Path, stdout: Any, **env: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [*command, "--out", str(out)],
            cwd=course_copy,
            env=dict(os.environ, AUTOGRADER_SECRET="cli-test-secret", **env),
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=300,
        )

    # A reader that went away (`| head -c1`): the summary's write fails with EPIPE.
    reader, writer = os.pipe()
    os.close(reader)
    piped = run(tmp_path / "piped", writer)
    os.close(writer)
    assert piped.returncode == 141, piped.stderr
    assert b"Traceback" not in piped.stderr
    assert len(json.loads((tmp_path / "piped" / "grades.json").read_text())["students"]) == 12
    # A full disk under the summary (`> /dev/full`).
    with open("/dev/full", "w") as full:
        filled = run(tmp_path / "full", full)
    assert filled.returncode == 4, filled.stderr
    assert b"error: cannot write the output (No space left on device" in filled.stderr
    assert (tmp_path / "full" / "grades.json").exists()
    # A terminal that can show ASCII only, and a student named José.
    ascii_only = run(tmp_path / "ascii", subprocess.PIPE, PYTHONIOENCODING="ascii")
    assert ascii_only.returncode == 0, ascii_only.stderr
    assert b"Jos?" in ascii_only.stdout


def test_grading_the_class_of_another_assignment_warns(course_copy: Path, tmp_path: Path) -> None:
    result = run_cli("grade", "mlp", EXAMPLES, "--out", tmp_path / "out", cwd=course_copy)
    assert result.returncode == 0, result.stderr  # every student graded: missing
    assert f"warning: none of the 11 submissions has mlp.py: is {EXAMPLES} the class" in (
        result.stderr
    )


@pytest.mark.parametrize("link", [".autograder/lock", "feedback", "gradescope", ".autograder"])
def test_a_link_inside_out_is_refused_and_its_target_untouched(
    course_copy: Path, tmp_path: Path, link: str
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("important\n")
    target = victim / "keep.txt" if link.endswith("lock") else victim
    out = tmp_path / "out"
    (out / ".autograder").mkdir(parents=True)
    if link == ".autograder":
        (out / ".autograder").rmdir()
    (out / link).symlink_to(target)
    result = run_cli("grade", "linear", EXAMPLES, "--out", out, cwd=course_copy)
    assert result.returncode == 2, result.stderr
    assert f"{out / link} is a symbolic link" in result.stderr
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]
    assert (victim / "keep.txt").read_text() == "important\n"


def read_source_of(notebook: str) -> str:
    from autograder.submissions import notebook_source

    return notebook_source(notebook)


def finished_linear(course: Path) -> tuple[Path, str, str]:
    """The linear release folder, the reference's code, and the release's notebook with the
    reference's code in it (what a student who finished in the notebook hands in)."""
    from autograder.notebook import render_notebook

    release = course / "assignments" / "linear"
    reference = (course / "solutions" / "linear" / "linear.py").read_text()
    finished = render_notebook((release / "README.md").read_text(), reference, "linear.py")
    return release, reference, finished


def test_the_whole_release_handed_in_is_graded_by_what_the_student_edited(
    course_copy: Path, tmp_path: Path
) -> None:
    from autograder.notebook import render_notebook

    release, reference, finished = finished_linear(course_copy)
    klass = tmp_path / "class"
    # nb: the release folder, the notebook finished, linear.py still the stub
    shutil.copytree(release, klass / "nb")
    (klass / "nb" / "linear.ipynb").write_text(finished)
    # old: a finished notebook, and an old copy of the stub in a subfolder
    (klass / "old" / "old").mkdir(parents=True)
    (klass / "old" / "linear.ipynb").write_text(finished)
    shutil.copy(release / "linear.py", klass / "old" / "old" / "linear.py")
    # early: the notebook of an earlier release (a handout section added since, a comment in
    # the stub reworded), untouched, beside a finished .py: still a stub, not a second answer
    stub = (release / "linear.py").read_text()
    earlier = render_notebook(
        "# Linear\n\nAn earlier handout.\n", stub.replace("# ", "# (v1) ", 1), "linear.py"
    )
    assert read_source_of(earlier) != read_source_of((release / "linear.ipynb").read_text())
    (klass / "early").mkdir()
    (klass / "early" / "linear.ipynb").write_text(earlier)
    (klass / "early" / "linear.py").write_text(reference)
    # both: a finished .py and a finished notebook that differ: which one is meant?
    (klass / "both").mkdir()
    (klass / "both" / "linear.py").write_text(reference)
    (klass / "both" / "linear.ipynb").write_text(finished.replace("x @ W + b", "x @ W - b"))
    doc = grade(course_copy, klass, tmp_path / "out")
    assert doc["students"]["nb"]["score"] == doc["students"]["old"]["score"] == 20.0
    assert doc["students"]["early"]["status"] == "graded"
    assert doc["students"]["early"]["score"] == 20.0
    both = doc["students"]["both"]
    assert both["status"] == "error"
    assert both["feedback"] == (
        "Your submission could not be graded, so no check could be made. Several files could be "
        "your submission (linear.py, linear.ipynb): hand in exactly one of them."
    )  # nothing in either file is wrong as such: not "Your linear.py could not be run"


def test_a_stub_saved_on_windows_beside_the_finished_notebook_is_still_the_stub(
    course_copy: Path, tmp_path: Path
) -> None:
    # git's autocrlf or Notepad gives the untouched stub CRLF line endings, or an editor drops
    # its last line break: check says the notebook counts (the .py has more stubs left), and
    # grade must not call the two files ambiguous.
    release, _, finished = finished_linear(course_copy)
    stub = (release / "linear.py").read_bytes()
    klass = tmp_path / "class"
    for student, saved in (
        ("crlf", stub.replace(b"\n", b"\r\n")),
        ("nofinal", stub.rstrip(b"\n")),
        ("spaces", stub.replace(b"\n", b" \n")),
    ):
        (klass / student).mkdir(parents=True)
        (klass / student / "linear.py").write_bytes(saved)
        (klass / student / "linear.ipynb").write_text(finished)
    doc = grade(course_copy, klass, tmp_path / "out")
    for student in ("crlf", "nofinal", "spaces"):
        record = doc["students"][student]
        assert (record["status"], record["score"]) == ("graded", 20.0), (student, record)


def test_the_release_folder_handed_in_beside_the_finished_file_is_not_graded(
    course_copy: Path, tmp_path: Path
) -> None:
    # The student hands in the whole release folder, linear/ (the stubs), and the finished
    # file next to it: the stub in linear/ used to be graded, 0/20, "not implemented yet".
    release, reference, finished = finished_linear(course_copy)
    klass = tmp_path / "class"
    shutil.copytree(release, klass / "nbuser" / "linear")
    (klass / "nbuser" / "linear.ipynb").write_text(finished)
    shutil.copytree(release, klass / "pyuser" / "linear")
    (klass / "pyuser" / "linear.py").write_text(reference)
    doc = grade(course_copy, klass, tmp_path / "out")
    for student in ("nbuser", "pyuser"):
        record = doc["students"][student]
        assert (record["status"], record["score"]) == ("graded", 20.0), (student, record)
        assert "not implemented" not in json.dumps(record)


def test_an_empty_file_and_a_link_to_nowhere_are_named_to_the_ta_not_the_grader_paths(
    course_copy: Path, tmp_path: Path
) -> None:
    klass = tmp_path / "class"
    (klass / "amy").mkdir(parents=True)
    (klass / "amy" / "linear.py").write_bytes(b"")  # an upload that failed
    (klass / "ghost").symlink_to(tmp_path / "attempts" / "gone")
    out = tmp_path / "out"
    result = run_cli("grade", "linear", klass, "--out", out, "-q", cwd=course_copy)
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "grades.json").read_text())
    amy, ghost = doc["students"]["amy"], doc["students"]["ghost"]
    assert (amy["status"], ghost["status"]) == ("error", "error")
    assert amy["feedback"] == (
        "Your submission could not be graded, so no check could be made. Your linear.py is "
        "empty (0 bytes): the upload may have failed."
    )  # not six "linear.py does not define a function named ..."
    assert "ghost is a link to a folder that does not exist" in ghost["feedback"]
    for page in (out / "feedback").iterdir():  # a student's page: no path of the grader's
        assert str(tmp_path) not in page.read_text(), page.name
    assert str(tmp_path) not in json.dumps(doc)
    assert (
        "warning: amy: linear.py is empty (0 bytes): the upload may have failed\n"
        f"warning: ghost: {klass / 'ghost'} is a link to {tmp_path / 'attempts' / 'gone'}, "
        "which does not exist\n"
    ) in result.stderr


def test_a_resubmission_copy_beside_the_graded_file_is_said_in_feedback_and_on_stderr(
    course_copy: Path, tmp_path: Path
) -> None:
    klass = tmp_path / "class"
    for student, graded, copy in (
        ("smithjohn", "bob", "linear-1.py"),  # Canvas's name for a resubmission
        ("doejane", "judy", "linear (1).py"),  # a browser's for a second download
        ("same", "alice", "linear (1).py"),  # the same code again: nothing to say
    ):
        (klass / student).mkdir(parents=True)
        shutil.copy(EXAMPLES / graded / "linear.py", klass / student / "linear.py")
        shutil.copy(EXAMPLES / "alice" / "linear.py", klass / student / copy)
    out = tmp_path / "out"
    result = run_cli("grade", "linear", klass, "--out", out, "-q", cwd=course_copy)
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "grades.json").read_text())
    # The file of the exact name is graded (bob's transposed dW, judy's stub), as the
    # handout says; the copy is named, to the student and to the TA.
    assert doc["students"]["smithjohn"]["items"]["dW"]["score"] == 0
    assert doc["students"]["doejane"]["items"]["dx"]["score"] == 0
    for student, copy in (("smithjohn", "linear-1.py"), ("doejane", "linear (1).py")):
        said = f"{copy} beside linear.py was not graded: a file counts only under its exact name"
        assert said in doc["students"][student]["feedback"]
        assert said in (out / "feedback" / f"{student}.md").read_text().replace("\\", "")
        assert (
            f"warning: {student}: graded linear.py, not {copy} beside it, which holds other code "
            "(to grade that instead, rename it linear.py and grade again)\n"
        ) in result.stderr
    assert "same" not in result.stderr and "copy" not in doc["students"]["same"]["feedback"]
    assert doc["students"]["same"]["score"] == 20.0
    # The copy taken away, the feedback no longer names it (the file itself did not change).
    (klass / "smithjohn" / "linear-1.py").unlink()
    result = run_cli("grade", "linear", klass, "--out", out, "-q", cwd=course_copy)
    doc = json.loads((out / "grades.json").read_text())
    assert "linear-1.py" not in doc["students"]["smithjohn"]["feedback"]
    assert "smithjohn" not in result.stderr and "doejane: graded linear.py" in result.stderr


def test_one_student_is_one_id_whichever_system_wrote_the_name(
    course_copy: Path, tmp_path: Path
) -> None:
    nfc, nfd = "Zo\u00eb \u00dcnal", "Zoe\u0308 U\u0308nal"  # as Linux and macOS write it
    klass = tmp_path / "class"
    for student in (nfc, "Alice", "alice", "ALICE "):
        (klass / student).mkdir(parents=True)
        shutil.copy(EXAMPLES / "alice" / "linear.py", klass / student / "linear.py")
    out = tmp_path / "out"
    result = run_cli("grade", "linear", klass, "--out", out, "-q", cwd=course_copy)
    assert result.returncode == 0, result.stderr
    # Alice.md and alice.md are one file on a Mac's disk: the TA is told.
    assert (
        "warning: student ids 'ALICE ', 'Alice', 'alice' differ only in case or spaces: one "
        "student twice?"
    ) in result.stderr
    assert nfc not in result.stderr
    # The same class zipped on a Mac (names in NFD): the same student, not a look-alike new
    # one whose report replaces the first.
    archive = tmp_path / "mac.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in klass.rglob("linear.py"):
            name = str(path.relative_to(klass)).replace(nfc, nfd)
            bundle.write(path, f"class/{name}")
    result = run_cli("grade", "linear", archive, "--out", out, cwd=course_copy)
    assert result.returncode == 0, result.stderr
    assert "(4 reused from an earlier run)" in result.stdout, result.stdout
    doc = json.loads((out / "grades.json").read_text())
    assert sorted(doc["students"]) == sorted([nfc, "Alice", "alice", "ALICE "])
    assert (out / "feedback" / f"{nfc}.md").exists()
    assert not (out / "feedback" / f"{nfd}.md").exists()


def test_reports_of_students_no_longer_in_the_class_are_removed_only_with_prune(
    course_copy: Path, tmp_path: Path
) -> None:
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES, klass)
    out = tmp_path / "out"
    grade(course_copy, klass, out)
    (klass / "bob").rename(klass / "bobby")
    shutil.rmtree(klass / "carol")
    (out / "feedback" / "notes.txt").write_text("mine\n")  # not a report: kept
    (out / "feedback" / "my-notes.md").write_text("mine\n")  # not written by the grader: kept
    (out / "gradescope" / "other").mkdir()
    (out / "gradescope" / "other" / "results.json").write_text("{}\n")
    (out / "gradescope" / "carol" / "extra.txt").write_text("mine\n")
    # Not without being asked: a TA grading late submissions on their own would lose the class.
    before = {
        p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".autograder" not in p.parts
    }
    refused = run_cli("grade", "linear", klass, "--out", out, cwd=course_copy)
    assert refused.returncode == 2, refused.stderr
    assert (
        f"--out {out} holds the grades of 2 student(s) who are not in {klass} (bob, carol); "
        "grading would remove their grades and feedback, so nothing was graded." in refused.stderr
    )
    assert "add --prune" in refused.stderr and "Traceback" not in refused.stderr
    after = {
        p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".autograder" not in p.parts
    }
    assert after == before
    doc = grade(course_copy, klass, out, "--prune")
    assert "bob" not in doc["students"] and "bobby" in doc["students"]
    assert not (out / "feedback" / "bob.md").exists() and (out / "feedback" / "bobby.md").exists()
    assert not (out / "feedback" / "carol.md").exists()
    assert not (out / "gradescope" / "bob").exists()
    assert not (out / "gradescope" / "carol" / "results.json").exists()
    assert (out / "gradescope" / "carol" / "extra.txt").exists()
    assert (out / "feedback" / "notes.txt").exists()
    assert (out / "feedback" / "my-notes.md").exists()
    assert (out / "gradescope" / "other" / "results.json").exists()


def test_feedback_of_students_gone_from_the_class_is_kept_beside_a_broken_grades_json(
    course_copy: Path, tmp_path: Path
) -> None:
    """The refusal above read the students graded earlier from grades.json alone: with it cut
    short (a hand edit gone wrong), the run deleted the feedback of students no longer in the
    class, without --prune."""
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES, klass)
    out = tmp_path / "out"
    grade(course_copy, klass, out)
    shutil.rmtree(klass / "bob")
    page = (out / "feedback" / "bob.md").read_bytes()
    (out / "grades.json").write_bytes((out / "grades.json").read_bytes()[:100])
    refused = run_cli("grade", "linear", klass, "--out", out, cwd=course_copy)
    assert refused.returncode == 2, refused.stderr
    assert (
        f"--out {out} holds the feedback of 1 student(s) who are not in {klass} (bob) (and a "
        "grades.json that cannot be read); grading would remove" in refused.stderr
    )
    assert (out / "feedback" / "bob.md").read_bytes() == page
    assert (out / "gradescope" / "bob" / "results.json").is_file()
    doc = grade(course_copy, klass, out, "--prune")
    assert "bob" not in doc["students"] and not (out / "feedback" / "bob.md").exists()


def test_another_assignment_without_its_folder_does_not_stop_this_one(
    course_copy: Path, tmp_path: Path
) -> None:
    shutil.rmtree(course_copy / "solutions" / "mlp")  # listed in course.yml, not written yet
    grade(course_copy, EXAMPLES, tmp_path / "out")
    verified = run_cli("verify", "mlp", cwd=course_copy)
    assert verified.returncode == 2
    assert "course.yml:" in verified.stdout and "has no folder solutions/mlp/" in verified.stdout


def test_a_folder_of_mostly_other_things_warns(course_copy: Path, tmp_path: Path) -> None:
    """Grading a folder that holds the class and much else (/tmp, a home folder)."""
    # (With the whole class in a folder of its own in there, it is refused as one folder
    # too high: test_the_class_given_one_folder_too_high_is_refused.)
    for student in ("alice", "bob"):
        shutil.copytree(EXAMPLES / student, tmp_path / "stuff" / student)
    for name in ("notes", "photos", "old-runs", "downloads"):
        (tmp_path / "stuff" / name).mkdir()
        (tmp_path / "stuff" / name / "readme.txt").write_text("not a submission\n")
    result = run_cli(
        "grade", "linear", tmp_path / "stuff", "--out", tmp_path / "out", cwd=course_copy
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"warning: 4 of the 6 folders in {tmp_path / 'stuff'} hold files but no linear.py, "
        "nor a file named like it or a zip: is it a class (one folder per student) or a folder "
        "of other things?" in result.stderr
    )
    ok = run_cli("grade", "linear", EXAMPLES, "--out", tmp_path / "out2", cwd=course_copy)
    assert "warning" not in ok.stderr
    # Students who have not handed in are no such thing: an empty folder (a roster), or one
    # with another assignment's folder (nbgrader's submitted/ holds every assignment's).
    submitted = tmp_path / "nbgrader" / "submitted"
    shutil.copytree(EXAMPLES / "alice", submitted / "alice" / "linear")
    for name in ("s1", "s2", "s3"):
        (submitted / name / "mlp").mkdir(parents=True)
        (submitted / name / "mlp" / "mlp.py").write_text("x = 1\n")
    (submitted / "s4").mkdir()
    early = run_cli(
        "grade", "linear", tmp_path / "nbgrader", "--out", tmp_path / "out3", cwd=course_copy
    )
    assert early.returncode == 0, early.stderr
    assert "warning" not in early.stderr


def test_the_class_given_one_folder_too_high_is_refused(course_copy: Path, tmp_path: Path) -> None:
    """examples/submissions/ (a folder per assignment) was graded as three students, 'linear'
    an error (several files), with a warning; a Mac's HW3/ beside __MACOSX/ without one."""
    out = tmp_path / "out"
    grade(course_copy, EXAMPLES, out)
    before = (out / "grades.json").read_bytes()
    result = run_cli("grade", "linear", EXAMPLES.parent, "--out", out, cwd=course_copy)
    assert result.returncode == 2, result.stderr
    assert f"error: is {EXAMPLES.parent} one folder above the class? linear/ in it holds 11 " in (
        result.stderr
    )
    assert f"grade {EXAMPLES}. Nothing was graded" in result.stderr
    assert (out / "grades.json").read_bytes() == before  # the class's grades are untouched
    high = tmp_path / "high"
    shutil.copytree(EXAMPLES, high / "HW3")
    (high / "__MACOSX" / "HW3").mkdir(parents=True)
    result = run_cli("grade", "linear", high, "--out", tmp_path / "out2", cwd=course_copy)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"is {high} one folder above the class?" in result.stderr
    assert f"grade {high / 'HW3'}." in result.stderr
    assert not (tmp_path / "out2" / "grades.json").exists()


def test_students_who_handed_in_something_else_and_unsorted_files_are_listed(
    course_copy: Path, tmp_path: Path
) -> None:
    """Misnamed files and students' own zips were plain 'missing', a folder per student was
    asked for, and unsorted LMS files beside the student folders were never mentioned."""
    klass = tmp_path / "class"
    for student in ("alice", "bob", "carol", "dave"):
        shutil.copytree(EXAMPLES / student, klass / student)
    misnamed = {"anna": "Linear.py", "bo": "linear (1).py", "cy": "linear.py.txt"}
    for student, name in misnamed.items():
        (klass / student).mkdir()
        shutil.copy(EXAMPLES / "alice" / "linear.py", klass / student / name)
    for student in ("eve", "fay"):
        (klass / student).mkdir()
        with zipfile.ZipFile(klass / student / f"{student}.zip", "w") as bundle:
            bundle.write(EXAMPLES / "alice" / "linear.py", "linear/linear.py")
    for name in ("leeann_33333_70002_Linear.py", "newguy_LATE_55555_70010_linear.py"):
        shutil.copy(EXAMPLES / "bob" / "linear.py", klass / name)
    result = run_cli("grade", "linear", klass, "--out", tmp_path / "out", cwd=course_copy)
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "out" / "grades.json").read_text())
    assert {s for s, r in doc["students"].items() if r["status"] == "missing"} == {
        "anna",
        "bo",
        "cy",
        "eve",
        "fay",
    }
    assert (
        "warning: 5 students graded as missing handed in something else than linear.py:\n"
        "  3 handed in a file with another name:\n"
        "    anna: Linear.py\n    bo: linear (1).py\n    cy: linear.py.txt\n"
        "  2 handed in a zip:\n    eve: eve.zip\n    fay: fay.zip\n"
        f"  rename the file to linear.py (or unzip the zip) in their folder in {klass} and grade "
        "again" in result.stderr
    )
    assert "one folder per student" not in result.stderr  # 5 of 9 hold "files but no ...": no
    assert (
        "warning: 2 LMS-named files beside the student folders are not graded "
        "(leeann_33333_70002_Linear.py, newguy_LATE_55555_70010_linear.py): put each in its "
        f"student's folder as linear.py ('autograder sort-canvas linear {klass}' does it"
        in result.stderr
    )
    ok = run_cli("grade", "linear", EXAMPLES, "--out", tmp_path / "out2", "-q", cwd=course_copy)
    assert ok.returncode == 0 and ok.stderr == ""


def test_a_student_folder_beside_nbgraders_submitted_is_named(
    course_copy: Path, tmp_path: Path
) -> None:
    course = tmp_path / "nbgrader"
    for student in ("alice", "bob"):
        shutil.copytree(EXAMPLES / student, course / "submitted" / student / "linear")
    shutil.copytree(EXAMPLES / "alice", course / "autograded" / "alice" / "linear")
    shutil.copytree(course_copy / "assignments" / "linear", course / "release" / "linear")
    shutil.copytree(EXAMPLES / "carol", course / "latebird")
    result = run_cli("grade", "linear", course, "--out", tmp_path / "out", cwd=course_copy)
    assert result.returncode == 0, result.stderr
    assert set(json.loads((tmp_path / "out" / "grades.json").read_text())["students"]) == {
        "alice",
        "bob",
    }
    assert (
        f"warning: not graded: 1 folder(s) beside nbgrader's submitted/ in {course} that hold "
        f"linear.py (latebird); only {course}/submitted/<student>/ is graded" in result.stderr
    )


def test_control_characters_in_an_id_never_reach_the_terminal(
    course_copy: Path, tmp_path: Path
) -> None:
    klass = tmp_path / "class"
    shutil.copytree(EXAMPLES / "alice", klass / "eve\x1b[2Jx")  # would clear the screen
    result = run_cli("grade", "linear", klass, "--out", tmp_path / "out", cwd=course_copy)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "eve?[2Jx" in result.stdout


@pytest.mark.parametrize(
    ("name", "folder", "message"),
    [
        ("grades.json", True, "is not a file"),
        ("grades.csv", True, "is not a file"),
        ("feedback", False, "is not a folder"),
        ("gradescope", False, "is not a folder"),
    ],
)
def test_something_in_the_way_of_a_report_is_named_before_anyone_is_graded(
    course_copy: Path, tmp_path: Path, name: str, folder: bool, message: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / name).mkdir() if folder else (out / name).write_text("mine\n")
    result = run_cli("grade", "linear", EXAMPLES, "--out", out, cwd=course_copy)
    assert result.returncode == 2, result.stderr
    assert f"{out / name} {message}; move it away and grade again" in result.stderr
    assert not (out / ".autograder" / "journal.jsonl").exists()  # nobody was graded


def test_reports_written_by_an_interrupted_run_are_removed_later(
    course_copy: Path, tmp_path: Path
) -> None:
    # A run killed after writing some reports: those students are on record before their
    # reports exist, so a later run removes them once they left the class.
    klass = slow_class(tmp_path / "class", 4, delay=0.3)
    out = tmp_path / "out"
    process = start_grade(course_copy, klass, out, "--jobs", "1")
    wait_for_journal_lines(out, 3)
    process.terminate()
    process.communicate(timeout=60)
    written = sorted(p.stem for p in (out / "feedback").glob("*.md"))
    assert written, "the run was stopped before any report"
    for student in written:
        shutil.rmtree(klass / student)
    assert run_cli("grade", "linear", klass, "--out", out, cwd=course_copy).returncode == 0
    assert sorted(p.stem for p in (out / "feedback").glob("*.md")) == sorted(
        set(p.name for p in klass.iterdir())
    )


def test_grades_of_another_assignment_or_class_in_out_are_never_replaced(
    course_copy: Path, tmp_path: Path
) -> None:
    """The wrong assignment, or the class of another one, into an existing --out used to
    replace its grades.json and delete its feedback pages, with exit 0 (a warning came after)."""
    out = tmp_path / "out"
    grade(course_copy, EXAMPLES, out)

    def files() -> dict[Path, bytes]:  # the lock holds the pid of the last run
        return {
            p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != "lock"
        }

    before = files()
    mlp_class = EXAMPLES.parent / "mlp"
    for args, said in [
        (("mlp", mlp_class), "holds the grades of assignment 'linear' (grades.json)"),
        (("linear", mlp_class), "none of the 7 submissions in"),
    ]:
        result = run_cli("grade", *args, "--out", out, cwd=course_copy)
        assert result.returncode == 2, result.stdout + result.stderr
        assert said in result.stderr and "Traceback" not in result.stderr
        assert files() == before  # not a byte changed, the journal included


@pytest.mark.parametrize("inside", ["solutions/linear/graded", "assignments/linear/out"])
def test_out_inside_the_courses_own_folders_is_refused(
    course_copy: Path, tmp_path: Path, inside: str
) -> None:
    """Results there would be bundled by `export gradescope` (every student's feedback) or
    shipped by a release, and count as course files (every run regrading everyone)."""
    result = run_cli("grade", "linear", EXAMPLES, "--out", course_copy / inside, cwd=course_copy)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"is inside the course's {inside.split('/')[0]}/ folder" in result.stderr
    assert not (course_copy / inside).exists()
    # The same when that folder is a link (solutions kept in a private repository).
    kept = course_copy / inside.split("/")[0]
    elsewhere = tmp_path / "private" / kept.name
    elsewhere.parent.mkdir()
    kept.rename(elsewhere)
    kept.symlink_to(elsewhere)
    result = run_cli("grade", "linear", EXAMPLES, "--out", course_copy / inside, cwd=course_copy)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "folder; write the results elsewhere" in result.stderr
    assert not (elsewhere / inside.split("/", 1)[1]).exists()


def test_an_unsorted_canvas_download_is_sorted_by_sort_canvas_then_graded(
    course_copy: Path, tmp_path: Path
) -> None:
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    files = {
        "alicesmith_111_901_linear.py": "bob",  # her first try: bob's mistakes
        "alicesmith_LATE_111_905_linear-1.py": "alice",
        "alicesmith_222_902_Linear.py": "carol",  # another Alice Smith
        "dave_333_903_linear (1).py": "dave",
        "HW3_erin_attempt_2026-12-01-10-00-00_linear.py": "erin",  # Blackboard's
    }
    for name, student in files.items():
        shutil.copy(EXAMPLES / student / "linear.py", canvas / name)
    refused = run_cli("grade", "linear", canvas, "--out", tmp_path / "out", cwd=course_copy)
    assert refused.returncode == 2
    assert "it holds 5 file(s) like" in refused.stderr
    assert f"run 'autograder sort-canvas linear {canvas}' (for Canvas's names only" in (
        refused.stderr
    )
    sorted_ = run_cli("sort-canvas", "linear", canvas, cwd=course_copy)
    assert sorted_.returncode == 0, sorted_.stderr
    assert "moved 3 file(s) of 3 student(s) into their folders:" in sorted_.stdout
    assert "  alicesmith_LATE_111_905_linear-1.py -> alicesmith_111/linear.py" in sorted_.stdout
    assert "  alicesmith_111_901_linear.py (older than alicesmith_LATE_111_905_" in sorted_.stdout
    assert (
        "warning: 1 .py/.ipynb file(s) left where they are, not graded:\n"
        "  HW3_erin_attempt_2026-12-01-10-00-00_linear.py: not named as Canvas names files"
        in sorted_.stderr
    )
    doc = grade(course_copy, canvas, tmp_path / "out")
    assert set(doc["students"]) == {"alicesmith_111", "alicesmith_222", "dave_333"}
    reference = grade(course_copy, EXAMPLES, tmp_path / "examples")["students"]
    for student, like in (("alicesmith_111", "alice"), ("alicesmith_222", "carol")):
        assert doc["students"][student]["score"] == reference[like]["score"]
    graded = run_cli("grade", "linear", canvas, "--out", tmp_path / "out", cwd=course_copy)
    assert "1 LMS-named file beside the student folders is not graded (HW3_erin_" in (graded.stderr)


def test_the_table_shows_long_ids_cut_and_ids_with_end_spaces_quoted(
    course_copy: Path, tmp_path: Path
) -> None:
    """A 200-character id widened every row of the table; 'kim ' looked like kim."""
    klass = tmp_path / "class"
    long_id = "a" * 150 + "_student_12345"
    for name in (long_id, "kim", "kim "):
        (klass / name).mkdir(parents=True)
        shutil.copy(EXAMPLES / "alice" / "linear.py", klass / name / "linear.py")
    result = run_cli("grade", "linear", klass, "--out", tmp_path / "out", cwd=course_copy)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if "graded" in line and "/20" in line]
    assert len(rows) == 3, result.stdout
    assert max(len(row) for row in rows) < 110, rows  # the id column is 40 wide at most
    assert any(row.startswith("a" * 25 + "..." + "student_12345"[-12:]) for row in rows), rows
    assert any(row.startswith("'kim '") for row in rows) and any(
        row.startswith("kim ") for row in rows
    ), rows
    graded = json.loads((tmp_path / "out" / "grades.json").read_text())["students"]
    assert long_id in graded and "kim " in graded  # the files keep every id whole
