"""The public checks of each assignment, run by ``autograder check`` on a classic mistake.

Each test plants one mistake in the reference and checks what a student is told: that the
mistake costs the item the hidden tests charge it to (and no other), and that the hint names
the real cause. The hidden tests are stricter; these guard the instant feedback.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.cli.conftest import REPO, run_cli

SUMMARY_LINE = re.compile(r"^ ([✔✘]) .* \[(\w+), [\d.]+ pts?\]: (\d+)/(\d+) public checks", re.M)


def mistaken(source: str, *replacements: tuple[str, str]) -> str:
    """``source`` with each ``(old, new)`` replaced once; ``old`` must be there."""
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new, 1)
    return source


def check(tmp_path: Path, assignment: str, *replacements: tuple[str, str]) -> str:
    """``autograder check`` on the reference with ``replacements`` made; its output."""
    folder = tmp_path / assignment
    shutil.copytree(REPO / "assignments" / assignment, folder)
    reference = (REPO / "solutions" / assignment / f"{assignment}.py").read_text()
    (folder / f"{assignment}.py").write_text(mistaken(reference, *replacements))
    result = run_cli("check", cwd=folder)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert "not your fault" not in result.stdout, result.stdout
    return result.stdout


def failed_items(output: str) -> set[str]:
    """The rubric items with a failed public check, from the summary."""
    return {item for mark, item, _, _ in SUMMARY_LINE.findall(output) if mark == "✘"}


# -- linear -----------------------------------------------------------------------------------


def test_linear_backward_that_changes_its_cache_loses_purity(tmp_path: Path) -> None:
    out = check(
        tmp_path,
        "linear",
        ("    x, W = cache\n", "    x, W = cache\n    x *= 2\n"),
        ("dW = x.T @ dy", "dW = x.T @ dy / 2"),
    )
    assert failed_items(out) == {"purity"}, out
    assert "calling linear_backward twice with the same dy and cache gave two answers" in out


def test_linear_float32_forward_costs_only_shapes(tmp_path: Path) -> None:
    out = check(
        tmp_path, "linear", ("    y = x @ W + b\n", "    y = (x @ W + b).astype(np.float32)\n")
    )
    assert failed_items(out) == {"shapes"}, out
    assert "y has dtype float32, expected float64" in out


def test_linear_np_matrix_db_names_np_matrix(tmp_path: Path) -> None:
    out = check(tmp_path, "linear", ("db = dy.sum(axis=0)", "db = np.matrix(dy).sum(axis=0)"))
    assert failed_items(out) == {"shapes"}, out
    assert "Or np.matrix: a matrix is always 2-D" in out


def test_linear_numerical_check_of_a_wrong_forward_gives_no_misleading_hint(
    tmp_path: Path,
) -> None:
    out = check(tmp_path, "linear", ("    y = x @ W + b\n", "    y = 2 * (x @ W) + b\n"))
    # The right dx is half the numerical gradient of this forward: a hint that dx is off by a
    # factor of 2 would send the student to the wrong function.
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "dx does not match" in line)
    assert "Note: this check differentiates your own linear_forward" in lines[at + 1], out
