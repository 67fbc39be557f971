"""Automatic mutants: the classic backprop mistakes, applied to the reference's solution code.

Each operator rewrites one site inside a ``### BEGIN SOLUTION`` region of the reference and
yields a complete, runnable module. ``autograder verify`` grades every mutant; one that still
earns full marks is a hole in the hidden tests (or an equivalent mutant, which the report says
is possible but which none of these operators produces on a real gradient).

Operators (the mistakes students make):

* ``transpose``: transpose a matrix product result (``(a @ b).T``)
* ``drop_transpose``: use ``W`` where the code used ``W.T``
* ``divide_by_batch``: divide an assigned result by the batch size (an extra ``1/B``)
* ``sum_to_mean``: ``.sum(...)`` / ``np.sum(...)`` becomes a mean
* ``flip_axis``: ``axis=0`` becomes ``axis=-1`` and vice versa
* ``keepdims``: a reduction keeps its reduced dimension (``(F,)`` becomes ``(1, F)``)
* ``negate``: flip the sign of an assigned result
* ``drop_term``: ``a + b`` becomes ``a`` (e.g. the bias forgotten)
* ``float32``: an assigned result is cast to float32
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.errors import ConfigError
from autograder.release import find_regions


@dataclass(frozen=True)
class Mutant:
    name: str  # e.g. "transpose@12"
    operator: str
    line: int
    source: str
    # What changed, e.g. "`total = x.sum(axis=0)` becomes `total = x.sum(axis=0) / len(x)`":
    # the source is unparsed, without the reference's comments and line numbers, so a report
    # of a surviving mutant shows this instead.
    change: str


_REDUCTIONS = {"sum", "mean"}


def _first_param(function: ast.FunctionDef | None) -> str | None:
    if function is None:
        return None
    params = [a.arg for a in function.args.args if a.arg not in ("self", "cls")]
    return params[0] if params else None


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(ast.Name(name, ast.Load()), list(args), [])


def _is_reduction(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _REDUCTIONS
    )


# Each operator: (node, enclosing function) -> replacement node or None if not applicable.
Operator = Callable[[ast.AST, ast.FunctionDef | None], ast.AST | None]


def _transpose(node: ast.AST, fn: ast.FunctionDef | None) -> ast.AST | None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return ast.Attribute(copy.deepcopy(node), "T", ast.Load())
    return None


def _drop_transpose(node: ast.AST, fn: ast.FunctionDef | None) -> ast.AST | None:
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return copy.deepcopy(node.value)
    return None


def _sum_to_mean(node: ast.AST, fn: ast.FunctionDef | None) -> ast.AST | None:
    if _is_reduction(node) and node.func.attr == "sum":  # type: ignore[attr-defined]
        new = copy.deepcopy(node)
        new.func.attr = "mean"  # type: ignore[attr-defined]
        return new
    return None


def _flip_axis(node: ast.AST, fn: ast.FunctionDef | None) -> ast.AST | None:
    if not _is_reduction(node):
        return None
    new = copy.deepcopy(node)
    for keyword in new.keywords:  # type: ignore[attr-defined]
        if keyword.arg == "axis" and isinstance(keyword.value, ast.Constant):
            keyword.value = ast.Constant(-1 if keyword.value.value == 0 else 0)
            return new
    return None


def _keepdims(node: ast.AST, fn: ast.FunctionDef | None) -> ast.AST | None:
    if not _is_reduction(node):
        return None
    new = copy.deepcopy(node)
    if any(k.arg == "keepdims" for k in new.keywords):  # type: ignore[attr-defined]
        return None
    new.keywords.append(ast.keyword("keepdims", ast.Constant(True)))  # type: ignore[attr-defined]
    return new


def _drop_term(node: ast.AST, fn: ast.FunctionDef | None) -> ast.AST | None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return copy.deepcopy(node.left)
    return None


def _assigned_value(
    wrap: Callable[[ast.expr, ast.FunctionDef | None], ast.expr | None],
) -> Callable[[ast.AST, ast.FunctionDef | None], ast.AST | None]:
    """Operators that rewrite the whole right-hand side of an assignment."""

    def operator(node: ast.AST, fn: ast.FunctionDef | None) -> ast.AST | None:
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name | ast.Tuple)
            and not isinstance(node.value, ast.Tuple)  # a cache tuple is not a result
        ):
            return None
        value = wrap(copy.deepcopy(node.value), fn)
        return None if value is None else ast.Assign(node.targets, value, lineno=node.lineno)

    return operator


def _negate(value: ast.expr, fn: ast.FunctionDef | None) -> ast.expr | None:
    return ast.UnaryOp(ast.USub(), value)


def _divide_by_batch(value: ast.expr, fn: ast.FunctionDef | None) -> ast.expr | None:
    param = _first_param(fn)
    if param is None:
        return None
    return ast.BinOp(value, ast.Div(), _call("len", ast.Name(param, ast.Load())))


def _float32(value: ast.expr, fn: ast.FunctionDef | None) -> ast.expr | None:
    # __import__ keeps the mutant independent of how the module imported numpy.
    numpy = ast.Call(ast.Name("__import__", ast.Load()), [ast.Constant("numpy")], [])
    asarray = ast.Attribute(numpy, "asarray", ast.Load())
    return ast.Call(asarray, [value], [ast.keyword("dtype", ast.Constant("float32"))])


OPERATORS: dict[str, Operator] = {
    "transpose": _transpose,
    "drop_transpose": _drop_transpose,
    "divide_by_batch": _assigned_value(_divide_by_batch),
    "sum_to_mean": _sum_to_mean,
    "flip_axis": _flip_axis,
    "keepdims": _keepdims,
    "negate": _assigned_value(_negate),
    "drop_term": _drop_term,
    "float32": _assigned_value(_float32),
}


_EQUIVALENT = re.compile(r"#\s*equivalent:\s*([\w\s,]*)$")


def equivalent_marks(source: str, path: Path) -> dict[int, set[str]]:
    """Lines marked ``# equivalent: negate, float32``: there these operators change nothing a
    test could see (a sign flipped before squaring), so no mutant of theirs is made."""
    marks: dict[int, set[str]] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        found = _EQUIVALENT.search(line)
        if found is None:
            continue
        names = {name.strip() for name in found.group(1).split(",") if name.strip()}
        unknown = sorted(names - set(OPERATORS))
        if unknown or not names:
            raise ConfigError(
                path,
                number,
                f"'# equivalent:' names {', '.join(unknown) or 'no operator'}; the operators "
                f"are {', '.join(OPERATORS)}",
            )
        marks[number] = names
    return marks


def generate(source: str, path: Path) -> list[Mutant]:
    """Every single-site mutant of the solution regions of ``source``, but those of operators
    a line's ``# equivalent:`` comment names."""
    regions = find_regions(source, path)
    lines = {n for r in regions for n in range(r.begin, r.end + 1)}
    marks = equivalent_marks(source, path)
    tree = ast.parse(source, filename=str(path))
    mutants: list[Mutant] = []
    seen: set[str] = set()
    for name, operator in OPERATORS.items():
        for site, (node, fn) in enumerate(_nodes(tree)):
            if getattr(node, "lineno", None) not in lines:
                continue
            if name in marks.get(node.lineno, ()):  # type: ignore[attr-defined]
                continue
            replacement = operator(node, fn)
            if replacement is None:
                continue
            mutated = _replace(tree, site, replacement)
            text = ast.unparse(mutated) + "\n"
            if text in seen:
                continue
            seen.add(text)
            line = node.lineno  # type: ignore[attr-defined]
            change = f"`{ast.unparse(node)}` becomes `{ast.unparse(replacement)}`"
            mutants.append(Mutant(f"{name}@{line}", name, line, text, change))
    return mutants


def _nodes(tree: ast.AST) -> Iterator[tuple[ast.AST, ast.FunctionDef | None]]:
    """All nodes in a fixed order, each with its enclosing function."""

    Found = Iterator[tuple[ast.AST, ast.FunctionDef | None]]

    def walk(node: ast.AST, fn: ast.FunctionDef | None) -> Found:
        yield node, fn
        inner = node if isinstance(node, ast.FunctionDef) else fn
        for child in ast.iter_child_nodes(node):
            yield from walk(child, inner)

    return walk(tree, None)


def _replace(tree: ast.AST, site: int, replacement: ast.AST) -> ast.AST:
    clone = copy.deepcopy(tree)
    nodes = [n for n, _ in _nodes(clone)]
    target = nodes[site]
    for parent in nodes:
        for field, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, field, replacement)
                return ast.fix_missing_locations(clone)
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if item is target:
                        value[index] = replacement
                        return ast.fix_missing_locations(clone)
    raise AssertionError("mutation site not found")
