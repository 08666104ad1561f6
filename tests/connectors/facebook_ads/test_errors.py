"""Marketing API failures: rate limits backed off and retried, tokens and permissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from metrics_connect.connectors.base import (
    FetchRequest,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamRateLimited,
)
from metrics_connect.networks.facebook_ads.connector.hooks import FacebookAdsConnector
from metrics_connect.sandbox.accounts import DEMO_ACCESS_TOKEN
from metrics_connect.sandbox.registry import SandboxNetwork

REQUEST = FetchRequest("insights_daily", date(2025, 12, 1), date(2025, 12, 3))


async def test_rate_limit_bursts_and_5xx_are_retried(
    connector: FacebookAdsConnector, network: SandboxNetwork
) -> None:
    network.controls.switches.rate_limit_next = 2
    result = await connector.fetch(REQUEST)
    assert len(result.rows) == 3
    assert network.controls.calls.by_endpoint["GET insights"] == 3
    network.controls.switches.server_error_ratio = 0.5
    assert len((await connector.fetch(REQUEST)).rows) == 3


async def test_persistent_rate_limit_gives_up_within_the_budget(
    make_connector: Callable[..., FacebookAdsConnector], network: SandboxNetwork
) -> None:
    connector = make_connector(upstream_retry_budget_seconds=0.5)
    network.controls.switches.rate_limit_ratio = 1.0
    with pytest.raises(UpstreamRateLimited) as raised:
        await connector.fetch(REQUEST)
    assert raised.value.upstream_code == 80000


async def test_regain_access_estimate_beyond_the_budget_stops_at_once(
    connector: FacebookAdsConnector, network: SandboxNetwork
) -> None:
    from metrics_connect.networks.facebook_ads.emulator.network import emulator_of

    emulator_of(network).switches.regain_access_minutes = 5
    network.controls.switches.rate_limit_next = 1
    with pytest.raises(UpstreamRateLimited) as raised:
        await connector.fetch(REQUEST)
    assert raised.value.retry_after == 300
    assert network.controls.calls.total == 1


async def test_expired_and_revoked_tokens(
    connector: FacebookAdsConnector, network: SandboxNetwork
) -> None:
    network.controls.switches.expired_tokens.add(DEMO_ACCESS_TOKEN)
    with pytest.raises(IntegrationExpired):
        await connector.fetch(REQUEST)
    network.controls.switches.expired_tokens.clear()
    network.controls.switches.revoked_tokens.add(DEMO_ACCESS_TOKEN)
    with pytest.raises(IntegrationRevoked):
        await connector.fetch(REQUEST)
