"""Each aggregation rule on hand-made facts: the numbers are computed here by hand."""

from __future__ import annotations

import yaml

from metrics_connect.catalog.loader import validate
from metrics_connect.catalog.schema import CatalogDoc
from metrics_connect.connectors.base import Row
from metrics_connect.engine.aggregate import Facts

from .rules import CATALOG_YAML, DATASETS, day, one, toy_facts, widget


def test_sum_adds_daily_values() -> None:
    body = one(widget(metrics=["clicks"]))
    assert body["values"] == sum(3 * n for n in range(10))


def test_sum_over_a_sub_period_reads_only_its_days() -> None:
    body = one(widget(metrics=["clicks"]), start=day(2), end=day(4))
    assert body["values"] == 3 * (2 + 3 + 4)


def test_stock_metric_takes_the_last_day_with_data() -> None:
    assert one(widget(metrics=["followers"]))["values"] == 19
    # A period ending before the second snapshot: the earlier one.
    assert one(widget(metrics=["followers"]), end=day(5))["values"] == 15


def test_period_unique_metric_is_the_networks_figure_not_a_sum() -> None:
    body = one(widget(metrics=["reach"]))
    # The period row says 700; the breakdown rows would sum to 900.
    assert body["values"] == 700


def test_period_metric_without_a_stored_period_is_not_available() -> None:
    body = one(widget(metrics=["reach"]), start=day(1), end=day(9))
    assert body["error"]["code"] == "data_not_available"


def test_ratio_is_computed_from_summed_parts() -> None:
    body = one(widget(metrics=["ctr"]), start=day(1), end=day(2))
    # (3 + 6) / (150 + 150) * 100, not the mean of the daily rates (2 % and 4 %).
    assert body["values"] == 3.0


def test_a_share_of_the_total_divides_each_row_by_the_whole_period() -> None:
    body = one(widget(component="chart_v1", metrics=["clicks_share"], dimensions=["device"]))
    # Desktop 90 and mobile 45 of the period's 135 clicks; ungrouped, the whole: 100 %.
    assert body["labels"] == ["Desktop", "Mobile"]
    assert body["values"][0]["data"] == [round(100 * 90 / 135, 4), round(100 * 45 / 135, 4)]
    assert one(widget(metrics=["clicks_share"]))["values"] == 100.0


def test_average_is_the_mean_per_item() -> None:
    body = one(widget(metrics=["reach:average"], dimensions=["posts"]))
    assert body["values"] == (100 + 300 + 200 + 50) / 4


def test_item_dimension_with_filter_narrows_items() -> None:
    assert one(widget(metrics=["likes"], dimensions=["videos"]))["values"] == 30
    assert one(widget(metrics=["count"], dimensions=["videos"]))["values"] == 2


def test_sum_of_metrics() -> None:
    body = one(widget(metrics=["engagement"], dimensions=["posts"]))
    assert body["values"] == (10 + 30 + 0 + 5) + (100 + 300 + 200 + 50)


def test_per_day_divides_by_every_day_of_the_period() -> None:
    assert one(widget(metrics=["clicks_a_day"]))["values"] == 135 / 10
    # Days without data count too: the same clicks over twenty days.
    assert one(widget(metrics=["clicks_a_day"]), end=day(19))["values"] == 135 / 20
    body = one(widget(component="chart_v1", metrics=["clicks_a_day"], dimensions=["device"]))
    assert body["values"][0]["data"] == [9.0, 4.5]


def test_per_day_must_name_a_known_metric() -> None:
    raw = yaml.safe_load(CATALOG_YAML)
    raw["metrics"]["broken"] = {"label": "Broken", "per_day": "nothing"}
    raw["metrics"]["looping"] = {"label": "Looping", "per_day": "looping"}
    problems = validate(CatalogDoc.model_validate(raw), DATASETS)
    assert "metrics.broken: unknown part metric 'nothing'" in problems
    assert "metrics.looping: defined in terms of itself" in problems


def test_breakdown_groups_by_the_dimension() -> None:
    body = one(widget(component="chart_v1", metrics=["clicks"], dimensions=["device"]))
    assert body["labels"] == ["Desktop", "Mobile"]
    assert body["values"] == [{"label": "Clicks", "data": [90, 45]}]


def test_a_field_object_without_operator_names_the_catalog_dimension() -> None:
    by_name = one(widget(component="chart_v1", metrics=["clicks"], dimensions=["device"]))
    by_object = one(
        widget(component="chart_v1", metrics=["clicks"], dimensions=[{"field": "device"}])
    )
    # The dimension's value labels apply, not the raw breakdown values.
    assert by_object == by_name


def test_stock_breakdown_uses_each_groups_last_day() -> None:
    body = one(widget(component="chart_v1", metrics=["followers"], dimensions=["gender"]))
    assert body["labels"] == ["Female", "Male"]
    assert body["values"][0]["data"] == [12, 7]


def test_filter_dimension_narrows_without_grouping() -> None:
    assert one(widget(metrics=["clicks"], dimensions=["mobile"]))["values"] == 45


def test_filter_objects_and_filters_strings() -> None:
    by_object = widget(
        metrics=["clicks"], dimensions=[{"field": "device", "operator": "EQUAL", "value": "d"}]
    )
    assert one(by_object)["values"] == 90
    by_in = widget(
        metrics=["clicks"], dimensions=[{"field": "device", "operator": "IN", "value": ["d", "m"]}]
    )
    assert one(by_in)["values"] == 135
    by_text = widget(metrics=["likes"], dimensions=["posts"], filters=["kind==IMAGE"])
    assert one(by_text)["values"] == 15
    by_not = widget(metrics=["likes"], dimensions=["posts"], filters=["kind!=IMAGE"])
    assert one(by_not)["values"] == 30


def test_entity_filter_is_pushed_down_to_the_fetch() -> None:
    from metrics_connect.engine.resolve import resolve_widget

    from .rules import toy_catalog

    resolved = resolve_widget(
        toy_catalog(), widget(metrics=["clicks"], entity_id=42, entity_type="campaign")
    )
    plan = resolved.metrics[0].source
    assert plan is not None
    assert [(f.field, f.operator, f.value) for f in plan.pushdown] == [
        ("campaign.id", "EQUAL", "42")
    ]
    assert plan.local_filters == ()


def test_sort_orders_datatable_rows() -> None:
    asc = one(
        widget(
            component="datatable_v1",
            metrics=["reach", "likes"],
            dimensions=["posts"],
            sort=["likes"],
        )
    )
    assert [row[0] for row in asc["values"]] == ["Third", "Fourth", "First", "Second", "Total"]
    desc = one(
        widget(
            component="datatable_v1",
            metrics=["reach", "likes"],
            dimensions=["posts"],
            sort="-reach",
        )
    )
    assert [row[0] for row in desc["values"]][:4] == ["Second", "Third", "First", "Fourth"]


def test_combine_ratio_of_a_predefined_number() -> None:
    body = one(widget("clicks_rate", metrics=["ignored"]))
    assert body["values"] == round(135 / 1500, 4)


def test_empty_period_sums_to_zero_and_stock_is_null() -> None:
    facts: Facts = toy_facts()
    assert one(widget(metrics=["clicks"]), start=day(20), end=day(25), facts=facts)["values"] == 0
    assert one(widget(metrics=["followers"]), start=day(20), end=day(25))["values"] is None


def test_stored_days_without_the_field_sum_to_zero() -> None:
    """A network that leaves zeros out (Meta lists only the action types that occurred):
    rows of stored days that lack the field add 0, in a total and on each day."""
    facts = toy_facts()
    facts.rows[("daily", "-")] = [Row(day(n), {}, {"impressions": 150}) for n in range(10)]
    assert one(widget(metrics=["clicks"]), facts=facts)["values"] == 0
    chart = widget(component="chart_v1", metrics=["clicks"], dimensions=["date"])
    assert one(chart, start=day(8), end=day(11), facts=facts)["values"][0]["data"] == [0] * 4
    # A stock metric lacking on every stored day stays unknown.
    facts.rows[("snap", "-")] = [Row(day(2), {}, {})]
    assert one(widget(metrics=["followers"]), facts=facts)["values"] is None
