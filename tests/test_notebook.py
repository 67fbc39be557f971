"""The notebook edition: the README as Markdown cells, the stub as code cells."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograder.errors import place
from autograder.notebook import module_cells, render_notebook

REPO = Path(__file__).resolve().parents[1]

BANNERED = '''\
"""A module."""

import numpy as np

# -- the layer ---------------------------------------------------------------


def forward(x):
    raise NotImplementedError("forward: not implemented yet")


# -- the loss ----------------------------------------------------------------
# (a second comment line of the banner)


def loss(x):
    raise NotImplementedError("loss: not implemented yet")
'''


def test_a_section_banner_goes_with_the_function_below_it_not_in_a_cell_of_its_own() -> None:
    # A cell of nothing but "# -- the loss ---" looks like an empty cell to run in Jupyter.
    cells = module_cells(BANNERED)
    assert [grade_id for _, grade_id in cells] == [None, "forward", "loss"]
    assert cells[0][0].strip() == '"""A module."""\n\nimport numpy as np'
    assert cells[1][0].startswith("# -- the layer ---")
    assert cells[2][0].startswith("# -- the loss ---")
    assert "\n# (a second comment line of the banner)\n" in cells[2][0]
    assert "def loss(x):" in cells[2][0]


@pytest.mark.parametrize("name", ["linear", "mlp", "linear_nd"])
def test_no_released_code_cell_holds_only_comments(name: str) -> None:
    notebook = json.loads((REPO / "assignments" / name / f"{name}.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            code = [line for line in "".join(cell["source"]).splitlines() if line.strip()]
            assert not all(line.lstrip().startswith("#") for line in code), cell["source"]


def test_the_notebook_is_the_readme_then_the_stub() -> None:
    raw = render_notebook("# T\n\nIntro.\n\n## A\n\nText.\n", BANNERED, "toy.py")
    cells = json.loads(raw)["cells"]
    kinds = [cell["cell_type"] for cell in cells]
    assert kinds == ["markdown"] * 3 + ["code"] * 3


def test_a_notebook_cell_number_says_how_it_is_counted() -> None:
    # Jupyter numbers no cells, and its execution counts ("[7]") change with every run.
    assert place(20, 1) == "cell 20 (counting every cell from the top, markdown included), line 1"
    assert place(20, None) == "cell 20 (counting every cell from the top, markdown included)"
    assert place(None, 12) == "line 12"
    assert place(None, None) == ""
