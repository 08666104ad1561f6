"""Conformance: X's official Ads API SDK (`twitter-ads`, which speaks version 11 and signs
with requests-oauthlib) drives the X Ads emulator over real HTTP as it would
ads-api.x.com: accounts and campaigns with cursor paging, synchronous stats, an
asynchronous job from creation to its gzipped file, and X's error envelope and limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from twitter_ads import http as sdk_http
from twitter_ads.campaign import Campaign
from twitter_ads.client import Client
from twitter_ads.enum import ENTITY, GRANULARITY, METRIC_GROUP, PLACEMENT
from twitter_ads.error import BadRequest, Forbidden, NotAuthorized, RateLimit

from metrics_connect.networks.twitter_ads.emulator.app import XAdsEmulator
from metrics_connect.networks.twitter_ads.emulator.auth import DEMO_TOKEN_SECRET
from metrics_connect.networks.twitter_ads.emulator.data import (
    account_day,
    campaign_day,
    campaigns_of,
)
from metrics_connect.networks.twitter_ads.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.oauth_server import sandbox_client
from metrics_connect.sandbox.oauth.serve import serve_in_background
from metrics_connect.sandbox.registry import SandboxNetwork

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
ACCOUNT = "18ce54d4x5t"
GROUPS = [METRIC_GROUP.ENGAGEMENT, METRIC_GROUP.BILLING]


@pytest.fixture(scope="module")
def emulator() -> XAdsEmulator:
    return XAdsEmulator()


@pytest.fixture(scope="module")
def served(emulator: XAdsEmulator) -> Iterator[tuple[SandboxNetwork, str]]:
    network = build_sandbox(emulator=emulator)
    network.controls.clock.set(NOW)
    server = serve_in_background(network.app, lifespan="off")
    try:
        yield network, server.base_url
    finally:
        server.stop()


@pytest.fixture
def client(served: tuple[SandboxNetwork, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    network, base_url = served
    network.controls.calls.reset()
    monkeypatch.setattr(sdk_http.Request, "_DEFAULT_DOMAIN", base_url)
    key, secret = sandbox_client("x_login")
    yield Client(key, secret, DEMO_ACCESS_TOKEN, DEMO_TOKEN_SECRET)


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, tzinfo=UTC)  # São Paulo: UTC-3


def test_accounts_and_campaigns_page_with_cursors(client: Client) -> None:
    account = client.accounts(ACCOUNT)
    assert (account.name, account.timezone) == ("Acme Coffee - X Ads", "America/Sao_Paulo")
    assert [a.id for a in client.accounts()] == [ACCOUNT, "18ce55cbbxv"]
    names = [c.name for c in account.campaigns(count=2, with_deleted=True)]
    assert names == [c.name for c in campaigns_of(ACCOUNT)]  # four pages of two
    assert [f.currency for f in account.funding_instruments()] == ["BRL"]


def test_synchronous_campaign_stats_are_the_raw_days(client: Client) -> None:
    account = client.accounts(ACCOUNT)
    running = [c for c in campaigns_of(ACCOUNT) if c.end is None][:3]
    ids = [c.id for c in running]
    start = date(2026, 11, 1)
    data = Campaign.all_stats(
        account,
        ids,
        GROUPS,
        start_time=local_midnight(start),
        end_time=local_midnight(start + timedelta(days=7)),
        granularity=GRANULARITY.DAY,
        placement=PLACEMENT.ALL_ON_TWITTER,
    )
    assert [d["id"] for d in data] == ids
    for entity, campaign in zip(data, running, strict=True):
        metrics = entity["id_data"][0]["metrics"]
        days = [campaign_day(ACCOUNT, campaign, start + timedelta(days=i)) for i in range(7)]
        assert metrics["impressions"] == [d["impressions"] for d in days]
        spend = [d["billed_charge_local_micro"] for d in days]
        assert metrics["billed_charge_local_micro"] == spend
        assert "video_total_views" not in metrics  # VIDEO not asked: only its groups' metrics
        assert metrics["card_engagements"] is None  # no data over the span: null


def test_an_async_job_runs_from_creation_to_its_gzipped_file(
    client: Client, served: tuple[SandboxNetwork, str]
) -> None:
    account = client.accounts(ACCOUNT)
    start, end = date(2026, 8, 1), date(2026, 10, 30)  # 90 days: beyond a sync call
    job = Campaign.queue_async_stats_job(
        account,
        [ACCOUNT],
        GROUPS,
        entity=ENTITY.ACCOUNT,
        start_time=local_midnight(start),
        end_time=local_midnight(end),
        granularity=GRANULARITY.DAY,
        placement=PLACEMENT.ALL_ON_TWITTER,
    )
    jobs = list(Campaign.async_stats_job_result(account, job_ids=[job.id]))
    assert [(j.id, j.status) for j in jobs] == [(job.id, "SUCCESS")]
    body = Campaign.async_stats_job_data(account, url=jobs[0].url)
    series = body["data"][0]["id_data"][0]["metrics"]["engagements"]
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    assert series == [account_day(ACCOUNT, d)["engagements"] for d in days]
    assert served[0].controls.calls.by_endpoint["download"] == 1


def test_xs_error_envelope_reaches_the_sdks_errors(
    client: Client, served: tuple[SandboxNetwork, str]
) -> None:
    account = client.accounts(ACCOUNT)
    start = date(2026, 11, 1)
    with pytest.raises(BadRequest) as too_long:
        Campaign.all_stats(
            account,
            [campaigns_of(ACCOUNT)[0].id],
            GROUPS,
            start_time=local_midnight(start),
            end_time=local_midnight(start + timedelta(days=8)),
            granularity=GRANULARITY.DAY,
        )
    assert too_long.value.details[0]["code"] == "INVALID_TIME_WINDOW"
    switches = served[0].controls.switches
    switches.rate_limit_next, switches.retry_after_seconds = 1, 60
    with pytest.raises(RateLimit) as limited:
        client.accounts(ACCOUNT)
    assert int(limited.value.reset_at) == int(NOW.timestamp()) + 60
    assert limited.value.details[0]["code"] == "TOO_MANY_REQUESTS"
    switches.retry_after_seconds = 1
    for tokens, error in (
        (switches.expired_tokens, NotAuthorized),
        (switches.revoked_tokens, Forbidden),
    ):
        tokens.add(DEMO_ACCESS_TOKEN)
        try:
            with pytest.raises(error):
                client.accounts(ACCOUNT)
        finally:
            tokens.discard(DEMO_ACCESS_TOKEN)
    forged = Client(*sandbox_client("x_login"), DEMO_ACCESS_TOKEN, "not-the-secret")
    with pytest.raises(NotAuthorized) as unsigned:
        forged.accounts(ACCOUNT)
    assert unsigned.value.details[0]["code"] == "UNAUTHORIZED_ACCESS"
