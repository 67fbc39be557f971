"""Code the handouts suggest works: a tip that crashes sends students the wrong way."""

from __future__ import annotations

import importlib.util
import json
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from autograder.submissions import BOTH_HANDED_IN

REPO = Path(__file__).resolve().parents[1]


def _reference(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, REPO / "solutions" / name / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("leading", [(2, 3), (4,), (0,), (2, 1, 3)])
def test_linear_nd_sums_without_reshaping_give_the_reference_gradients(
    leading: tuple[int, ...],
) -> None:
    text = (REPO / "solutions" / "linear_nd" / "README.md").read_text()
    tip = text[text.index("The same sums without reshaping") :].split("\n\n")[0]
    code = re.findall(r"`([^`]+)`", tip)
    lead_code = next(c for c in code if c.startswith("lead = "))
    dW_code = next(c for c in code if c.startswith("np.tensordot"))
    db_code = next(c for c in code if c.startswith("dy.sum"))
    rng = np.random.default_rng(0)
    x, W, b = (
        rng.standard_normal((*leading, 4)),
        rng.standard_normal((4, 3)),
        rng.standard_normal(3),
    )
    dy = rng.standard_normal((*leading, 3))
    reference = _reference("linear_nd")
    _, cache = reference.linear_nd_forward(x, W, b)
    _, dW, db = reference.linear_nd_backward(dy, cache)
    names = {"np": np, "x": x, "dy": dy}
    exec(lead_code, names)
    np.testing.assert_allclose(eval(dW_code, names), dW)
    np.testing.assert_allclose(eval(db_code, names), db)


@pytest.mark.parametrize("name", ["linear", "mlp", "linear_nd"])
def test_the_handout_says_where_to_write_the_code_in_both_editions(name: str) -> None:
    # The notebook edition is the README as it is: "implement in linear.py" alone would send a
    # notebook student to a file they do not use.
    text = (REPO / "solutions" / name / "README.md").read_text()
    paragraph = next(p for p in text.split("\n\n") if f"in `{name}.py`" in p)
    assert f"`{name}.ipynb`" in paragraph


@pytest.mark.parametrize("name", ["linear", "mlp", "linear_nd"])
def test_the_handout_says_what_to_install_and_what_to_hand_in(name: str) -> None:
    # An unrelated `autograder` is on PyPI: students install the wheel of this project, whose
    # file name pip derives from pyproject's name; and a file under another name is missing.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"]
    wheel = f"{project.replace('-', '_')}-<version>-py3-none-any.whl"
    text = " ".join((REPO / "solutions" / name / "README.md").read_text().split())
    assert f"python3 -m pip install {wheel}" in text
    assert f"`{project}`" in text
    hand_in = text[text.index("Handing in") :]
    assert f"Hand in exactly one file: `{name}.py`, or `{name}.ipynb`" in hand_in
    assert "under exactly that name" in hand_in


@pytest.mark.parametrize("name", ["linear", "mlp", "linear_nd"])
def test_the_notebook_says_to_hand_in_one_file_not_both(name: str) -> None:
    # Both files changed is ambiguous: grade refuses it (status error, 0 points).
    notebook = json.loads((REPO / "assignments" / name / f"{name}.ipynb").read_text())
    cell = next(
        "".join(c["source"])
        for c in notebook["cells"]
        if "".join(c["source"]).startswith("## Your code")
    )
    text = " ".join(cell.split())
    assert "accepts either" not in text
    assert f"Hand in exactly one file: this notebook, or `{name}.py`" in text
    assert "not both" in text


@pytest.mark.parametrize("name", ["linear", "mlp", "linear_nd"])
def test_the_handout_and_the_notebook_say_what_grading_does_with_both_files(name: str) -> None:
    # They once said "not both", "neither is graded" and (check) "the one you changed counts":
    # all three now state the rule of submissions._load_submission, which check states too.
    readme = " ".join((REPO / "solutions" / name / "README.md").read_text().split())
    hand_in = readme[readme.index("Handing in") :]
    notebook = json.loads((REPO / "assignments" / name / f"{name}.ipynb").read_text())
    cell = " ".join(
        "".join(
            next(c for c in notebook["cells"] if "".join(c["source"]).startswith("## Your code"))[
                "source"
            ]
        ).split()
    )
    for text in (hand_in, cell):
        assert f"If you hand in both, {BOTH_HANDED_IN}." in text


def _loses(mutant: str) -> set[str]:
    header = (REPO / "solutions" / "linear" / "mutants" / f"{mutant}.py").read_text()
    line = next(line for line in header.splitlines() if line.startswith("# loses:"))
    return {item.strip() for item in line.removeprefix("# loses:").split(",")}


def test_what_the_linear_handout_says_a_mistake_costs_is_what_grading_charges() -> None:
    text = " ".join((REPO / "solutions" / "linear" / "README.md").read_text().split())
    assert "and only that" not in text  # a transposed dW costs shapes too
    claims = {
        "dW_transposed": ("a transposed `dW` loses `dW` and the `dW` checks of `shapes`", "dW"),
        "db_wrong_axis": (
            "a `db` not summed over the batch loses the `db` checks with more than one example",
            "db",
        ),
        "db_keepdims": ("$(1, F)$ but the right numbers loses part of `shapes`, not `db`", ""),
        "float32_outputs": ("float32 outputs lose only `shapes`", ""),
    }
    for mutant, (claim, item) in claims.items():
        assert claim in text, claim
        assert _loses(mutant) == {item, "shapes"} - {""}, mutant


def test_the_mlp_handouts_one_hot_indexing_gives_the_reference_dlogits() -> None:
    # The handout contrasts the wrong fancy indexing with the right one: the right one must be
    # what the reference computes, and the wrong one must really differ.
    text = " ".join((REPO / "solutions" / "mlp" / "README.md").read_text().split())
    tip = text[text.index("Subtracting the one-hot as") : text.index("Dividing by $C$")]
    wrong_code, right_code = (c for c in re.findall(r"`([^`]+)`", tip) if "-= 1" in c)
    rng = np.random.default_rng(0)
    logits, t = rng.standard_normal((5, 4)), np.array([2, 0, 2, 3, 1])
    B = len(t)
    _, expected = _reference("mlp").softmax_cross_entropy(logits, t)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    results = []
    for code in (wrong_code, right_code):
        names = {"np": np, "dlogits": probs.copy(), "t": t, "B": B}
        exec(code, names)
        results.append(names["dlogits"] / B)
    np.testing.assert_allclose(results[1], expected)
    assert not np.allclose(results[0], expected)
