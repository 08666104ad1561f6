"""Component shapes and the comparison rules (docs/engine.md)."""

from __future__ import annotations

from metrics_connect.engine.components import comparison_block

from .rules import answer, day, one, widget


def test_number_without_comparison_has_null_members() -> None:
    body = one(widget(metrics=["clicks"]))
    assert body == {
        "values": 135,
        "comparison": {"values": None, "difference": None, "absoluteDifference": None},
    }


def test_number_with_comparison() -> None:
    body = one(widget(metrics=["clicks"]), start=day(5), end=day(9), comparison=(day(0), day(4)))
    now, before = 3 * (5 + 6 + 7 + 8 + 9), 3 * (0 + 1 + 2 + 3 + 4)
    assert body["values"] == now
    assert body["comparison"] == {
        "values": before,
        "difference": round((now - before) / before * 100, 2),
        "absoluteDifference": now - before,
    }


def test_difference_is_null_when_the_comparison_is_zero() -> None:
    body = one(widget(metrics=["clicks"]), start=day(1), end=day(1), comparison=(day(0), day(0)))
    assert body["values"] == 3
    assert body["comparison"] == {"values": 0, "difference": None, "absoluteDifference": 3}


def test_comparison_block_rules() -> None:
    assert comparison_block(10, None, True) == {
        "values": None,
        "difference": None,
        "absoluteDifference": None,
    }
    assert comparison_block(5, 10, True)["difference"] == -50.0
    assert comparison_block(None, 10, True)["absoluteDifference"] is None


def test_chart_date_series_labels_every_day_of_the_period() -> None:
    body = one(
        widget(component="chart_v1", metrics=["clicks", "ctr"], dimensions=["date"]),
        start=day(8),
        end=day(12),
    )
    assert body["labels"] == [day(n).isoformat() for n in range(8, 13)]
    clicks, ctr = body["values"]
    assert clicks == {"label": "Clicks", "data": [24, 27, 0, 0, 0]}
    assert ctr["label"] == "CTR"
    assert ctr["data"][:2] == [16.0, 18.0]
    assert ctr["data"][2:] == [None, None, None]


def test_chart_with_comparison_has_the_same_form() -> None:
    body = one(
        widget(component="chart_v1", metrics=["clicks"], dimensions=["date"]),
        start=day(2),
        end=day(3),
        comparison=(day(0), day(1)),
    )
    assert body["comparison"] == {
        "labels": [day(0).isoformat(), day(1).isoformat()],
        "values": [{"label": "Clicks", "data": [0, 3]}],
    }


def test_two_dimension_chart_series_per_value_of_the_second() -> None:
    body = one(widget(component="chart_v1", metrics=["likes"], dimensions=["date", "kind"]))
    assert body["labels"] == [day(n).isoformat() for n in range(10)]
    series = {s["label"]: s["data"] for s in body["values"]}
    assert set(series) == {"IMAGE", "VIDEO"}
    assert series["VIDEO"][3] == 30
    assert series["IMAGE"][1] == 10
    assert series["IMAGE"][8] == 5


def test_datatable_headers_rows_and_total_with_ratio_from_totals() -> None:
    body = one(
        widget(
            component="datatable_v1",
            metrics=["clicks", "impressions", "ctr"],
            dimensions=["device"],
            sort=["-clicks"],
        )
    )
    assert body["headers"] == ["Device", "Clicks", "Impressions", "CTR"]
    assert body["values"] == [
        ["Desktop", 90, 500, 18.0],
        ["Mobile", 45, 1000, 4.5],
        ["Total", 135, 1500, 9.0],
    ]


def test_datatable_total_of_a_period_unique_metric_is_the_whole_period_figure() -> None:
    # Reach by device does not add up; the Total is the period's own figure (700), fetched
    # from the same period dataset without the breakdown, never the sum of the rows.
    body = one(widget(component="datatable_v1", metrics=["reach"], dimensions=["device"]))
    assert body["values"][-1] == ["Total", 700]
    assert body["values"][0] == ["Mobile", 500]


def test_item_datatable_attribute_columns() -> None:
    body = one(
        widget(
            component="datatable_v1",
            metrics=["type", "reach"],
            dimensions=["posts"],
            sort=["-reach"],
        )
    )
    assert body["headers"] == ["Post", "Type", "Reach"]
    assert body["values"][0] == ["Second", "VIDEO", 300]
    assert body["values"][-1] == ["Total", None, 650]


def test_datagrid_and_container_shapes() -> None:
    grid = one(widget(component="datagrid_v1", metrics=["likes"], dimensions=["posts"]))
    assert grid["headers"] == ["Post", "Likes"] and grid["values"][-1] == ["Total", 45]
    box = one(widget(component="container_v1", metrics=["likes"], dimensions=["posts"]))
    assert all(row[0] != "Total" for row in box["values"]) and len(box["values"]) == 4


def test_pipeline_and_icons_list() -> None:
    body = answer(
        [
            widget("a", component="pipeline_v1", metrics=["impressions", "clicks"]),
            widget("b", component="iconsList_v1", metrics=["clicks"]),
        ]
    )
    assert body["a"] == {
        "labels": ["Impressions", "Clicks"],
        "values": [1500, 135],
        "comparison": {"values": None},
    }
    assert body["b"] == {
        "values": [
            {
                "label": "Clicks",
                "value": 135,
                "comparison": {"values": None, "difference": None, "absoluteDifference": None},
            }
        ]
    }


def test_wysiwyg_is_presentational() -> None:
    body = one(
        widget("note", component="wysiwyg_v1", metrics=["x"], custom={"values": "<p>Hi</p>"})
    )
    assert body == {"values": "<p>Hi</p>"}


def test_widget_errors_fail_alone() -> None:
    body = answer(
        [
            widget("ok", metrics=["clicks"]),
            widget("m", metrics=["nope"]),
            widget("d", metrics=["clicks"], dimensions=["nope"]),
            widget("k", reference_key="fb:page_fans", metrics=["clicks"]),
            widget("c", metrics=["followers"], dimensions=["device"], component="chart_v1"),
            widget("a", metrics=["clicks:average"]),
        ]
    )
    assert body["ok"]["values"] == 135
    assert body["m"]["error"]["code"] == "unknown_metric"
    assert body["d"]["error"]["code"] == "unknown_dimension"
    assert body["k"]["error"]["code"] == "unknown_reference_key"
    assert body["c"]["error"]["code"] == "unsupported_combination"
    assert body["a"]["error"]["code"] == "unsupported_combination"


def test_a_text_figure_is_compared_as_text() -> None:
    """An attribute (an id of digits, a name) carries the comparison period's text and no
    numeric difference."""
    body = one(
        widget(metrics=["type"], dimensions=["posts"]),
        start=day(3),
        end=day(3),
        comparison=(day(1), day(1)),
    )
    assert body["comparison"]["difference"] is None
    assert body["comparison"]["absoluteDifference"] is None
    assert comparison_block("100", "100", True, textual=True) == {
        "values": "100",
        "difference": None,
        "absoluteDifference": None,
    }
    assert comparison_block("100", "90", True) == {
        "values": "90",
        "difference": None,
        "absoluteDifference": None,
    }
