"""Metric formulas as data: a data.yaml mapping of name -> arithmetic expression over
given values and the names computed before it, evaluated in the mapping's order (so
draws from a seeded generator happen in a fixed order).

An expression is Python's expression syntax cut down to arithmetic: numbers, names,
+ - * / ** and unary minus, one comparison, `a if test else b`, and calls of the
functions handed in (round, min and max always) by name. A model whose formulas depend on
an entity's kind may also allow conditions: strings, booleans, tuples, `in`, `and`, `or`, `not`
and chained comparisons. Every node is checked against that list before the expression
is compiled, and it runs with no builtins, so a formula reads only what it is given."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.UnaryOp,
    ast.USub,
    ast.IfExp,
    ast.Compare,
    ast.Gt,
    ast.GtE,
    ast.Lt,
    ast.LtE,
    ast.Eq,
    ast.NotEq,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
)
CONDITIONS = (
    *ALLOWED,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.Not,
    ast.In,
    ast.NotIn,
    ast.Tuple,
)
BUILTINS: dict[str, Callable[..., Any]] = {"round": round, "min": min, "max": max}


class FormulaError(ValueError):
    """An expression outside the allowed syntax."""


@cache
def compiled(expression: str, conditions: bool = False) -> ast.expr:
    """The expression's syntax tree, once every node of it is allowed (with
    `conditions`, the condition syntax too)."""
    tree = ast.parse(expression, mode="eval")
    allowed, constants = (
        (CONDITIONS, (int, float, str, bool)) if conditions else (ALLOWED, (int, float))
    )
    for node in ast.walk(tree):
        bad = not isinstance(node, allowed)
        bad |= isinstance(node, ast.Constant) and type(node.value) not in constants
        bad |= isinstance(node, ast.Call) and (
            not isinstance(node.func, ast.Name) or bool(node.keywords)
        )
        bad |= isinstance(node, ast.Compare) and len(node.ops) != 1 and not conditions
        if bad:
            raise FormulaError(f"not allowed in a formula: {ast.unparse(node)}")
    return tree.body


class Formulas:
    """A mapping of name -> expression, compiled once into one block of assignments
    (with `conditions`, expressions may use the condition syntax)."""

    def __init__(self, formulas: Mapping[str, str], conditions: bool = False) -> None:
        self.names = tuple(formulas)
        body: list[ast.stmt] = [
            ast.Assign([ast.Name(name, ast.Store())], compiled(expr, conditions), lineno=0)
            for name, expr in formulas.items()
        ]
        module = ast.fix_missing_locations(ast.Module(body, type_ignores=[]))
        self.code = compile(module, "<formulas>", "exec")
        nodes = list(ast.walk(module))
        called = {id(n.func) for n in nodes if isinstance(n, ast.Call)}
        # The values the formulas read that none of them computes (what `given` holds).
        self.inputs = frozenset(
            n.id
            for n in nodes
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in called
        ) - set(self.names)

    def evaluate(
        self, given: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] | None = None
    ) -> dict[str, Any]:
        """Every formula's value, in order, each seeing `given`, the functions and the
        values before it (a name nothing gives raises NameError)."""
        names: dict[str, Any] = {**BUILTINS, **(functions or {}), **given}
        exec(self.code, {"__builtins__": {}}, names)
        return {name: names[name] for name in self.names}
