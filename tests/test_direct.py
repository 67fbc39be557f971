"""The direct runner (``autograder.direct``) grades exactly like pytest's own protocol.

Grading calls plain hidden tests directly and keeps pytest's protocol for the rest; these tests
grade the same classes both ways (``grade(..., direct=False)`` runs every test through the
protocol) and require identical grades, feedback and recorded outcomes, on the real assignments
with their example classes and mutants, and on a toy course whose hidden tests end in every
way a test can end and use features that need the protocol.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from autograder.course import load_course
from autograder.direct import DirectTest, plan
from autograder.grading import grade
from tests.conftest import write_toy_course

REPO = Path(__file__).resolve().parents[1]
SECRET = "direct-runner-test-secret"

TOY_REFERENCE = '''\
import numpy as np


def scale_sum(x, w):
    """Sum x (B, F) over the batch, times w: shape (F,)."""
    ### BEGIN SOLUTION
    y = x.sum(axis=0) * w
    ### END SOLUTION
    return y
'''

# Every way a hidden test can end, through both runners, and features only the protocol has.
TOY_HIDDEN = """\
import numpy as np
import pytest

from autograder.checks import expect_array

pytestmark = pytest.mark.rubric("value")


@pytest.fixture
def offset():
    return 0.0


@pytest.mark.parametrize("shape", [(4, 3), (5, 2)])
def test_value(submission, reference, rng, shape, record_property):
    x, w = rng.standard_normal(shape), float(rng.standard_normal())
    error = expect_array(submission.scale_sum(x, w), reference.scale_sum(x, w), name="y")
    record_property("rel_error", error)
    record_property("rows", shape[0])


def test_shared_inputs(submission, reference, rng_for):
    x = rng_for("shared").standard_normal((3, 2))
    expect_array(submission.scale_sum(x, 2.0), reference.scale_sum(x, 2.0), name="y")


def test_with_a_course_fixture(submission, offset):
    assert submission.scale_sum(np.ones((2, 2)), 1.0)[0] + offset == 2.0, "y[0] should be 2"


def test_with_tmp_path(submission, tmp_path):
    assert tmp_path.is_dir()
    submission.scale_sum(np.ones((1, 1)), 1.0)


def test_bare_assert(submission):
    assert submission.scale_sum(np.ones((2, 3)), 1.0).shape == (3,)


def test_skipped_inside(submission):
    pytest.skip("not this term")


def test_xfail_inside(submission):
    pytest.xfail("known to be hard")


def test_pytest_fail(submission):
    pytest.fail("explicit failure")


def test_grader_bug(submission):
    submission.scale_sum(np.ones((1, 1)), 1.0)
    {}["a key the grader forgot"]


class TestInAClass:
    def test_method(self, submission):
        assert submission.scale_sum(np.ones((2, 1)), 3.0)[0] == 6.0, "y should be 6"
"""

TOY_RUBRIC = """\
assignment: toy
module: scale.py
items:
  - id: value
    points: 4
"""

TOY_CLASS = {
    "right": "def scale_sum(x, w):\n    return x.sum(axis=0) * w\n",
    "mean": "def scale_sum(x, w):\n    return x.mean(axis=0) * w\n",
    "crash": "def scale_sum(x, w):\n    raise ValueError('oops')\n",
    "stub": "def scale_sum(x, w):\n    raise NotImplementedError\n",
    "misnamed": "def scale_summ(x, w):\n    return x.sum(axis=0) * w\n",
    "syntax": "def scale_sum(x, w)\n    return x\n",
}

# Items of the toy hidden tests that the direct runner takes (the others need the protocol).
TOY_DIRECT = {
    "test_value[shape0]",
    "test_value[shape1]",
    "test_shared_inputs",
    "test_bare_assert",
    "test_skipped_inside",
    "test_xfail_inside",
    "test_pytest_fail",
    "test_grader_bug",
}


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    return write_toy_course(
        tmp_path / "toy-course",
        {"scale.py": TOY_REFERENCE, "rubric.yml": TOY_RUBRIC, "tests/test_hidden.py": TOY_HIDDEN},
    )


def make_class(folder: Path, module: str, sources: dict[str, str]) -> Path:
    for student, source in sources.items():
        (folder / student).mkdir(parents=True)
        (folder / student / module).write_text(source)
    return folder


def grade_both_ways(
    course_yml: Path, assignment: str, submissions: Path, out: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Grade with and without the direct runner; everything each run wrote, by file."""
    course = load_course(course_yml)
    written = []
    for direct in (True, False):
        target = out / ("direct" if direct else "protocol")
        grade(course, assignment, submissions, target, jobs=2, secret=SECRET, direct=direct)
        written.append(snapshot(target))
    return written[0], written[1]


def snapshot(out: Path) -> dict[str, Any]:
    files = {
        str(p.relative_to(out)): p.read_text(encoding="utf-8")
        for p in sorted(out.rglob("*"))
        if p.is_file() and ".autograder" not in p.parts
    }
    journal = out / ".autograder" / "journal.jsonl"
    outcomes = {}
    for line in journal.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if "student" in entry:
            outcomes[entry["student"]] = (entry["status"], entry["outcomes"])
    return {"files": files, "outcomes": outcomes}


def test_toy_course_grades_identically_both_ways(toy: Path, tmp_path: Path) -> None:
    submissions = make_class(tmp_path / "class", "scale.py", TOY_CLASS)
    direct, protocol = grade_both_ways(toy / "course.yml", "toy", submissions, tmp_path / "out")
    assert direct == protocol
    # And the run is not trivially equal: it has every kind of ending.
    outcomes = {o["nodeid"].split("::")[-1]: o for o in direct["outcomes"]["right"][1]}
    assert outcomes["test_value[shape0]"]["outcome"] == "passed"
    assert dict(map(tuple, outcomes["test_value[shape0]"]["properties"]))["rows"] == 4
    assert outcomes["test_skipped_inside"]["message"] == "check was not run: not this term"
    # (A test marked skip/skipif/xfail never gets here: the binding refuses it.)
    assert outcomes["test_xfail_inside"]["outcome"] == "failed"
    assert outcomes["test_grader_bug"]["outcome"] == "internal"
    assert outcomes["test_with_tmp_path"]["outcome"] == "passed"
    assert outcomes["test_method"]["outcome"] == "passed"
    wrong = {o["nodeid"].split("::")[-1]: o for o in direct["outcomes"]["mean"][1]}
    assert wrong["test_value[shape0]"]["outcome"] == "failed"
    assert wrong["test_with_a_course_fixture"]["message"] == "y[0] should be 2"
    assert wrong["test_bare_assert"]["outcome"] == "passed"
    crash = {o["nodeid"].split("::")[-1]: o for o in direct["outcomes"]["crash"][1]}
    assert crash["test_value[shape0]"]["outcome"] == "error"
    assert "ValueError" in crash["test_value[shape0]"]["message"]


@pytest.mark.parametrize("assignment", ["linear", "mlp"])
def test_real_assignments_grade_identically_both_ways(assignment: str, tmp_path: Path) -> None:
    """The example class and every hand-written mutant: all the ways students go wrong."""
    solution = REPO / "solutions" / assignment
    submissions = tmp_path / "class"
    shutil.copytree(
        REPO / "examples" / "submissions" / assignment,
        submissions,
        ignore=shutil.ignore_patterns("expected.yml"),
    )
    module = f"{assignment}.py"
    make_class(
        submissions,
        module,
        {f"mutant-{p.stem}": p.read_text() for p in sorted((solution / "mutants").glob("*.py"))},
    )
    direct, protocol = grade_both_ways(REPO / "course.yml", assignment, submissions, tmp_path)
    assert direct == protocol
    statuses = {status for status, _ in direct["outcomes"].values()}
    kinds = {o["outcome"] for _, outcomes in direct["outcomes"].values() for o in outcomes}
    assert "graded" in statuses and {"passed", "failed"} <= kinds


class _Collector:
    def __init__(self) -> None:
        self.items: list[pytest.Item] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)


def collect(folder: Path, monkeypatch: pytest.MonkeyPatch, *plugins: str) -> list[pytest.Item]:
    """The items of ``folder`` as a grading shard sees them (no other installed plugins)."""
    collector = _Collector()
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = ["--collect-only", "-q", "-p", "no:cacheprovider", "-p", "autograder.plugin"]
    for plugin in plugins:
        args += ["-p", plugin]
    args.append("--import-mode=importlib")  # each toy course has its own test_hidden.py
    code = pytest.main([str(folder), *args, "--rootdir", str(folder)], plugins=[collector])
    assert code == 0
    return collector.items


def test_plan_calls_only_plain_tests_directly(toy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = collect(toy / "solutions" / "toy" / "tests", monkeypatch)
    direct = {t.item.name for t in plan(items) if isinstance(t, DirectTest)}
    assert direct == TOY_DIRECT


def test_a_conftest_that_hooks_into_running_tests_turns_the_direct_runner_off(
    toy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tests = toy / "solutions" / "toy" / "tests"
    (tests / "conftest.py").write_text("def pytest_runtest_setup(item):\n    pass\n")
    assert not any(isinstance(t, DirectTest) for t in plan(collect(tests, monkeypatch)))


def test_a_conftest_fixture_that_overrides_a_grader_fixture_keeps_the_protocol(
    toy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tests = toy / "solutions" / "toy" / "tests"
    (tests / "conftest.py").write_text(
        "import numpy as np\nimport pytest\n\n\n"
        "@pytest.fixture\ndef rng():\n    return np.random.default_rng(0)\n"
    )
    direct = {t.item.name for t in plan(collect(tests, monkeypatch)) if isinstance(t, DirectTest)}
    assert direct == TOY_DIRECT - {"test_value[shape0]", "test_value[shape1]"}


def test_a_third_party_plugin_that_hooks_into_running_tests_turns_the_direct_runner_off(
    toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Named like pytest's own plugins (pytest-timeout is pytest_timeout): only _pytest.* and
    # autograder.* count as known.
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "pytest_slowdown.py").write_text("def pytest_runtest_call(item):\n    pass\n")
    monkeypatch.syspath_prepend(str(plugins))
    items = collect(toy / "solutions" / "toy" / "tests", monkeypatch, "pytest_slowdown")
    assert not any(isinstance(t, DirectTest) for t in plan(items))
