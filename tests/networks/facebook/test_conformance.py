"""The Pages emulator driven by Meta's official SDK (`facebook-business`) over real HTTP:
the Page token, Page Insights, published posts and reels through the SDK's cursors, their
insights, batches and errors as the SDK reads them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from facebook_business.adobjects.advideo import AdVideo
from facebook_business.adobjects.page import Page
from facebook_business.adobjects.pagepost import PagePost
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from metrics_connect.networks.facebook.emulator.network import PageSandboxNetwork, build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN, FACEBOOK_PAGE_ID
from metrics_connect.sandbox.oauth.serve import serve_in_background
from tests.conformance.conftest import NOW

Served = tuple[PageSandboxNetwork, str]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    network = build_sandbox()
    network.controls.clock.set(NOW)
    server = serve_in_background(network.app, lifespan="off")
    try:
        yield network, server.base_url
    finally:
        server.stop()


def sdk_api(base_url: str, token: str) -> FacebookAdsApi:
    session = FacebookSession(access_token=token)
    session.GRAPH = base_url
    return FacebookAdsApi(session, "v27.0")


def page_api(served: Served) -> FacebookAdsApi:
    network, base_url = served
    return sdk_api(base_url, str(network.demo_account.credentials["page_access_token"]))


def test_the_page_token_comes_from_the_users_token(served: Served) -> None:
    network, base_url = served
    user = Page(FACEBOOK_PAGE_ID, api=sdk_api(base_url, DEMO_ACCESS_TOKEN))
    token = user.api_get(fields=["access_token"])["access_token"]
    assert token == network.demo_account.credentials["page_access_token"]
    with pytest.raises(FacebookRequestError) as refused:
        user.get_insights(params={"metric": ["page_follows"]})
    assert refused.value.api_error_code() == 210
    counts = Page(FACEBOOK_PAGE_ID, api=page_api(served)).api_get(
        fields=["followers_count", "fan_count"]
    )
    today = network.data.days.day_of(NOW)
    assert counts["followers_count"] == network.data.followers(today)
    assert counts["fan_count"] == network.data.likes(today)


def test_page_insights_by_day_and_for_the_exact_period(served: Served) -> None:
    network, _ = served
    data = network.data
    first, end = date(2026, 11, 1), date(2026, 11, 8)
    since, until = (int(data.days.day_start(d).timestamp()) for d in (first, end))
    page = Page(FACEBOOK_PAGE_ID, api=page_api(served))
    params: dict[str, Any] = {
        "metric": ["page_media_view", "page_follows"],
        "period": "day",
        "since": since,
        "until": until,
    }
    series = {m["name"]: m["values"] for m in page.get_insights(params=params)}
    assert [v["value"] for v in series["page_media_view"]] == [
        data.views(first.replace(day=d))["total"] for d in range(1, 8)
    ]
    assert series["page_follows"][-1]["value"] == data.followers(date(2026, 11, 7))
    assert (
        series["page_follows"][0]["end_time"] == "2026-11-02T08:00:00+0000"
    )  # PST (UTC-8) midnight
    params = {
        "metric": ["page_total_media_view_unique"],
        "period": "total_over_range",
        "since": since,
        "until": until,
    }
    (total,) = page.get_insights(params=params)
    week = [date(2026, 11, d) for d in range(1, 8)]
    assert total["values"][0]["value"] == data.unique_viewers(week)["total"]
    assert total["values"][0]["value"] < sum(data.viewers(d)["total"] for d in week)


def test_retired_metrics_and_long_windows_are_refused_as_graph_errors(served: Served) -> None:
    page = Page(FACEBOOK_PAGE_ID, api=page_api(served))
    for metric in ("page_fans", "page_impressions", "page_impressions_unique"):
        with pytest.raises(FacebookRequestError) as retired:
            page.get_insights(params={"metric": [metric], "period": "day"})
        assert retired.value.api_error_code() == 100
        assert "valid insights metric" in retired.value.api_error_message()
    with pytest.raises(FacebookRequestError) as too_long:
        page.get_insights(
            params={"metric": ["page_media_view"], "since": "2026-01-01", "until": "2026-06-01"}
        )
    assert "90 days" in too_long.value.api_error_message()


def test_posts_and_reels_page_through_cursors_with_their_insights(served: Served) -> None:
    network, _ = served
    api = page_api(served)
    page = Page(FACEBOOK_PAGE_ID, api=api)
    posts = list(page.get_published_posts(fields=["id", "created_time"], params={"limit": 25}))
    assert [p["id"] for p in posts] == [c.id for c in network.data.published("post", NOW)]
    newest = network.data.published("post", NOW)[0]
    insights = PagePost(posts[0]["id"], api=api).get_insights(
        params={"metric": ["post_total_media_view_unique", "post_clicks"]}
    )
    values = {i["name"]: i["values"][0]["value"] for i in insights}
    assert values == {
        "post_total_media_view_unique": newest.at(NOW)["reach"],
        "post_clicks": newest.at(NOW)["clicks"],
    }
    reels = list(page.get_video_reels(fields=["id"], params={"limit": 100}))
    assert len(reels) == len(network.data.published("reel", NOW))
    plays = AdVideo(reels[0]["id"], api=api).get_video_insights(
        params={"metric": ["blue_reels_play_count"]}
    )
    assert plays[0]["values"][0]["value"] == network.data.published("reel", NOW)[0].at(NOW)["plays"]


def test_a_batch_of_post_insights(served: Served) -> None:
    network, _ = served
    api = page_api(served)
    batch = api.new_batch()
    seen: list[int] = []
    failures: list[Any] = []
    posts = network.data.published("post", NOW)[:3]
    for post in posts:
        PagePost(post.id, api=api).get_insights(
            params={"metric": ["post_media_view"]},
            batch=batch,
            success=lambda r: seen.append(r.json()["data"][0]["values"][0]["value"]),
            failure=failures.append,
        )
    PagePost("1_2", api=api).get_insights(
        params={"metric": ["post_media_view"]},
        batch=batch,
        success=seen.append,
        failure=failures.append,
    )
    assert batch.execute() is None
    assert seen == [p.at(NOW)["views"] for p in posts]
    assert len(failures) == 1 and failures[0].error().api_error_code() == 100
