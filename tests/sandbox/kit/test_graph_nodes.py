"""The Graph kit's nodes and edges (requested fields, `?ids=`, newest-first keyset pages),
its retirement of insights metrics by version and sunset date, its insights entries and
spans, and the usage a Graph app reports."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from metrics_connect.sandbox.kit.graph_fields import FieldSpec
from metrics_connect.sandbox.kit.graph_metrics import MetricRetirements
from metrics_connect.sandbox.kit.graph_nodes import (
    multi_ids,
    newest_first_page,
    render_node,
    requested_fields,
)
from metrics_connect.sandbox.kit.meta_graph import GraphError

EDGE = "http://graph.test/v21.0/1/media"


def test_requested_fields_and_rendering() -> None:
    assert [f.name for f in requested_fields({}, ("id", "name"))] == ["id", "name"]
    specs = requested_fields({"fields": "name,count.limit(2),gone"}, ("id",))
    values: dict[str, Any] = {
        "name": "n",
        "count": lambda spec: int(spec.modifiers["limit"]) * 10,
        "gone": None,
    }
    assert render_node(specs, values, "Thing") == {"name": "n", "count": 20}
    with pytest.raises(GraphError, match=r"nonexisting field \(nope\) on node type \(Thing\)"):
        render_node([FieldSpec("nope")], values, "Thing")
    with pytest.raises(GraphError, match="Syntax error in fields"):
        requested_fields({"fields": "a{b"}, ("id",))


def test_multi_ids() -> None:
    answer = multi_ids({"ids": "a,b", "fields": "id"}, lambda i: True, lambda i, p: (i, p))
    assert answer == {"a": ("a", {"fields": "id"}), "b": ("b", {"fields": "id"})}
    with pytest.raises(GraphError) as missing:
        multi_ids({"ids": "a,x"}, lambda i: i == "a", lambda i, p: i)
    assert missing.value.status == 404 and missing.value.code == 803
    assert "do not exist: x" in missing.value.message
    with pytest.raises(GraphError, match=r"Too many IDs. Maximum: 2. Provided: 3."):
        multi_ids({"ids": "a,b,c"}, lambda i: True, lambda i, p: i, max_ids=2)


def _page(items: list[tuple[int, str]], **params: str) -> dict[str, Any]:
    return newest_first_page(items, lambda m: m, params, EDGE, "tok", lambda p: list(p))


def test_newest_first_pages_walk_both_ways() -> None:
    items = [(100 - i, f"m{i}") for i in range(7)]  # newest first
    first = _page(items, limit="3")
    assert [m[1] for m in first["data"]] == ["m0", "m1", "m2"]
    assert "previous" not in first["paging"]
    query = parse_qs(urlsplit(first["paging"]["next"]).query)
    assert query["access_token"] == ["tok"] and query["limit"] == ["3"]
    second = _page(items, limit="3", after=query["after"][0])
    assert [m[1] for m in second["data"]] == ["m3", "m4", "m5"]
    back = parse_qs(urlsplit(second["paging"]["previous"]).query)
    assert [m[1] for m in _page(items, limit="3", before=back["before"][0])["data"]] == [
        "m0",
        "m1",
        "m2",
    ]
    # A cursor stays a position when its item is gone (an expired story).
    assert [m[1] for m in _page(items[1:], limit="2", after=query["after"][0])["data"]] == [
        "m3",
        "m4",
    ]
    assert _page([], limit="3") == {"data": []}
    assert len(_page(items, limit="1000")["data"]) == 7
    for bad in ({"limit": "x"}, {"after": "zzz"}):
        with pytest.raises(GraphError):
            _page(items, **bad)


def test_metric_retirements_by_version_and_sunset() -> None:
    today = date(2025, 3, 1)
    retirements = MetricRetirements(lambda: today)
    assert retirements.serves(None, None, 99)
    assert retirements.serves(22, date(2025, 4, 21), 21)
    assert not retirements.serves(22, date(2025, 4, 21), 22)
    assert not retirements.serves(21, date(2025, 1, 8), 20)  # sunset passed: every version
    retirements.enforce_sunsets = False
    assert retirements.serves(21, date(2025, 1, 8), 20)
    retirements.enforce_sunsets = True
    named = retirements.refusal(0, "plays", 22, date(2025, 4, 21), ["reach"], "media", "p")
    assert "Starting from version 22 and above, the plays metric" in named.message
    listed = retirements.refusal(1, "clicks", 21, date(2025, 1, 8), ["reach", "views"], "user", "p")
    assert listed.message == "(#100) metric[1] must be one of the following values: reach, views"


def test_insight_entry() -> None:
    from metrics_connect.sandbox.kit.graph_insights import insight_entry

    entry = insight_entry("42", "reach", "day", "Reach", "Accounts reached", "values", [])
    assert list(entry) == ["name", "period", "title", "description", "values", "id"]
    assert entry["id"] == "42/insights/reach/day"


def test_a_calls_url() -> None:
    from metrics_connect.sandbox.kit.meta_graph_app import Call

    call = Call("GET", "v21.0", 21, ["1", "insights"], {"metric": "reach"}, "http://g.test", "t")
    assert call.url == "http://g.test/v21.0/1/insights"


def test_check_span() -> None:
    from datetime import UTC, datetime, timedelta

    from metrics_connect.sandbox.kit.graph_insights import check_span

    since = datetime(2024, 7, 1, tzinfo=UTC)
    check_span(since, since + timedelta(days=30), 30)
    with pytest.raises(GraphError) as too_long:
        check_span(since, since + timedelta(days=30, seconds=1), 30)
    assert too_long.value.message == (
        "(#100) There cannot be more than 30 days (2592000 s) between since and until"
    )


def test_usage_report() -> None:
    from datetime import UTC, datetime

    from metrics_connect.sandbox.kit import meta_graph
    from metrics_connect.sandbox.kit.controls import SandboxControls
    from metrics_connect.sandbox.kit.meta_graph_app import GraphApp

    class Toy(GraphApp):
        def endpoint_name(self, method: str, path: list[str], params: dict[str, str]) -> str:
            return "toy"

        def handle(self, call: Any) -> Any:
            return {}

        def usage_headers(self, version: str, throttled: bool) -> dict[str, str]:
            return {}

    app = Toy(SandboxControls(), meta_graph.graph_versions(), lambda: datetime.now(UTC), 1, 10)
    for _ in range(3):
        app.usage.record()
    assert app.usage_report("pages", False) == {
        "type": "pages",
        "call_count": 30,
        "total_cputime": 15,
        "total_time": 15,
        "estimated_time_to_regain_access": 0,
    }
    assert app.usage_report("pages", True)["call_count"] == 100
