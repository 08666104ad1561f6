"""Both LinkedIn emulators driven by LinkedIn's own client, linkedin-api-client (its
Rest.li 2.0 encoding of finders, dates, lists and URNs, its version and protocol
headers), pointed at loopback: paths, parameters, answers and error envelopes are what
that client sends and reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

pytest.importorskip("linkedin_api")

from linkedin_api.clients.restli.client import RestliClient  # noqa: E402
from linkedin_api.common import constants  # noqa: E402

from metrics_connect.networks.linkedin.emulator.network import (  # noqa: E402
    build_sandbox as build_pages,
)
from metrics_connect.networks.linkedin_ads.emulator.network import (  # noqa: E402
    build_sandbox as build_ads,
)
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN  # noqa: E402
from metrics_connect.sandbox.oauth.serve import serve_in_background  # noqa: E402
from metrics_connect.sandbox.registry import SandboxNetwork  # noqa: E402

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
VERSION = "202607"
ACCOUNT = "urn:li:sponsoredAccount:510000001"
ORGANIZATION = "urn:li:organization:2414183"


def served(network: SandboxNetwork) -> Iterator[tuple[SandboxNetwork, RestliClient]]:
    network.controls.clock.set(NOW)
    running = serve_in_background(network.app)
    saved = constants.VERSIONED_BASE_URL
    constants.VERSIONED_BASE_URL = f"{running.base_url}/rest"
    try:
        yield network, RestliClient()
    finally:
        constants.VERSIONED_BASE_URL = saved
        running.stop()


@pytest.fixture(scope="module")
def ads() -> Iterator[tuple[SandboxNetwork, RestliClient]]:
    yield from served(build_ads())


@pytest.fixture(scope="module")
def pages() -> Iterator[tuple[SandboxNetwork, RestliClient]]:
    yield from served(build_pages())


def date_range(first: date, last: date) -> dict[str, Any]:
    return {
        "start": {"year": first.year, "month": first.month, "day": first.day},
        "end": {"year": last.year, "month": last.month, "day": last.day},
    }


def test_ad_analytics_finder_by_day(ads: tuple[SandboxNetwork, RestliClient]) -> None:
    network, client = ads
    response = client.finder(
        resource_path="/adAnalytics",
        finder_name="analytics",
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
        query_params={
            "pivot": "ACCOUNT",
            "timeGranularity": "DAILY",
            "dateRange": date_range(date(2026, 10, 1), date(2026, 10, 31)),
            "accounts": [ACCOUNT],
            "fields": "dateRange,pivotValues,impressions,clicks,costInLocalCurrency",
        },
    )
    assert response.status_code == 200, response.response.text
    assert len(response.elements) == 31
    first = response.elements[0]
    assert first["pivotValues"] == [ACCOUNT]
    assert first["dateRange"]["start"] == {"year": 2026, "month": 10, "day": 1}
    data = network.emulator.data
    raw = data.totals(list(data.creatives), date(2026, 10, 1), date(2026, 10, 1))
    assert first["impressions"] == raw["impressions"] > 0
    assert float(first["costInLocalCurrency"]) == pytest.approx(
        raw["costInLocalCurrency"], abs=0.01
    )


def test_statistics_finder_with_two_pivots(ads: tuple[SandboxNetwork, RestliClient]) -> None:
    _, client = ads
    response = client.finder(
        resource_path="/adAnalytics",
        finder_name="statistics",
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
        query_params={
            "pivots": ["CAMPAIGN_GROUP", "CAMPAIGN"],
            "timeGranularity": "ALL",
            "dateRange": date_range(date(2026, 9, 1), date(2026, 9, 30)),
            "accounts": [ACCOUNT],
            "fields": "pivotValues,impressions,approximateMemberReach",
        },
    )
    assert response.status_code == 200, response.response.text
    pairs = [tuple(e["pivotValues"]) for e in response.elements]
    assert all(g.startswith("urn:li:sponsoredCampaignGroup:") for g, _ in pairs)
    assert all(c.startswith("urn:li:sponsoredCampaign:") for _, c in pairs)
    assert all(e["approximateMemberReach"] > 0 for e in response.elements)


def test_too_many_metrics_and_a_sunset_version_are_refused(
    ads: tuple[SandboxNetwork, RestliClient],
) -> None:
    _, client = ads
    params = {
        "pivot": "ACCOUNT",
        "timeGranularity": "ALL",
        "dateRange": date_range(date(2026, 9, 1), date(2026, 9, 30)),
        "accounts": [ACCOUNT],
    }
    many = ",".join(["impressions"] * 21)
    refused = client.finder(
        resource_path="/adAnalytics",
        finder_name="analytics",
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
        query_params={**params, "fields": many},
    )
    assert refused.status_code == 400
    assert "20 metrics" in refused.response.json()["message"]
    sunset = client.finder(
        resource_path="/adAnalytics",
        finder_name="analytics",
        access_token=DEMO_ACCESS_TOKEN,
        version_string="202510",
        query_params=params,
    )
    assert sunset.status_code == 426
    assert sunset.response.json()["code"] == "NONEXISTENT_VERSION"


def test_campaign_search_and_account_get(ads: tuple[SandboxNetwork, RestliClient]) -> None:
    _, client = ads
    campaigns = client.finder(
        resource_path="/adAccounts/{id}/adCampaigns",
        path_keys={"id": 510000001},
        finder_name="search",
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
        query_params={"pageSize": 4},
    )
    assert campaigns.status_code == 200, campaigns.response.text
    assert len(campaigns.elements) == 4
    # 0.3.0 reads `metadata` with getattr on the decoded dict (always None): the raw body.
    assert campaigns.response.json()["metadata"]["nextPageToken"] == "4"
    account = client.get(
        resource_path="/adAccounts/{id}",
        path_keys={"id": 510000001},
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
    )
    assert account.entity["currency"] == "BRL"


def test_an_expired_token_answers_linkedins_envelope(
    ads: tuple[SandboxNetwork, RestliClient],
) -> None:
    network, client = ads
    network.controls.switches.expired_tokens.add(DEMO_ACCESS_TOKEN)
    try:
        answer = client.get(
            resource_path="/adAccounts/{id}",
            path_keys={"id": 510000001},
            access_token=DEMO_ACCESS_TOKEN,
            version_string=VERSION,
        )
    finally:
        network.controls.switches.expired_tokens.discard(DEMO_ACCESS_TOKEN)
    assert answer.status_code == 401
    assert answer.response.json()["serviceErrorCode"] == 65602


def test_follower_and_share_statistics_by_day(pages: tuple[SandboxNetwork, RestliClient]) -> None:
    network, client = pages
    start = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
    end = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp() * 1000)
    intervals = {"timeRange": {"start": start, "end": end}, "timeGranularityType": "DAY"}
    data = network.emulator.data
    followers = client.finder(
        resource_path="/organizationalEntityFollowerStatistics",
        finder_name="organizationalEntity",
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
        query_params={"organizationalEntity": ORGANIZATION, "timeIntervals": intervals},
    )
    assert followers.status_code == 200, followers.response.text
    assert len(followers.elements) == 31
    gains = followers.elements[0]["followerGains"]
    assert (gains["organicFollowerGain"], gains["paidFollowerGain"]) == data.follower_gains(
        date(2026, 10, 1)
    )
    shares = client.finder(
        resource_path="/organizationalEntityShareStatistics",
        finder_name="organizationalEntity",
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
        query_params={"organizationalEntity": ORGANIZATION, "timeIntervals": intervals},
    )
    first = shares.elements[0]["totalShareStatistics"]
    assert first["impressionCount"] == data.share_day(date(2026, 10, 1))["impressionCount"]


def test_time_bound_statistics_older_than_12_months_are_refused(
    pages: tuple[SandboxNetwork, RestliClient],
) -> None:
    _, client = pages
    start = int(datetime(2025, 10, 1, tzinfo=UTC).timestamp() * 1000)
    end = int(datetime(2025, 11, 1, tzinfo=UTC).timestamp() * 1000)
    refused = client.finder(
        resource_path="/organizationPageStatistics",
        finder_name="organization",
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
        query_params={
            "organization": ORGANIZATION,
            "timeIntervals": {
                "timeRange": {"start": start, "end": end},
                "timeGranularityType": "DAY",
            },
        },
    )
    assert refused.status_code == 400


def test_network_size_and_posts(pages: tuple[SandboxNetwork, RestliClient]) -> None:
    network, client = pages
    size = client.get(
        resource_path="/networkSizes/{urn}",
        path_keys={"urn": ORGANIZATION},
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
        query_params={"edgeType": "COMPANY_FOLLOWED_BY_MEMBER"},
    )
    assert size.status_code == 200, size.response.text
    data = network.emulator.data
    assert size.entity["firstDegreeSize"] == data.followers_total(NOW.date())
    posts = client.finder(
        resource_path="/posts",
        finder_name="author",
        access_token=DEMO_ACCESS_TOKEN,
        version_string=VERSION,
        query_params={"author": ORGANIZATION, "count": 10, "start": 0},
    )
    assert posts.status_code == 200 and len(posts.elements) == 10
    assert posts.paging.total == len(data.posts_until(NOW))
