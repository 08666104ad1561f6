"""The Pinterest Ads connector's own rules: the rate-limit headers pace the next call,
and the report flow's polls and download follow its creation."""

from __future__ import annotations

import time

import httpx

from metrics_connect.connectors.base import ConnectorContext
from metrics_connect.networks.pinterest_ads.connector.hooks import PinterestAdsConnector
from metrics_connect.settings import Settings


def connector(answer: httpx.MockTransport) -> PinterestAdsConnector:
    ctx = ConnectorContext(
        integration_uuid="t",
        external_id="549755885175",
        credentials={"access_token": "sandbox-t"},
        timezone="UTC",
        http=httpx.AsyncClient(transport=answer),
        base_url="http://pinterest.test",
        settings=Settings(upstream_retry_budget_seconds=3.0),
    )
    return PinterestAdsConnector(ctx)


async def test_an_exhausted_window_holds_the_next_call_until_its_reset() -> None:
    moments: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        moments.append(time.monotonic())
        headers = {"X-RateLimit-Limit": "1000", "X-RateLimit-Reset": "0.4"}
        headers["X-RateLimit-Remaining"] = "0" if len(moments) == 1 else "999"
        return httpx.Response(200, json={"id": "549755885175"}, headers=headers)

    pinterest = connector(httpx.MockTransport(answer))
    for _ in range(3):
        await pinterest.client.get("/v5/ad_accounts/549755885175", {})
    assert moments[1] - moments[0] >= 0.39  # waited for the window's reset
    assert moments[2] - moments[1] < 0.3  # then no more: calls were left
