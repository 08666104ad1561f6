"""A Graph batch endpoint that fails on every try (the whole POST answered 5xx or 429
until the retry budget is spent) leaves each item with a classified error, never an
unexpected exception that would surface as a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from metrics_connect.connectors.base import ConnectorContext, UpstreamError
from metrics_connect.connectors.kit.calls import Call as BatchItem
from metrics_connect.connectors.kit.meta_graph.client import GraphClient
from metrics_connect.networks.instagram_business.connector.hooks import STREAMS
from metrics_connect.settings import Settings


def graph_client(handler: Any) -> GraphClient:
    settings = Settings(upstream_retry_budget_seconds=0.3, credentials_key="unused")
    ctx = ConnectorContext(
        integration_uuid="i",
        external_id="17841400000000001",
        credentials={"access_token": "sandbox-token"},
        timezone="America/Sao_Paulo",
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        base_url="http://graph.test",
        settings=settings,
    )
    return GraphClient(ctx, STREAMS)


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (500, {"error": {"message": "An unknown error occurred", "code": 1}}, "upstream_error"),
        (
            400,
            {"error": {"message": "Application request limit reached", "code": 4}},
            "upstream_rate_limited",
        ),
    ],
)
async def test_batch_failing_on_every_try_gives_each_item_its_error(
    status: int, body: dict[str, Any], code: str
) -> None:
    calls = 0

    def handler(_request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, json=body)

    client = graph_client(handler)
    items = [BatchItem("17841400000000001/insights", {"metric": "views"}) for _ in range(3)]
    answers = await client.batch(items)
    await client.ctx.http.aclose()
    assert calls >= 1
    assert len(answers) == 3
    assert all(isinstance(a, UpstreamError) and a.code == code for a in answers), answers
