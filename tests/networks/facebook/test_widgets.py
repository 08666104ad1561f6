"""Every predefined Facebook Pages widget through POST /metrics/get-data on an integration
connected to the emulator, and the non-additive figures checked against its raw data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from metrics_connect.networks.facebook.emulator.network import PageSandboxNetwork, build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.settings import Settings
from metrics_connect.sync.service import load_integration
from tests.conftest import connect_account
from tests.networks.connected import ConnectedNetwork, connected_network, frozen_clock
from tests.networks.widgets import (
    Periods,
    get_data,
    numbered,
    reference_widget,
    reference_widgets,
    widget_errors,
)

NOW = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles
PERIODS = Periods(date(2026, 11, 20))  # today: insights up to yesterday, counts now
START, END = PERIODS.start, PERIODS.end
LAST = END - timedelta(days=1)  # the last complete day: insights end there
# "Now" counts (the Page's fan_count) exist for a past period only once archived.
SNAPSHOTS = {"fb:likes"}


@dataclass
class Connected(ConnectedNetwork):
    pass


@pytest.fixture(scope="module")
def network() -> PageSandboxNetwork:
    return build_sandbox()


@pytest.fixture
async def page(
    network: PageSandboxNetwork,
    sqlite_url: str,
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[Connected]:
    settings = settings_factory(sqlite_url, facebook_api_base_url="http://pages.test")
    with frozen_clock(network, NOW) as shared:
        async with connected_network(
            Connected, "facebook", network, shared, settings, PERIODS
        ) as connection:
            yield connection


def widget(reference_key: str, **overrides: Any) -> dict[str, Any]:
    return reference_widget("facebook", reference_key, **overrides)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


async def test_every_predefined_widget_answers_without_error(page: Connected) -> None:
    widgets = numbered(reference_widgets("facebook"))
    assert len(widgets) == 40
    result = await page.get_data(widgets)
    assert widget_errors(result, widgets) == {}
    for w in widgets:
        body = result[w["id"]]
        if w["component"] in ("number_v1", "iconsList_v1"):
            assert body["values"] is not None, w["reference_key"]
            if w["reference_key"] not in SNAPSHOTS and w["component"] == "number_v1":
                assert body["comparison"]["values"] is not None, w["reference_key"]
        else:
            assert body["values"], w["reference_key"]
            assert "comparison" in body, w["reference_key"]


def in_period(connected: Connected, kind: str) -> list[dict[str, int]]:
    """The raw figures, as of NOW, of the posts or reels published on START..END."""
    data = connected.data
    items = data.published(kind, NOW)
    return [c.at(NOW) for c in items if START <= data.days.day_of(c.created) <= END]


async def test_page_reach_is_the_unique_viewers_of_the_exact_period(page: Connected) -> None:
    result = await page.get_data([widget("fb:page_reach"), widget("fb:reach_over_time")])
    period = days(START, LAST)
    unique = page.data.unique_viewers(period)
    assert result["fb:page_reach"]["values"] == unique["total"]
    # Never the sum of the days' viewers (they overlap).
    assert unique["total"] < sum(page.data.viewers(d)["total"] for d in period)
    before = days(PERIODS.comparison_start, PERIODS.comparison_end)
    assert (
        result["fb:page_reach"]["comparison"]["values"] == page.data.unique_viewers(before)["total"]
    )
    chart = result["fb:reach_over_time"]
    at = chart["labels"].index(LAST.isoformat())
    viewers = page.data.viewers(LAST)
    assert [series["data"][at] for series in chart["values"]] == [viewers["0"], viewers["1"]]


async def test_follows_are_stocks_and_net_follows_sums(page: Connected) -> None:
    keys = ("fb:page_follows", "fb:net_likes", "fb:page_reach_by_country")
    result = await page.get_data([widget(k) for k in keys], comparison=False)
    assert result["fb:page_follows"]["values"] == page.data.followers(LAST)
    net = sum(
        page.data.daily("follows", d) - page.data.daily("unfollows", d) for d in days(START, LAST)
    )
    assert result["fb:net_likes"]["values"] == net
    rows = {r[0]: r[1] for r in result["fb:page_reach_by_country"]["values"] if r[0] != "Total"}
    assert rows == page.data.located("country", LAST)


async def test_ratios_come_from_summed_parts(page: Connected) -> None:
    keys = ("fb:page_post_rate_engagements", "fb:post_video_avg_time_watched")
    result = await page.get_data([widget(k) for k in keys], comparison=False)
    posts = in_period(page, "post")
    engagements = sum(
        sum(v for k, v in p.items() if k.startswith("reaction_"))
        + p["comments"]
        + p["shares"]
        + p["clicks"]
        for p in posts
    )
    rate = result["fb:page_post_rate_engagements"]["values"]
    assert rate == pytest.approx(engagements / sum(p["reach"] for p in posts) * 100, abs=1e-4)
    reels = in_period(page, "reel")
    watched = sum(r["plays"] * r["avg_watch_ms"] for r in reels) / sum(r["plays"] for r in reels)
    average = result["fb:post_video_avg_time_watched"]["values"]
    assert average == pytest.approx(watched, rel=1e-6)
    assert average != pytest.approx(sum(r["avg_watch_ms"] for r in reels) / len(reels), rel=1e-4)


async def test_reaction_icons_sum_the_posts_reactions_by_type(page: Connected) -> None:
    result = await page.get_data([widget("fb:page_posts_reactions")], comparison=False)
    icons = {i["label"]: i["value"] for i in result["fb:page_posts_reactions"]["values"]}
    posts = in_period(page, "post")
    labels = {
        "Like": "like",
        "Love": "love",
        "Haha": "haha",
        "Wow": "wow",
        "Sad": "sorry",
        "Angry": "anger",
    }
    assert icons == {label: sum(p[f"reaction_{k}"] for p in posts) for label, k in labels.items()}


async def test_posts_table_splits_reach_by_ads(page: Connected) -> None:
    result = await page.get_data([widget("fb:page_posts")], comparison=False)
    body = result["fb:page_posts"]
    posts = in_period(page, "post")
    assert len([r for r in body["values"] if r[0] != "Total"]) == len(posts)
    column = {h: i for i, h in enumerate(body["headers"])}
    top = max(posts, key=lambda p: p["reach"])
    first = body["values"][0]
    assert first[column["Total Reach"]] == top["reach"]
    assert first[column["Organic Reach"]] == top["reach_organic"]
    assert first[column["Paid Reach"]] == top["reach_paid"]


@pytest.mark.parametrize(
    ("switch", "code"),
    [("revoked_tokens", "integration_revoked"), ("expired_tokens", "integration_expired")],
)
async def test_revoked_and_expired_page_tokens_answer_integration_errors(
    page: Connected, network: PageSandboxNetwork, switch: str, code: str
) -> None:
    tokens: set[str] = getattr(network.controls.switches, switch)
    token = str(network.demo_account.credentials["page_access_token"])
    tokens.add(token)
    try:
        result = await page.get_data([widget("fb:page_impressions")], comparison=False)
    finally:
        tokens.discard(token)
    assert result["fb:page_impressions"]["error"]["code"] == code


async def test_a_login_token_is_swapped_for_the_page_token_once_and_kept(
    page: Connected, network: PageSandboxNetwork
) -> None:
    account = await connect_account(
        page.runtime,
        "facebook",
        network.demo_account,
        credentials={"access_token": DEMO_ACCESS_TOKEN},
    )
    network.controls.calls.reset()
    result = await get_data(
        page.client,
        account.headers,
        account.integration_uuid,
        [widget("fb:page_impressions"), widget("fb:page_posts_count"), widget("fb:page_reach")],
        PERIODS,
        comparison=False,
    )
    assert result["fb:page_impressions"]["values"] == sum(
        page.data.views(d)["total"] for d in days(START, LAST)
    )
    assert network.controls.calls.by_endpoint["page"] == 1
    integration = await load_integration(page.runtime, account.integration_uuid)
    assert integration is not None
    saved = page.runtime.vault.decrypt_json(integration.credentials_encrypted)
    assert saved["page_access_token"] == network.demo_account.credentials["page_access_token"]
    assert saved["access_token"] == DEMO_ACCESS_TOKEN


async def test_explain_lists_the_insights_calls_fetch_makes(
    page: Connected, network: PageSandboxNetwork
) -> None:
    keys = ("fb:page_impressions", "fb:page_reach", "fb:reach_over_time", "fb:page_follows")
    widgets = [widget(k) for k in keys]
    body = {
        "customer_integration": page.integration_uuid,
        "start": START.isoformat(),
        "end": END.isoformat(),
        "comparison_start": PERIODS.comparison_start.isoformat(),
        "comparison_end": PERIODS.comparison_end.isoformat(),
        "metrics": widgets,
    }
    network.controls.calls.reset()
    response = await page.client.post(
        "/metrics/get-data?explain=true", json=body, headers=page.headers
    )
    assert response.status_code == 200, response.text
    explain = response.json()["explain"]
    assert network.controls.calls.total == 0
    await page.get_data(widgets)
    # Daily series (plain and by is_from_ads) and the two exact-period figures, per period.
    assert explain["upstream_calls"] == network.controls.calls.total == 8
