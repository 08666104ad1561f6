"""The kit's metric formulas: evaluated in order over given values, arithmetic only."""

from __future__ import annotations

import ast
import random

import pytest
import yaml

from metrics_connect.sandbox.kit.formulas import FormulaError, Formulas, compiled

FORMULAS = Formulas(
    yaml.safe_load(
        """
    clicks: round(impressions * ctr)
    _cost: round(clicks * cpc * (0.35 if video else 1.0), 2)
    cost_micros: round(_cost * 100) * 10000
    share: -clicks / max(impressions, 1) ** 2
    noisy: round(noisy(clicks), 3)
    """
    )
)


def test_formulas_see_given_values_and_earlier_results_in_order() -> None:
    given = {"impressions": 1000, "ctr": 0.031, "cpc": 1.5, "video": 0}
    rng = random.Random(3)
    out = FORMULAS.evaluate(given, {"noisy": lambda v: v * rng.uniform(0.8, 1.2)})
    assert list(out) == ["clicks", "_cost", "cost_micros", "share", "noisy"]
    assert out["clicks"] == 31 and isinstance(out["clicks"], int)
    assert out["_cost"] == 46.5 and out["cost_micros"] == 46_500_000
    assert out["share"] == -31 / 1000**2
    assert out["noisy"] == round(31 * random.Random(3).uniform(0.8, 1.2), 3)
    assert FORMULAS.evaluate({**given, "video": 1}, {"noisy": float})["_cost"] == 16.27


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os')",  # no builtins beyond round, min and max, no strings
        "impressions.real",  # no attributes
        "[x for x in impressions]",
        "f(x=1)",  # no keyword arguments
        "(lambda: 1)()",
        "1 < impressions < 3",
        "impressions and 1",
    ],
)
def test_anything_but_arithmetic_is_refused(expression: str) -> None:
    with pytest.raises(FormulaError):
        compiled(expression)


def test_a_name_nothing_gives_is_an_error() -> None:
    with pytest.raises(NameError):
        Formulas({"a": "b * 2"}).evaluate({})


def test_conditions_are_allowed_only_where_asked() -> None:
    condition = "objective in ('OUTCOME_SALES', 'OUTCOME_TRAFFIC') and not _site or 1 < x < 3"
    with pytest.raises(FormulaError):
        compiled(condition)
    tree = compiled(condition, conditions=True)
    code = compile(ast.Expression(tree), "<test>", "eval")
    scope = {"objective": "OUTCOME_SALES", "_site": False, "x": 9}
    assert eval(code, {"__builtins__": {}}, scope) is True
    for refused in ("x.real", "[y for y in x]", "(lambda: 1)()"):
        with pytest.raises(FormulaError):
            compiled(refused, conditions=True)


def test_formulas_with_conditions_compute_truth_values_and_strings() -> None:
    with pytest.raises(FormulaError):
        Formulas({"site": "'shop' in link"})
    formulas = Formulas({"site": "'shop' in link", "n": "2 if site and n > 1 else 0"}, True)
    assert formulas.evaluate({"link": "https://shop.test", "n": 5}) == {"site": True, "n": 2}
    assert formulas.evaluate({"link": "https://blog.test", "n": 5}) == {"site": False, "n": 0}


def test_inputs_are_the_values_read_that_no_formula_computes() -> None:
    formulas = Formulas({"ctr": "ratio(clicks, impressions)", "x": "round(ctr * scale)"})
    assert formulas.inputs == {"clicks", "impressions", "scale"}
