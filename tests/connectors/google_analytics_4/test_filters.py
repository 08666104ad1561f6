"""Pushdown filters as Data API FilterExpressions."""

from __future__ import annotations

import pytest

from metrics_connect.connectors.base import Filter, UpstreamError
from metrics_connect.networks.google_analytics_4.connector.hooks import filter_expression


def test_one_filter_is_the_expression_itself() -> None:
    assert filter_expression([Filter("country", "EQUAL", "Brazil")]) == {
        "filter": {
            "fieldName": "country",
            "stringFilter": {"matchType": "EXACT", "value": "Brazil", "caseSensitive": False},
        }
    }


def test_several_filters_are_an_and_group_with_negations() -> None:
    expression = filter_expression(
        [
            Filter("sessionDefaultChannelGroup", "NOT_IN", ("Direct", "Email")),
            Filter("pagePath", "CONTAIN", "/blog/"),
        ]
    )
    first, second = expression["andGroup"]["expressions"]
    assert first == {
        "notExpression": {
            "filter": {
                "fieldName": "sessionDefaultChannelGroup",
                "inListFilter": {"values": ["Direct", "Email"], "caseSensitive": False},
            }
        }
    }
    assert second["filter"]["stringFilter"] == {
        "matchType": "CONTAINS",
        "value": "/blog/",
        "caseSensitive": False,
    }


def test_unsupported_operator_fails_the_widget_not_the_process() -> None:
    with pytest.raises(UpstreamError):
        filter_expression([Filter("sessions", "GREATER_THAN", 3)])
