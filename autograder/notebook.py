"""The notebook edition of a release, for courses that teach in Jupyter.

``autograder release`` writes ``<module stem>.ipynb`` beside the ``.py`` stub: the README as
Markdown cells (one per ``##`` section, so the math sits next to the task it motivates) and the
stub module as code cells (the imports, then one cell per top-level function). Solution cells
carry nbgrader metadata, so an nbgrader course can use the notebook as it is. ``autograder
grade`` accepts the filled-in notebook as a submission (its code cells are the module).

The JSON is deterministic (fixed cell ids, sorted keys) so releasing twice gives the same bytes.
"""

from __future__ import annotations

import ast
import json
from typing import Any

from autograder.submissions import BOTH_HANDED_IN

NBFORMAT = 4
NBFORMAT_MINOR = 5


def _markdown(index: int, text: str) -> dict[str, Any]:
    return {
        "cell_type": "markdown",
        "id": f"md-{index:02d}",
        "metadata": {},
        "source": _lines(text),
    }


def _code(index: int, text: str, grade_id: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if grade_id is not None:
        metadata["nbgrader"] = {
            "grade": False,
            "grade_id": grade_id,
            "locked": False,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"code-{index:02d}",
        "metadata": metadata,
        "outputs": [],
        "source": _lines(text),
    }


def _lines(text: str) -> list[str]:
    lines = text.strip("\n").split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def readme_sections(readme: str) -> list[str]:
    """Split a README at its ``##`` headings (code fences are respected)."""
    sections: list[list[str]] = [[]]
    fenced = False
    for line in readme.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if line.startswith("## ") and not fenced and any(s.strip() for s in sections[-1]):
            sections.append([])
        sections[-1].append(line)
    return ["\n".join(s) for s in sections if "\n".join(s).strip()]


def module_cells(stub: str) -> list[tuple[str, str | None]]:
    """The stub module as (code, nbgrader grade id or None): the preamble, then each function."""
    tree = ast.parse(stub)
    lines = stub.splitlines()
    cells: list[tuple[str, str | None]] = []
    start = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            # Comments above a function belong with it, blank lines between them or not: a
            # section banner ("# -- relu ---") alone in a cell looks like an empty cell to run.
            top = first
            while top > start and (lines[top - 1].startswith("#") or not lines[top - 1].strip()):
                top -= 1
                if lines[top].startswith("#"):
                    first = top
            if first > start and "\n".join(lines[start:first]).strip():
                cells.append(("\n".join(lines[start:first]), None))
            end = node.end_lineno or first + 1
            text = "\n".join(lines[first:end])
            solution = "NotImplementedError" in text
            cells.append((text, node.name if solution else None))
            start = end
    if "\n".join(lines[start:]).strip():
        cells.append(("\n".join(lines[start:]), None))
    return cells


def render_notebook(readme: str, stub: str, module: str) -> str:
    """The notebook JSON for one assignment."""
    cells: list[dict[str, Any]] = [
        _markdown(i, section) for i, section in enumerate(readme_sections(readme))
    ]
    cells.append(
        _markdown(
            len(cells),
            "## Your code\n\nFill in each function below (replace the `raise "
            "NotImplementedError`). Hand in exactly one file: this notebook, or "
            f"`{module}` if you copy the cells into it, not both. If you hand in both, "
            f"{BOTH_HANDED_IN}.",
        )
    )
    for index, (text, grade_id) in enumerate(module_cells(stub)):
        cells.append(_code(index, text, grade_id))
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
    }
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
