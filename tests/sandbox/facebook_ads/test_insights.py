"""The emulator follows the Insights API: splits sum to totals, reach is period-unique,
paging, async report runs, filtering, errors and restatement."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from metrics_connect.networks.facebook_ads.emulator.app import FacebookAdsEmulator
from metrics_connect.networks.facebook_ads.emulator.entities import ADS
from metrics_connect.sandbox.accounts import AD_ACCOUNT_ID
from metrics_connect.sandbox.registry import SandboxNetwork

RANGE = json.dumps({"since": "2025-12-01", "until": "2025-12-31"})
INSIGHTS = f"/{AD_ACCOUNT_ID}/insights"


async def all_rows(graph: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params = {"limit": "50", **params}
    while True:
        response = await graph.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["data"])
        if "next" not in body.get("paging", {}):
            return rows
        params["after"] = body["paging"]["cursors"]["after"]


def action(row: dict[str, Any], action_type: str, field: str = "actions") -> int:
    return sum(int(a["value"]) for a in row.get(field, []) if a["action_type"] == action_type)


async def test_breakdowns_sum_to_totals(graph: httpx.AsyncClient) -> None:
    fields = "spend,impressions,clicks,actions"
    week = json.dumps({"since": "2025-12-01", "until": "2025-12-07"})
    (total,) = await all_rows(graph, INSIGHTS, fields=fields, time_range=week)
    for breakdowns in ("publisher_platform", "age,gender", "country", "device_platform"):
        rows = await all_rows(
            graph, INSIGHTS, fields=fields, time_range=week, breakdowns=breakdowns
        )
        assert len(rows) > 2
        assert sum(int(r["impressions"]) for r in rows) == int(total["impressions"])
        assert round(sum(float(r["spend"]) for r in rows), 2) == float(total["spend"])
        assert sum(action(r, "link_click") for r in rows) == action(total, "link_click")


async def test_reach_is_the_period_figure_not_a_sum_of_days(graph: httpx.AsyncClient) -> None:
    (period,) = await all_rows(graph, INSIGHTS, fields="reach,impressions", time_range=RANGE)
    days = await all_rows(
        graph, INSIGHTS, fields="reach,impressions", time_range=RANGE, time_increment="1"
    )
    assert len(days) == 31
    assert sum(int(d["impressions"]) for d in days) == int(period["impressions"])
    daily_reach = [int(d["reach"]) for d in days]
    assert max(daily_reach) < int(period["reach"]) < sum(daily_reach)


async def test_ratios_are_computed_from_the_sums(graph: httpx.AsyncClient) -> None:
    (row,) = await all_rows(
        graph, INSIGHTS, fields="spend,clicks,impressions,cpc,ctr,cpm", time_range=RANGE
    )
    spend, clicks, impressions = float(row["spend"]), int(row["clicks"]), int(row["impressions"])
    assert abs(float(row["cpc"]) - spend / clicks) < 1e-4
    assert abs(float(row["ctr"]) - clicks * 100 / impressions) < 1e-4
    assert abs(float(row["cpm"]) - spend * 1000 / impressions) < 1e-3


async def test_levels_and_entity_nodes_agree(graph: httpx.AsyncClient) -> None:
    campaigns = await all_rows(
        graph,
        INSIGHTS,
        fields="campaign_id,campaign_name,spend",
        time_range=RANGE,
        level="campaign",
    )
    assert {c["campaign_id"] for c in campaigns} >= {"120200000000000101", "120200000000000105"}
    one = campaigns[0]
    (node,) = await all_rows(
        graph, f"/{one['campaign_id']}/insights", fields="spend", time_range=RANGE
    )
    assert node["spend"] == one["spend"]
    filtered = await all_rows(
        graph,
        INSIGHTS,
        fields="spend",
        time_range=RANGE,
        filtering=json.dumps(
            [{"field": "campaign.id", "operator": "IN", "value": [one["campaign_id"]]}]
        ),
    )
    assert filtered[0]["spend"] == one["spend"]


async def test_publisher_platform_filter_slices_cells(graph: httpx.AsyncClient) -> None:
    rows = await all_rows(
        graph, INSIGHTS, fields="spend,reach", time_range=RANGE, breakdowns="publisher_platform"
    )
    by_platform = {r["publisher_platform"]: r for r in rows}
    (facebook,) = await all_rows(
        graph,
        INSIGHTS,
        fields="spend,reach",
        time_range=RANGE,
        filtering=json.dumps(
            [{"field": "publisher_platform", "operator": "IN", "value": ["facebook"]}]
        ),
    )
    assert facebook["spend"] == by_platform["facebook"]["spend"]
    assert facebook["reach"] == by_platform["facebook"]["reach"]


async def test_async_report_run(graph: httpx.AsyncClient, network: SandboxNetwork) -> None:
    started = await graph.post(
        INSIGHTS,
        data={"fields": "spend", "time_range": RANGE, "time_increment": "1", "level": "ad"},
    )
    run_id = started.json()["report_run_id"]
    statuses = []
    for _ in range(3):
        body = (await graph.get(f"/{run_id}")).json()
        statuses.append(body["async_status"])
        if body["async_status"] == "Job Completed":
            break
    assert statuses[-1] == "Job Completed" and body["async_percent_completion"] == 100
    rows = await all_rows(graph, f"/{run_id}/insights")
    sync = await all_rows(
        graph, INSIGHTS, fields="spend", time_range=RANGE, time_increment="1", level="ad"
    )
    assert rows == sync
    assert network.controls.calls.by_endpoint["POST insights (async)"] == 1


async def test_graph_errors(graph: httpx.AsyncClient, network: SandboxNetwork) -> None:
    unknown = await graph.get("/123456/insights")
    assert unknown.json()["error"]["code"] == 100
    assert unknown.json()["error"]["error_subcode"] == 33
    bad = await graph.get(INSIGHTS, params={"breakdowns": "age,publisher_platform"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 100

    network.controls.switches.rate_limit_next = 1
    limited = await graph.get(INSIGHTS)
    assert limited.json()["error"]["code"] == 80000
    usage = json.loads(limited.headers["X-Business-Use-Case-Usage"])
    assert next(iter(usage.values()))[0]["call_count"] == 100
    assert (await graph.get(INSIGHTS)).status_code == 200

    network.controls.switches.expired_tokens.add("sandbox-token")
    expired = await graph.get(INSIGHTS)
    assert expired.json()["error"]["code"] == 190
    network.controls.switches.expired_tokens.clear()
    network.controls.switches.revoked_tokens.add("sandbox-token")
    assert (await graph.get(INSIGHTS)).json()["error"]["code"] == 200
    network.controls.switches.revoked_tokens.clear()
    foreign = await graph.get(INSIGHTS, params={"access_token": "not-a-sandbox-token"})
    assert foreign.json()["error"]["code"] == 190


async def test_restatement_changes_a_day(
    graph: httpx.AsyncClient, emulator: FacebookAdsEmulator
) -> None:
    day = emulator.data.today() - timedelta(days=3)
    one_day = json.dumps({"since": day.isoformat(), "until": day.isoformat()})
    (before,) = await all_rows(graph, INSIGHTS, fields="spend", time_range=one_day)
    emulator.data.restate(day, 1.25)
    (after,) = await all_rows(graph, INSIGHTS, fields="spend", time_range=one_day)
    assert abs(float(after["spend"]) - float(before["spend"]) * 1.25) < 0.2
    assert emulator.data.period_totals(day, day)["spend"] == round(float(after["spend"]) * 100)


async def test_account_fields_and_objects(graph: httpx.AsyncClient) -> None:
    account = (
        await graph.get(f"/{AD_ACCOUNT_ID}", params={"fields": "name,currency,timezone_name"})
    ).json()
    assert account["currency"] == "BRL" and account["timezone_name"] == "America/Sao_Paulo"
    ads = await all_rows(graph, f"/{AD_ACCOUNT_ID}/ads", fields="name,creative{url_tags}")
    assert len(ads) == len(ADS) and "utm_campaign=" in ads[0]["creative"]["url_tags"]
    future = json.dumps({"since": (date(2026, 1, 16)).isoformat(), "until": "2026-01-20"})
    assert await all_rows(graph, INSIGHTS, fields="spend", time_range=future) == []


async def test_presets_monthly_increments_and_attribution_windows(
    graph: httpx.AsyncClient, emulator: FacebookAdsEmulator
) -> None:
    months = await all_rows(
        graph,
        INSIGHTS,
        fields="spend",
        time_range=json.dumps({"since": "2025-10-15", "until": "2025-12-31"}),
        time_increment="monthly",
    )
    assert [(m["date_start"], m["date_stop"]) for m in months] == [
        ("2025-10-15", "2025-10-31"),
        ("2025-11-01", "2025-11-30"),
        ("2025-12-01", "2025-12-31"),
    ]
    (week,) = await all_rows(graph, INSIGHTS, fields="spend", date_preset="last_7d")
    assert (week["date_start"], week["date_stop"]) == ("2026-01-08", "2026-01-14")
    (row,) = await all_rows(
        graph,
        INSIGHTS,
        fields="actions",
        time_range=RANGE,
        action_attribution_windows=json.dumps(["7d_click", "1d_view"]),
    )
    link = next(a for a in row["actions"] if a["action_type"] == "link_click")
    assert int(link["7d_click"]) + int(link["1d_view"]) == pytest.approx(int(link["value"]), abs=1)
