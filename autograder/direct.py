"""Run collected hidden tests directly, without pytest's per-test protocol.

A grading shard runs every hidden test once per submission: 48 tests a student for ``linear``,
48,000 for a class of 1,000. pytest's run protocol around each one (setup, call and teardown
phases, each through hooks, fixture resolution by signature inspection, a ``TestReport``) cost
about half of all the shard's time, more than the student code and the checks together.

Most hidden tests need nothing that protocol provides: they are plain module-level functions
whose arguments are parameters and the grader's own fixtures (``submission``, ``reference``,
``rng``, ``rng_for``, plus pytest's ``record_property``). For those, ``plan`` prepares a
``DirectTest`` once per run and ``run_direct`` calls the function with those values and sorts
the outcome with the same ``classify`` as the protocol path, so the outcomes are identical
(``tests/test_direct.py`` grades the example classes both ways and compares).

Anything else keeps the full protocol, test by test: other fixtures (``tmp_path``, conftest
fixtures, autouse and xunit ``setup_*`` fixtures), marks other than ``rubric`` and
``parametrize`` (``skipif``, ``xfail``, ``usefixtures``, ``filterwarnings`` ...), test
classes, async tests, a conftest or plugin that hooks into running tests, or a grader fixture
overridden by a conftest of the same name.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder.plugin import (
    SubmissionProxy,
    binding_of,
    classify,
    error_kind,
    plain,
    rng_factory,
    seed_for,
    test_id,
)
from autograder.scoring import TestOutcome

# The grader's fixtures a direct test may ask for, and the module that must define them.
GRADER_FIXTURES = {
    "submission": "autograder.plugin",
    "reference": "autograder.plugin",
    "rng": "autograder.plugin",
    "rng_for": "autograder.plugin",
    "record_property": "_pytest.junitxml",
}
PLAIN_MARKS = {"rubric", "parametrize"}
# Hooks around running one test: if anyone but pytest itself or the autograder implements
# one, running the test directly would skip it.
RUN_HOOKS = (
    "pytest_runtest_protocol",
    "pytest_runtest_setup",
    "pytest_runtest_call",
    "pytest_runtest_teardown",
    "pytest_runtest_makereport",
    "pytest_runtest_logreport",
    "pytest_pyfunc_call",
    "pytest_fixture_setup",
)
# pytest's own plugins and ours; third-party ones are named pytest_* and do not count.
TRUSTED_PLUGIN_PACKAGES = ("_pytest.", "autograder.")


@dataclass(frozen=True)
class DirectTest:
    """One collected test, ready to call: its function, parameters and identity."""

    item: pytest.Function
    function: Callable[..., Any]
    argnames: tuple[str, ...]
    params: dict[str, Any]
    test_id: str
    item_id: str


def plan(items: Sequence[pytest.Item]) -> list[DirectTest | pytest.Item]:
    """Each item as a ``DirectTest`` where that is exactly equivalent, else the item itself."""
    hooks_ok = _only_trusted_hooks(items[0]) if items else True
    planned: list[DirectTest | pytest.Item] = []
    for item in items:
        why = None if hooks_ok else "a plugin or conftest hooks into running tests"
        why = why or why_not_direct(item)
        if why is not None:
            planned.append(item)
            continue
        assert isinstance(item, pytest.Function)
        callspec = getattr(item, "callspec", None)
        planned.append(
            DirectTest(
                item=item,
                function=item.obj,
                argnames=tuple(item._fixtureinfo.argnames),
                params=dict(callspec.params) if callspec is not None else {},
                test_id=test_id(item),
                item_id=binding_of(item).item_id or "",
            )
        )
    return planned


def why_not_direct(item: pytest.Item) -> str | None:
    """Why ``item`` needs pytest's full protocol, or None if it can be called directly."""
    if type(item) is not pytest.Function:
        return "not a plain test function"
    if item.cls is not None:
        return "a method of a test class"
    function = item.obj
    if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
        return "an async test"
    if inspect.isgeneratorfunction(function):
        return "a generator"
    marks = {mark.name for mark in item.iter_markers()}
    if not marks <= PLAIN_MARKS:
        return f"marked {', '.join(sorted(marks - PLAIN_MARKS))}"
    info = item._fixtureinfo
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    if callspec is not None and callspec.indices and set(callspec.indices) != set(params):
        return "indirect parametrization"
    for name in item.fixturenames:
        if name == "request" and name not in info.argnames:
            continue  # asked for by the grader's own fixtures only
        defs = info.name2fixturedefs.get(name)
        if not defs:
            return f"fixture {name!r} is not defined"
        func = defs[-1].func
        if name in params:
            if getattr(func, "__name__", "") != "get_direct_param_fixture_func":
                return f"parameter {name!r} is also a fixture"
            continue
        if GRADER_FIXTURES.get(name) != getattr(func, "__module__", None):
            return f"uses fixture {name!r}"
    return None


def _only_trusted_hooks(item: pytest.Item) -> bool:
    for hook_name in RUN_HOOKS:
        hook = getattr(item.ihook, hook_name)
        for impl in hook.get_hookimpls():
            plugin = impl.plugin
            module = plugin.__name__ if inspect.ismodule(plugin) else type(plugin).__module__
            if not module.startswith(TRUSTED_PLUGIN_PACKAGES):
                return False
    return True


def run_direct(test: DirectTest, state: Any) -> TestOutcome:
    """Call ``test`` for the current submission; its outcome, as the protocol would record it."""
    run = state.run
    properties: list[tuple[str, object]] = []
    exc: BaseException | None = None
    skipped = False
    try:
        kwargs: dict[str, Any] = {}
        for name in test.argnames:
            if name in test.params:
                kwargs[name] = test.params[name]
            elif name == "submission":
                kwargs[name] = SubmissionProxy(run)
            elif name == "reference":
                kwargs[name] = state.reference()
            elif name == "rng":
                seed = seed_for(state.secret, run.student, test.test_id)
                kwargs[name] = np.random.default_rng(seed)
            elif name == "rng_for":
                kwargs[name] = rng_factory(state.secret, run.student)
            elif name == "record_property":
                kwargs[name] = lambda key, value: properties.append((key, value))
        test.function(**kwargs)
    except (KeyboardInterrupt, SystemExit, pytest.exit.Exception):
        raise
    except pytest.skip.Exception as error:
        exc, skipped = error, True
    except pytest.xfail.Exception as error:  # pytest.xfail() inside a test counts as skipped
        exc, skipped = error, True
    except BaseException as error:  # noqa: BLE001 -- every other ending is the test's outcome
        exc = error
    outcome, message = classify(exc, skipped, Path(test.item.path).parent)
    props = tuple((str(k), plain(v)) for k, v in properties)
    return TestOutcome(test.test_id, test.item_id, outcome, message, props, error_kind(exc))
