"""Upstream faults from the emulator: rate-limit bursts, 5xx, expired and revoked tokens,
bad parameters; and what gets logged (never the token)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from metrics_connect.connectors.base import (
    FetchRequest,
    IntegrationExpired,
    IntegrationRevoked,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTransient,
)
from metrics_connect.connectors.kit.calls import Call as BatchItem
from metrics_connect.networks.instagram_business.connector.hooks import InstagramConnector
from metrics_connect.networks.instagram_business.emulator.network import InstagramSandboxNetwork

TOKEN = "sandbox-faults-token"


async def test_a_burst_of_429_still_ends_correct_within_the_budget(
    make_connector: Callable[..., InstagramConnector], network: InstagramSandboxNetwork
) -> None:
    connector = make_connector(upstream_retry_budget_seconds=15.0)
    today = connector.today()
    start, end = today - timedelta(days=10), today - timedelta(days=1)
    network.controls.switches.rate_limit_next = 5  # codes 4, 17, 32, 613, 80002 in turn
    started = time.monotonic()
    result = await connector.fetch(FetchRequest("account_period", start, end))
    assert time.monotonic() - started < 15.0
    assert network.controls.switches.rate_limit_next == 0
    assert result.rows[0].values["reach"] == network.sandbox.period_total("reach", start, end)


async def test_rate_limited_items_of_a_batch_are_retried(
    make_connector: Callable[..., InstagramConnector], network: InstagramSandboxNetwork
) -> None:
    connector = make_connector()
    today = connector.today()
    network.controls.switches.rate_limit_ratio = 0.2
    result = await connector.fetch(FetchRequest("media", today - timedelta(days=20), today))
    network.controls.switches.rate_limit_ratio = 0.0
    assert result.objects and all("reach" in o.values for o in result.objects)


async def test_endless_rate_limits_give_up_at_the_budget(
    make_connector: Callable[..., InstagramConnector], network: InstagramSandboxNetwork
) -> None:
    connector = make_connector(upstream_retry_budget_seconds=1.0)
    network.controls.switches.rate_limit_next = 10_000
    started = time.monotonic()
    with pytest.raises(UpstreamRateLimited) as caught:
        await connector.fetch(
            FetchRequest("followers_snapshot", connector.today(), connector.today())
        )
    assert time.monotonic() - started < 3.0
    assert caught.value.code == "upstream_rate_limited"


async def test_server_errors_retry_then_fail_as_transient(
    make_connector: Callable[..., InstagramConnector], network: InstagramSandboxNetwork
) -> None:
    connector = make_connector(upstream_retry_budget_seconds=0.5)
    network.controls.switches.server_error_ratio = 1.0
    with pytest.raises(UpstreamTransient):
        await connector.account_info()
    network.controls.switches.server_error_ratio = 0.0
    assert (await connector.account_info()).name == "acmecoffee"


async def test_expired_token_is_integration_expired_and_never_logged(
    make_connector: Callable[..., InstagramConnector],
    network: InstagramSandboxNetwork,
    caplog: pytest.LogCaptureFixture,
) -> None:
    connector = make_connector(token=TOKEN)
    network.controls.switches.expired_tokens.add(TOKEN)
    caplog.set_level(logging.WARNING, logger="metrics_connect.networks.instagram_business")
    today = connector.today()
    with pytest.raises(IntegrationExpired) as caught:
        await connector.fetch(FetchRequest("account_daily", today - timedelta(days=5), today))
    assert caught.value.code == "integration_expired" and caught.value.upstream_code == 190
    failures = [r for r in caplog.records if r.getMessage() == "instagram upstream failure"]
    assert failures and failures[0].graph_code == 190  # type: ignore[attr-defined]
    assert failures[0].integration_uuid == "test-integration"  # type: ignore[attr-defined]
    assert failures[0].endpoint.endswith("/insights")  # type: ignore[attr-defined]
    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(vars(r)) for r in caplog.records)


async def test_revoked_permission_is_integration_revoked(
    make_connector: Callable[..., InstagramConnector], network: InstagramSandboxNetwork
) -> None:
    connector = make_connector(token=TOKEN)
    network.controls.switches.revoked_tokens.add(TOKEN)
    today = connector.today()
    with pytest.raises(IntegrationRevoked):
        await connector.fetch(FetchRequest("media", today - timedelta(days=5), today))


async def test_bad_parameters_fail_with_the_upstream_message(
    connector: InstagramConnector,
) -> None:
    with pytest.raises(UpstreamError) as caught:
        await connector.client.get(
            f"{connector.account_node}/insights", {"metric": "no_such_metric", "period": "day"}
        )
    assert type(caught.value) is UpstreamError
    assert caught.value.code == "upstream_error" and caught.value.upstream_code == 100
    assert "no_such_metric" in caught.value.message or "(#100)" in caught.value.message


async def test_usage_near_the_quota_slows_the_next_call_down() -> None:
    import json as _json

    import httpx
    from cryptography.fernet import Fernet

    from metrics_connect.connectors.base import ConnectorContext
    from metrics_connect.connectors.kit.meta_graph.client import GraphClient
    from metrics_connect.networks.instagram_business.connector.hooks import STREAMS
    from metrics_connect.settings import Settings

    usage = {"17841400000000001": [{"type": "instagram", "call_count": 97, "total_time": 10}]}

    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"x-business-use-case-usage": _json.dumps(usage)}
        return httpx.Response(200, json={"id": "1"}, headers=headers)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        ctx = ConnectorContext(
            "i",
            "1",
            {"access_token": "t"},
            "UTC",
            http,
            "http://graph.test",
            Settings(credentials_key=Fernet.generate_key().decode()),
        )
        client = GraphClient(ctx, STREAMS)
        await client.get("1", {})
        assert client.pause_seconds > 0
        started = time.monotonic()
        await client.get("1", {})
        assert time.monotonic() - started >= 0.45
        usage["17841400000000001"][0]["call_count"] = 20
        await client.get("1", {})
        assert client.pause_seconds == 0


async def test_a_refused_snapshot_variant_leaves_the_others(
    connector: InstagramConnector,
    network: InstagramSandboxNetwork,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    today = connector.today()
    followers = FetchRequest("followers_snapshot", today, today)
    gender = FetchRequest("audience_snapshot", today, today, breakdowns=("gender",))
    refused = FetchRequest("audience_snapshot", today, today, breakdowns=("country",))
    real_item = connector.batch_item

    def item(request: FetchRequest) -> BatchItem:
        made = real_item(request)
        if request is refused:  # a breakdown Graph does not know: (#100) for this one
            return BatchItem(made.path, {**made.params, "breakdown": "shoe_size"})
        return made

    monkeypatch.setattr(connector, "batch_item", item)
    results = await connector.fetch_in_one_batch([followers, gender, refused])
    assert results[0].rows[0].values["followers_count"] == network.sandbox.followers_count()
    assert {r.keys["gender"] for r in results[1].rows} == set(
        network.sandbox.demographics("gender")
    )
    assert results[2].rows == []
