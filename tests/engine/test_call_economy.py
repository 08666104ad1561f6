"""Upstream calls, counted by the emulator: the store and the planner save them."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN

from .conftest import Connected, RecordingTransport

OCT_1 = date(2026, 10, 1)
TZ = ZoneInfo("America/Sao_Paulo")


def reach_chart(wid: str = "chart") -> dict:
    return {
        "id": wid,
        "reference_key": "ig:reach_over_time",
        "component": "chart_v1",
        "metrics": ["reach"],
        "dimensions": ["date"],
    }


def media_widgets() -> list[dict]:
    return [
        {
            "id": metric,
            "component": "number_v1",
            "reference_key": f"ig:x_{metric}",
            "metrics": [metric],
            "dimensions": ["media"],
        }
        for metric in ("likes", "comments", "reach", "saved", "shares", "total_interactions")
    ]


def insight_windows(upstream: RecordingTransport) -> list[tuple[str, str]]:
    windows = []
    for request in upstream.requests:
        url = urlparse(str(request.url))
        query = parse_qs(url.query)
        if url.path.endswith("/insights") and "since" in query:
            windows.append((query["since"][0], query["until"][0]))
    return windows


async def test_a_repeated_request_makes_no_upstream_call(connected: Connected) -> None:
    body = connected.body("2026-10-01", "2026-10-31", [reach_chart(), *media_widgets()])
    first = await connected.get_data(body)
    assert connected.calls > 0
    before = connected.calls
    second = await connected.get_data(body)
    assert connected.calls == before
    assert second == first


async def test_an_overlapping_request_fetches_only_the_missing_days(
    connected: Connected, upstream: RecordingTransport
) -> None:
    await connected.get_data(connected.body("2026-10-01", "2026-10-10", [reach_chart()]))
    upstream.requests.clear()
    data = await connected.get_data(connected.body("2026-10-05", "2026-10-15", [reach_chart()]))
    assert len(data["chart"]["labels"]) == 11
    windows = insight_windows(upstream)
    assert len(windows) == 1
    since, until = (datetime.fromtimestamp(int(t), TZ) for t in windows[0])
    # Graph's since/until are instants: the missing days Oct 11-15, local time.
    assert since.date() == date(2026, 10, 11)
    assert until.date() <= date(2026, 10, 16)


async def test_n_widgets_on_one_dataset_cost_the_calls_of_one(connected: Connected) -> None:
    widgets = media_widgets()
    await connected.get_data(connected.body("2026-10-01", "2026-10-20", widgets[:1]))
    one_widget = connected.calls
    connected.network.controls.calls.reset()
    other = await connected.another_integration()
    body = connected.body("2026-10-01", "2026-10-20", widgets)
    body["customer_integration"] = other
    await connected.get_data(body)
    assert connected.calls == one_widget


async def test_identical_concurrent_requests_share_one_fetch(connected: Connected) -> None:
    body = connected.body("2026-10-01", "2026-10-20", media_widgets())
    await asyncio.gather(*(connected.get_data(body) for _ in range(4)))
    shared = connected.calls
    connected.network.controls.calls.reset()
    other = await connected.another_integration()
    single = dict(body, customer_integration=other)
    await connected.get_data(single)
    assert shared == connected.calls


async def test_explain_plans_without_calling_the_network(connected: Connected) -> None:
    body = connected.body("2026-10-01", "2026-10-31", [reach_chart(), *media_widgets()])
    plan = await connected.get_data(body, explain="true")
    assert connected.calls == 0
    explain = plan["explain"]
    assert explain["widgets"]["chart"]["metrics"][0]["source"]["dataset"] == "account_daily"
    datasets = {f["dataset"] for f in explain["fetches"]}
    assert datasets == {"account_daily", "media"}
    assert explain["upstream_calls"] > 0
    await connected.get_data(body)
    again = (await connected.get_data(body, explain="true"))["explain"]
    assert again["fetches"] == []
    assert all(s["days_stored"] == s["days_needed"] for s in again["store"])


async def test_expired_token_flips_the_integration_and_fails_only_network_widgets(
    connected: Connected,
) -> None:
    stored = connected.body("2026-10-01", "2026-10-10", [reach_chart("old")])
    await connected.get_data(stored)
    connected.network.controls.switches.expired_tokens.add(DEMO_ACCESS_TOKEN)
    body = connected.body("2026-10-01", "2026-10-10", [reach_chart("old"), *media_widgets()[:1]])
    data = await connected.get_data(body)
    assert data["likes"]["error"]["code"] == "integration_expired"
    assert len(data["old"]["labels"]) == 10  # answered from the store
    response = await connected.client.post(
        "/metrics/get-data", json=body, headers=connected.headers
    )
    assert response.status_code == 409
    assert response.json()["status"] == "expired"


async def test_revoked_permission_flips_to_revoked(connected: Connected) -> None:
    connected.network.controls.switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    data = await connected.get_data(connected.body("2026-10-01", "2026-10-02", media_widgets()[:1]))
    assert data["likes"]["error"]["code"] == "integration_revoked"
    response = await connected.client.get(
        f"/customer-integrations/{connected.integration_uuid}", headers=connected.headers
    )
    assert response.json()["customer_integration"]["status"] == "revoked"


async def test_days_before_the_live_window_are_not_asked_for(connected: Connected) -> None:
    widget = {
        "id": "nf",
        "reference_key": "ig:new_followers_count",
        "component": "number_v1",
        "metrics": ["new_followers"],
    }
    start = (date(2026, 11, 20) - timedelta(days=60)).isoformat()
    data = await connected.get_data(connected.body(start, "2026-11-19", [widget]))
    # The API serves 30 days of follower_count; older days are not archived here: the
    # figure covers what the network still has.
    assert isinstance(data["nf"]["values"], int)
