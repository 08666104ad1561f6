"""Each component's answer as the page renders it (the template alone, no engine)."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest

from metrics_connect.playground import present
from metrics_connect.playground.choices import WidgetChoice
from metrics_connect.playground.pages import templates
from metrics_connect.playground.runner import WidgetRun


def rendered(component: str, answer: dict[str, Any] | None, **choice: Any) -> str:
    widget = {"component": component, "metrics": ["m"], "dimensions": choice.pop("dims", [])}
    run = WidgetRun(
        WidgetChoice(
            "x:w", "A widget", component, True, widget, choice.get("chart_type"), None, ""
        ),
        "x_w",
        {"start": "2026-01-01"},
        "curl …",
        "curl … explain",
        answer=answer,
    )
    return templates.get_template("result.html").render(run=run, present=present)


def values(html: str) -> list[Any]:
    return [json.loads(unescape(v)) for v in re.findall(r"data-value='([^']*)'", html)]


def test_a_number_with_its_comparison_delta_and_arrow() -> None:
    html = rendered(
        "number_v1",
        {
            "values": 120,
            "comparison": {"values": 100, "difference": 20.0, "absoluteDifference": 20},
        },
    )
    assert values(html) == [120]
    assert 'class="delta delta-up"' in html and "▲" in html and "+20 (+20 %)" in html


def test_a_table_with_its_total_row_in_the_footer() -> None:
    answer = {
        "headers": ["City", "Followers"],
        "values": [["Lisbon", 3], ["Porto", 2], ["Total", 5]],
        "comparison": {"headers": ["City", "Followers"], "values": [["Lisbon", 1], ["Total", 1]]},
    }
    html = rendered("datatable_v1", answer)
    assert re.search(r"<tfoot><tr class=\"total\"><td data-value='\"Total\"'>Total</td>", html)
    assert values(html) == ["Lisbon", 3, "Porto", 2, "Total", 5, "Lisbon", 1, "Total", 1]
    assert 'class="data sortable"' in html and "Comparison period" in html


def test_a_container_has_no_total_row() -> None:
    html = rendered("container_v1", {"headers": ["A"], "values": [["Total"], ["b"]]})
    assert "<tfoot>" not in html


def test_a_chart_carries_its_series_and_comparison_for_chart_js() -> None:
    answer = {
        "labels": ["2026-01-01", "2026-01-02"],
        "values": [{"label": "Reach", "data": [1, 2]}],
        "comparison": {
            "labels": ["2025-12-30", "2025-12-31"],
            "values": [{"label": "Reach", "data": [3, None]}],
        },
    }
    html = rendered("chart_v1", answer, dims=["date"], chart_type="bar")
    spec = json.loads(unescape(re.search(r'data-chart="([^"]*)"', html).group(1)))  # type: ignore[union-attr]
    assert spec["kind"] == "bar"
    assert [s["data"] for s in spec["series"]] == [[1, 2], [3, None]]
    assert [s["comparison"] for s in spec["series"]] == [False, True]
    assert "Data as a table" in html and values(html) == [1, 3, 2, None]


@pytest.mark.parametrize(
    ("component", "answer", "shown"),
    [
        (
            "pipeline_v1",
            {"labels": ["Sessions", "Buys"], "values": [10, 2], "comparison": {"values": [8, 1]}},
            "(comparison 8)",
        ),
        (
            "iconsList_v1",
            {
                "values": [
                    {
                        "label": "Likes",
                        "value": 4,
                        "comparison": {"values": 2, "difference": 100.0, "absoluteDifference": 2},
                    }
                ]
            },
            "▲",
        ),
        ("wysiwyg_v1", {"values": "<b>Hello</b>"}, "&lt;b&gt;Hello&lt;/b&gt;"),
        (
            "number_v1",
            {"error": {"code": "data_not_available", "message": "Stories before"}},
            "never archived",
        ),
    ],
)
def test_other_components_and_errors_read_sensibly(
    component: str, answer: dict[str, Any], shown: str
) -> None:
    assert shown in rendered(component, answer)
