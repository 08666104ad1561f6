"""Conformance: Meta's official Python SDK (`facebook-business`) drives the Graph
emulators as it would graph.facebook.com: the calls our connectors make (insights with
breakdowns and time increments, object listings with cursor paging, async report runs,
batches, Instagram user and media insights) and the common ones of a user's script. The
SDK sends list parameters as JSON arrays and reads Graph's error envelope."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import httpx
import pytest
from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.adobjects.campaign import Campaign
from facebook_business.adobjects.igmedia import IGMedia
from facebook_business.adobjects.iguser import IGUser
from facebook_business.exceptions import FacebookRequestError

from metrics_connect.networks.facebook_ads.emulator.network import emulator_of
from metrics_connect.sandbox.accounts import AD_ACCOUNT_ID, DEMO_ACCESS_TOKEN, INSTAGRAM_USER_ID
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.conformance.conftest import sdk_api

Served = tuple[SandboxNetwork, SandboxNetwork, str, str]
TIME_RANGE = {"since": "2026-11-01", "until": "2026-11-10"}


def _raw(base_url: str, path: str, **params: Any) -> Any:
    """The same call made by hand with comma-separated lists (what the connectors send)."""
    query = {"access_token": DEMO_ACCESS_TOKEN, **params}
    return httpx.get(f"{base_url}/v26.0/{path}", params=query, timeout=30).json()


def test_sdk_default_version_is_served(served: Served) -> None:
    _, _, ads_url, ig_url = served
    api = sdk_api(ads_url)
    assert api.API_VERSION == "v26.0"  # facebook-business 26.0.3
    account = AdAccount(AD_ACCOUNT_ID, api=api).api_get(fields=["name", "currency"])
    assert account["name"] and account["currency"]
    user = IGUser(INSTAGRAM_USER_ID, api=sdk_api(ig_url)).api_get(fields=["username"])
    assert user["username"]


def test_account_insights_with_breakdowns_and_time_increment(served: Served) -> None:
    _, _, ads_url, _ = served
    account = AdAccount(AD_ACCOUNT_ID, api=sdk_api(ads_url, "v27.0"))
    fields = ["campaign_id", "impressions", "spend", "clicks", "actions"]
    params = {
        "time_range": TIME_RANGE,
        "time_increment": 1,
        "breakdowns": ["age", "gender"],
        "level": "campaign",
    }
    rows = [dict(r) for r in account.get_insights(fields=fields, params=params)]
    assert rows, "no insights rows"
    days = {r["date_start"] for r in rows}
    assert days <= {str(date(2026, 11, d)) for d in range(1, 11)}
    assert all(r["date_start"] == r["date_stop"] for r in rows)
    assert {"age", "gender", "campaign_id"} <= set(rows[0])
    by_hand = _raw(
        ads_url,
        f"{AD_ACCOUNT_ID}/insights",
        fields=",".join(fields),
        time_range='{"since":"2026-11-01","until":"2026-11-10"}',
        time_increment="1",
        breakdowns="age,gender",
        level="campaign",
        limit="5000",
    )["data"]
    assert sorted(rows, key=str) == sorted(by_hand, key=str)


def test_campaigns_page_through_cursors(served: Served) -> None:
    ads, _, ads_url, _ = served
    account = AdAccount(AD_ACCOUNT_ID, api=sdk_api(ads_url))
    cursor = account.get_campaigns(fields=["name", "status"], params={"limit": 2})
    names = [c["name"] for c in cursor]
    everything = _raw(ads_url, f"{AD_ACCOUNT_ID}/campaigns", fields="name", limit="100")
    assert names == [c["name"] for c in everything["data"]]
    assert len(names) > 2  # more than one page was read
    active = account.get_campaigns(fields=["name"], params={"effective_status": ["ACTIVE"]})
    assert {c["name"] for c in active} <= set(names)


def test_async_report_run(served: Served) -> None:
    ads, _, ads_url, _ = served
    account = AdAccount(AD_ACCOUNT_ID, api=sdk_api(ads_url))
    params = {"time_range": TIME_RANGE, "time_increment": 1, "level": "ad"}
    run = account.get_insights(fields=["ad_id", "spend"], params=params, is_async=True)
    assert isinstance(run, AdReportRun)
    for _ in range(20):
        run.api_get()
        if run[AdReportRun.Field.async_status] == "Job Completed":
            break
        time.sleep(0.01)
    assert run[AdReportRun.Field.async_percent_completion] == 100
    rows = list(run.get_result(params={"limit": 50}))
    assert rows and all("ad_id" in r for r in rows)
    assert emulator_of(ads).report_runs


def test_batch_of_object_reads(served: Served) -> None:
    _, _, ads_url, _ = served
    api = sdk_api(ads_url)
    ids = [c["id"] for c in AdAccount(AD_ACCOUNT_ID, api=api).get_campaigns(fields=["id"])][:3]
    batch = api.new_batch()
    seen: list[str] = []
    failures: list[Any] = []
    for campaign_id in ids:
        Campaign(campaign_id, api=api).api_get(
            fields=["name"],
            batch=batch,
            success=lambda r: seen.append(r.json()["id"]),
            failure=failures.append,
        )
    Campaign("999", api=api).api_get(
        fields=["name"], batch=batch, success=seen.append, failure=failures.append
    )
    assert batch.execute() is None
    assert seen == ids
    assert len(failures) == 1 and failures[0].error().api_error_code() == 100


def test_errors_reach_the_sdk_as_graph_errors(served: Served) -> None:
    _, _, ads_url, ig_url = served
    with pytest.raises(FacebookRequestError) as expired:
        AdAccount(AD_ACCOUNT_ID, api=sdk_api(ads_url, "v24.0")).api_get(fields=["name"])
    assert expired.value.api_error_code() == 2635
    assert "deprecated version of the Ads API" in expired.value.api_error_message()
    with pytest.raises(FacebookRequestError) as unknown:
        sdk_api(ig_url).call("GET", (INSTAGRAM_USER_ID, "insights", "reach", "more"))
    assert unknown.value.api_error_code() == 2500
    with pytest.raises(FacebookRequestError) as bad_field:
        AdAccount(AD_ACCOUNT_ID, api=sdk_api(ads_url)).get_insights(fields=["nope"])
    assert bad_field.value.api_error_code() == 100


def test_instagram_user_insights(served: Served) -> None:
    _, instagram, _, ig_url = served
    api = sdk_api(ig_url, "v27.0")
    sandbox = instagram.sandbox
    first = date(2026, 11, 20)
    since = int(sandbox.day_start(first).timestamp())
    until = int(sandbox.day_start(date(2026, 11, 27)).timestamp())
    params = {"metric": ["reach"], "period": ["day"], "since": since, "until": until}
    series = list(IGUser(INSTAGRAM_USER_ID, api=api).get_insights(params=params))
    values = series[0]["values"]
    assert len(values) == 7
    assert values[0]["value"] == sandbox.daily_value("reach", first)
    # The same through the generic Graph request (any path, JSON-encoded lists).
    generic = api.call(
        "GET",
        (INSTAGRAM_USER_ID, "insights"),
        params={
            "metric": ["reach", "likes"],
            "period": "day",
            "metric_type": "total_value",
            "breakdown": ["media_product_type"],
            "since": since,
            "until": until,
        },
    ).json()
    totals = {m["name"]: m["total_value"]["value"] for m in generic["data"]}
    assert totals["reach"] == sandbox.period_total("reach", first, date(2026, 11, 26))


def test_instagram_media_paging_and_media_insights(served: Served) -> None:
    _, instagram, _, ig_url = served
    api = sdk_api(ig_url)
    user = IGUser(INSTAGRAM_USER_ID, api=api)
    media = list(
        user.get_media(fields=["id", "timestamp", "media_product_type"], params={"limit": 50})
    )
    sandbox = instagram.sandbox
    assert [m["id"] for m in media] == [m.id for m in sandbox.media()]
    feed = next(m for m in media if m["media_product_type"] == "FEED")
    insights = list(
        IGMedia(feed["id"], api=api).get_insights(params={"metric": ["reach", "saved"]})
    )
    assert {i["name"] for i in insights} == {"reach", "saved"}
