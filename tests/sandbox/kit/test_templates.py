"""The kit's answer templates: typed values, formatted strings, order kept."""

from __future__ import annotations

import pytest
import yaml

from metrics_connect.sandbox.kit import templates
from metrics_connect.sandbox.kit.templates import fill, fill_present

TEMPLATE = yaml.safe_load(
    """
    id: $id
    number: "{id}"
    key: "order_{id:08x}"
    total: "{total:.2f}"
    label: "{rate[name]}"
    paid: true
    lines: [{id: $id, tags: $tags}, plain]
    cost: $cost
    """
)


def test_values_typed_or_formatted_in_the_templates_order() -> None:
    values = {"id": 1000, "total": 12.5, "rate": {"name": "ICMS"}, "tags": ["a"], "cost": None}
    filled = fill(TEMPLATE, values)
    assert filled == {
        "id": 1000,
        "number": "1000",
        "key": "order_000003e8",
        "total": "12.50",
        "label": "ICMS",
        "paid": True,
        "lines": [{"id": 1000, "tags": ["a"]}, "plain"],
        "cost": None,
    }
    assert list(filled) == list(TEMPLATE)


def test_a_missing_value_is_an_error() -> None:
    with pytest.raises(KeyError):
        fill({"id": "$id"}, {})
    with pytest.raises(KeyError):
        fill("{total:.2f}", {})


def test_a_template_filled_again_gives_new_objects_and_the_same_text() -> None:
    template = {"meta": [], "text": "{{literal}} {n}", "money": "{n:.2f}", "raw": "$5 off"}
    first, second = fill(template, {"n": 3}), fill(template, {"n": 4})
    assert first == {"meta": [], "text": "{literal} 3", "money": "3.00", "raw": "$5 off"}
    assert second["money"] == "4.00" and first["meta"] is not second["meta"]


def test_many_templates_are_not_all_kept() -> None:
    for n in range(2000):
        assert fill({"n": "$n", "k": n}, {"n": n}) == {"n": n, "k": n}
    assert len(templates._compiled) <= 513


def test_fill_present_leaves_out_what_has_no_value() -> None:
    class Campaign:
        name = "Vendas"
        stop = None
        tags = ()
        ages = (18, 65)

    template = {
        "name": "{campaign.name}",
        "stop_time": "{campaign.stop}T23:59:00",
        "tags": "$tags",
        "ages": "$ages",
        "nested": {"first": "$missing", "kept": [1, "{campaign.name} 1"]},
        "plain": 3,
    }
    values = {"campaign": Campaign, "tags": Campaign.tags, "ages": Campaign.ages, "missing": None}
    assert fill_present(template, values) == {
        "name": "Vendas",
        "ages": [18, 65],
        "nested": {"kept": [1, "Vendas 1"]},
        "plain": 3,
    }
