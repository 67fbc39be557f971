"""benchmarks/isolation.py says so when it measures a sandbox without seccomp: under a Python
without pyseccomp it would otherwise report times that leave out seccomp's cost, silently."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from autograder.sandbox.model import GUARANTEES, SECCOMP, IsolationReport

REPO = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_isolation", REPO / "benchmarks" / "isolation.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(*, seccomp: bool) -> IsolationReport:
    enforced = tuple(g for g in GUARANTEES if seccomp or g != SECCOMP)
    missing = tuple(g for g in GUARANTEES if g not in enforced)
    return IsolationReport(mode="root", enforced=enforced, missing=missing, warning=None)


def test_no_warning_when_every_sandbox_has_seccomp() -> None:
    script = _script()
    assert script.seccomp_warning(_report(seccomp=True), _report(seccomp=True)) is None


def test_the_warning_names_the_python_and_the_venv() -> None:
    warning = _script().seccomp_warning(_report(seccomp=True), _report(seccomp=False))
    assert warning is not None
    assert sys.executable in warning and "pyseccomp" in warning and ".venv/bin/python" in warning


def test_a_run_without_seccomp_warns_and_marks_its_results(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()

    class Worker:
        def call(self, function: str, *args: Any) -> tuple[Any, None]:
            return script.EXPECTED, None

        def close(self) -> None:
            pass

    class NoSeccompSandbox:  # what Sandbox reports where pyseccomp cannot be imported
        def __init__(self, slot: int, mode: str | None = None) -> None:
            self.report = _report(seccomp=False)

        def __enter__(self) -> NoSeccompSandbox:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def spawn(self, *args: Any, **kwargs: Any) -> Worker:
            return Worker()

    monkeypatch.setattr(script, "Sandbox", NoSeccompSandbox)
    monkeypatch.setattr(sys, "argv", ["isolation.py", "-n", "1"])
    script.main()
    out, err = capsys.readouterr()
    assert "warning: seccomp is not enforced" in err
    assert "**Not grading's times**: seccomp is not enforced" in out
