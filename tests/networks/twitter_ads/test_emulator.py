"""The X Ads emulator's own rules, as X documents them: parameter checks, granularities
summing to the same days, placements, versions, the 15-minute rate-limit window, and
the account listing the connect page runs on a fresh OAuth 1.0a token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth1Auth

from metrics_connect.networks.twitter_ads.accounts import list_accounts
from metrics_connect.networks.twitter_ads.emulator.app import XAdsEmulator
from metrics_connect.networks.twitter_ads.emulator.auth import DEMO_TOKEN_SECRET
from metrics_connect.networks.twitter_ads.emulator.data import account_day
from metrics_connect.networks.twitter_ads.emulator.network import build_sandbox
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.kit.oauth_server import sandbox_client

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ACCOUNT = "18ce54d4x5t"
BASE = "http://127.0.0.1:9"
STATS = f"/12/stats/accounts/{ACCOUNT}"
WEEK = {
    "entity": "ACCOUNT",
    "entity_ids": ACCOUNT,
    "start_time": "2026-11-01T00:00:00-03:00",
    "end_time": "2026-11-08T00:00:00-03:00",
    "granularity": "DAY",
    "metric_groups": "ENGAGEMENT,BILLING",
    "placement": "ALL_ON_TWITTER",
}


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, XAdsEmulator]]:
    emulator = XAdsEmulator()
    network = build_sandbox(emulator=emulator)
    network.controls.clock.set(NOW)
    key, secret = sandbox_client("x_login")
    auth = OAuth1Auth(key, secret, token=DEMO_ACCESS_TOKEN, token_secret=DEMO_TOKEN_SECRET)
    transport = httpx.ASGITransport(app=network.app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE, auth=auth) as client:
        yield client, emulator


def metrics(body: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = body["data"][0]["id_data"][0]["metrics"]
    return found


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"end_time": "2026-11-09T00:00:00-03:00"}, 400, "INVALID_TIME_WINDOW"),
        ({"start_time": "2026-11-01T00:00:00Z"}, 400, "INVALID_PARAMETER"),  # not local midnight
        (
            {"start_time": "2026-11-01T00:30:00-03:00", "granularity": "HOUR"},
            400,
            "INVALID_PARAMETER",
        ),
        (
            {"entity_ids": ",".join(f"c{i}" for i in range(21)), "entity": "CAMPAIGN"},
            400,
            "INVALID_PARAMETER",
        ),
        ({"entity_ids": "nope", "entity": "CAMPAIGN"}, 400, "INVALID_PARAMETER"),
        ({"metric_groups": "ENGAGEMENT,REACH"}, 400, "INVALID_PARAMETER"),
        ({"placement": ""}, 400, "MISSING_PARAMETER"),
    ],
)
async def test_parameters_are_checked_as_x_documents_them(
    api: tuple[httpx.AsyncClient, XAdsEmulator], change: dict[str, str], status: int, code: str
) -> None:
    client, _ = api
    response = await client.get(STATS, params=WEEK | change)
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code


async def test_day_hour_and_total_agree_with_the_raw_days(
    api: tuple[httpx.AsyncClient, XAdsEmulator],
) -> None:
    client, _ = api
    days = [account_day(ACCOUNT, date(2026, 11, d)) for d in range(1, 8)]
    by_day = metrics((await client.get(STATS, params=WEEK)).json())
    assert by_day["impressions"] == [d["impressions"] for d in days]
    hourly = (await client.get(STATS, params=WEEK | {"granularity": "HOUR"})).json()
    assert hourly["time_series_length"] == 7 * 24
    hours = metrics(hourly)["likes"]
    assert [sum(hours[i * 24 : (i + 1) * 24]) for i in range(7)] == [d["likes"] for d in days]
    total = metrics((await client.get(STATS, params=WEEK | {"granularity": "TOTAL"})).json())
    assert total["billed_charge_local_micro"] == [sum(d["billed_charge_local_micro"] for d in days)]
    network = metrics(
        (await client.get(STATS, params=WEEK | {"placement": "PUBLISHER_NETWORK"})).json()
    )
    assert network["impressions"] is None


async def test_versions_and_routes(api: tuple[httpx.AsyncClient, XAdsEmulator]) -> None:
    client, _ = api
    assert (await client.get(f"/11/accounts/{ACCOUNT}")).status_code == 200
    retired = await client.get(f"/10/accounts/{ACCOUNT}")
    assert retired.status_code == 404 and retired.json()["errors"][0]["code"] == "NOT_FOUND"
    unsigned = await client.get(f"/12/accounts/{ACCOUNT}", auth=None)
    assert unsigned.status_code == 401
    assert unsigned.json()["errors"][0]["code"] == "UNAUTHORIZED_ACCESS"


async def test_the_fifteen_minute_window_runs_out_then_resets(
    api: tuple[httpx.AsyncClient, XAdsEmulator],
) -> None:
    client, emulator = api
    limit = emulator.window.limit
    first = await client.get(f"/12/accounts/{ACCOUNT}")
    reset = int(first.headers["x-rate-limit-reset"])
    assert first.headers["x-rate-limit-limit"] == str(limit)
    assert first.headers["x-rate-limit-remaining"] == str(limit - 1)
    assert 0 < reset - NOW.timestamp() <= 900 and reset % 900 == 0
    for _ in range(limit - 1):
        await client.get(f"/12/accounts/{ACCOUNT}")
    refused = await client.get(f"/12/accounts/{ACCOUNT}")
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "TOO_MANY_REQUESTS"
    assert refused.headers["x-rate-limit-reset"] == str(reset)


async def test_the_connect_pages_listing_has_each_accounts_time_zone(
    api: tuple[httpx.AsyncClient, XAdsEmulator],
) -> None:
    client, _ = api
    candidates = await list_accounts(client, BASE, "", DEMO_ACCESS_TOKEN)
    assert [(c.external_id, c.timezone) for c in candidates] == [
        (ACCOUNT, "America/Sao_Paulo"),
        ("18ce55cbbxv", "Europe/Lisbon"),
    ]
