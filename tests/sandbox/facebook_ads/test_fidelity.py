"""Issue 13, point 4: the Marketing API emulator answers as Meta documents in December
2026: no reach with breakdowns for queries starting over 13 months ago (synchronous), the
opt-in breakdowns of 2026-08-03, creative URLs in object_story_spec, fields that only
some ad accounts have."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx

from metrics_connect.networks.facebook_ads.emulator.app import FacebookAdsEmulator
from metrics_connect.sandbox.accounts import AD_ACCOUNT_ID
from metrics_connect.sandbox.registry import SandboxNetwork

FIELDS = "impressions,reach,frequency,cpp,spend"


def _range(since: str, until: str) -> str:
    return json.dumps({"since": since, "until": until})


async def _rows(graph: httpx.AsyncClient, version: str = "", **params: Any) -> list[dict[str, Any]]:
    path = (
        f"http://graph.test/{version}/{AD_ACCOUNT_ID}/insights"
        if version
        else f"{AD_ACCOUNT_ID}/insights"
    )
    r = await graph.get(path, params={"fields": FIELDS, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["data"])


async def test_reach_with_breakdowns_older_than_13_months_is_omitted(
    graph: httpx.AsyncClient, emulator: FacebookAdsEmulator
) -> None:
    # Clock: 2026-01-15. A query starting 2024-10-01 (15 months back) with a breakdown.
    old = _range("2024-10-01", "2024-10-31")
    rows = await _rows(graph, time_range=old, breakdowns="age")
    assert rows and all("impressions" in r for r in rows)
    assert not any({"reach", "frequency", "cpp"} & set(r) for r in rows)
    # Without breakdowns, or starting within 13 months, reach is there.
    assert all("reach" in r for r in await _rows(graph, time_range=old))
    recent = _range("2025-01-01", "2025-01-31")
    assert all("reach" in r for r in await _rows(graph, time_range=recent, breakdowns="age"))
    # An async report run still answers it.
    run = await graph.post(
        f"{AD_ACCOUNT_ID}/insights", data={"fields": FIELDS, "time_range": old, "breakdowns": "age"}
    )
    run_id = run.json()["report_run_id"]
    for _ in range(emulator.switches.async_polls_to_complete):
        await graph.get(run_id)
    answered = (await graph.get(f"{run_id}/insights")).json()["data"]
    assert answered and all("reach" in r for r in answered)


async def test_opt_in_breakdowns_answer_nothing_without_the_accounts_opt_in(
    network: SandboxNetwork, graph: httpx.AsyncClient, emulator: FacebookAdsEmulator
) -> None:
    month = _range("2026-08-01", "2026-08-31")
    network.controls.clock.set(datetime(2026, 12, 2, 15, tzinfo=UTC))
    assert not emulator.switches.breakdowns_opted_in  # the demo account has not opted in
    for breakdown in (
        "impression_device",
        "hourly_stats_aggregated_by_audience_time_zone",
        "publisher_platform,impression_device",
    ):
        url = f"http://graph.test/v27.0/{AD_ACCOUNT_ID}/insights"
        r = await graph.get(url, params={"time_range": month, "breakdowns": breakdown})
        assert r.status_code == 200 and r.json()["data"] == [], breakdown
    assert await _rows(
        graph,
        "v27.0",
        time_range=month,
        breakdowns="hourly_stats_aggregated_by_advertiser_time_zone",
    )
    emulator.switches.breakdowns_opted_in = True
    assert await _rows(graph, "v27.0", time_range=month, breakdowns="impression_device")
    # Before 2026-08-03 nobody needed to opt in.
    emulator.switches.breakdowns_opted_in = False
    network.controls.clock.set(datetime(2026, 7, 20, 15, tzinfo=UTC))
    assert await _rows(
        graph,
        "v27.0",
        time_range=_range("2026-07-01", "2026-07-10"),
        breakdowns="impression_device",
    )


async def test_creative_urls_live_in_the_story_spec(graph: httpx.AsyncClient) -> None:
    r = await graph.get(
        f"{AD_ACCOUNT_ID}/ads",
        params={"fields": "creative{object_type,link_url,object_story_spec}", "limit": "100"},
    )
    ads = r.json()["data"]
    kinds = set()
    for ad in ads:
        creative = ad["creative"]
        assert "link_url" not in creative  # empty for link and video ads: not returned
        spec = creative["object_story_spec"]
        if creative["object_type"] == "VIDEO":
            assert spec["video_data"]["call_to_action"]["value"]["link"].startswith("https://")
        else:
            assert spec["link_data"]["link"].startswith("https://")
        kinds.add(creative["object_type"])
    assert {"VIDEO", "PHOTO"} <= kinds


async def test_account_specific_fields_are_refused_unless_the_account_has_them(
    graph: httpx.AsyncClient, emulator: FacebookAdsEmulator
) -> None:
    params = {"fields": "spend,adjusted_offline_purchase", "date_preset": "last_7d"}
    refused = await graph.get(f"{AD_ACCOUNT_ID}/insights", params=params)
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith(
        "(#100) adjusted_offline_purchase is not valid for fields param"
    )
    emulator.switches.account_fields.add("adjusted_offline_purchase")
    assert (await graph.get(f"{AD_ACCOUNT_ID}/insights", params=params)).status_code == 200
