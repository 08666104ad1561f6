"""POST /metrics/get-data: 422 naming each invalid path, 404 and 409 for the integration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from metrics_connect.accounts import service
from metrics_connect.accounts.models import Customer
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.conftest import Tenant


def widget(wid: str = "w1", **extra: Any) -> dict[str, Any]:
    return {
        "id": wid,
        "reference_key": "ig:replies",
        "component": "number_v1",
        "metrics": ["replies"],
        "dimensions": ["stories"],
        **extra,
    }


def body(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "customer_integration": "00000000-0000-0000-0000-000000000000",
        "start": "2026-01-01",
        "end": "2026-01-31",
        "metrics": [widget()],
    }
    base.update(overrides)
    return base


async def post(client: httpx.AsyncClient, tenant: Tenant, payload: Any) -> httpx.Response:
    return await client.post("/metrics/get-data", json=payload, headers=tenant.headers)


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (body(metrics=[widget(str(i)) for i in range(201)]), "metrics"),
        (body(metrics=[]), "metrics"),
        (body(metrics=[widget("a"), widget("b"), widget("a")]), "metrics.2.id"),
        (body(start="2026-02-01", end="2026-01-01"), "end"),
        (body(comparison_start="2025-01-01"), "comparison_end"),
        (body(comparison_end="2025-01-01"), "comparison_start"),
        (body(start="2020-01-01", end="2026-01-01"), "end"),
        (body(start="yesterday"), "start"),
        (body(metrics=[widget(), widget("x", metrics="reach")]), "metrics.1.metrics"),
        (
            body(
                metrics=[
                    widget(),
                    widget("2"),
                    widget("3"),
                    {"component": "number_v1", "metrics": []},
                ]
            ),
            "metrics.3.id",
        ),
        (body(metrics=[widget(entity_type="page")]), "metrics.0.entity_type"),
        (
            {"start": "2026-01-01", "end": "2026-01-02", "metrics": [widget()]},
            "customer_integration",
        ),
    ],
)
async def test_invalid_fields_answer_422_naming_their_path(
    client: httpx.AsyncClient, tenant: Tenant, payload: dict[str, Any], path: str
) -> None:
    response = await post(client, tenant, payload)
    assert response.status_code == 422, response.text
    assert path in response.json()["errors"], response.json()


async def test_malformed_json_is_422(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        "/metrics/get-data",
        content=b"{not json",
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422


@pytest.fixture
async def integration_of(runtime: Runtime) -> Callable[..., Any]:
    async def make(tenant: Tenant, status: str = "active") -> str:
        async with runtime.db.session() as session:
            from sqlalchemy import select

            customer = await session.scalar(
                select(Customer).where(Customer.uuid == tenant.customer_uuid)
            )
            assert customer is not None
            integration = await service.create_integration(
                session,
                runtime.vault,
                customer,
                slug="instagram_business",
                source_name="acme",
                external_id="1",
                credentials={"access_token": "x"},
            )
            integration.status = status
            await session.commit()
            return integration.uuid

    return make


async def test_another_customers_integration_is_404(
    client: httpx.AsyncClient, make_tenant: Callable[..., Any], integration_of: Callable[..., Any]
) -> None:
    mine, theirs = await make_tenant("A"), await make_tenant("B")
    uuid = await integration_of(theirs)
    response = await post(client, mine, body(customer_integration=uuid))
    assert response.status_code == 404


async def test_inactive_integration_is_409_with_status(
    client: httpx.AsyncClient, tenant: Tenant, integration_of: Callable[..., Any]
) -> None:
    uuid = await integration_of(tenant, status="expired")
    response = await post(client, tenant, body(customer_integration=uuid))
    assert response.status_code == 409
    assert response.json()["status"] == "expired"


async def test_max_range_follows_the_setting(
    sqlite_url: str, settings_factory: Callable[..., Settings], make_tenant: Callable[..., Any]
) -> None:
    from metrics_connect.api.app import create_app

    runtime = Runtime.from_settings(settings_factory(sqlite_url, max_range_days=10))
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        async with runtime.db.session() as session:
            m = await service.create_merchant(session, runtime.vault, runtime.settings, "M")
            c = await service.create_customer(
                session, runtime.settings, m.record, "C", is_paying=True
            )
            await session.commit()
        headers = {"Authorization": f"Bearer {m.token}", "x-customer-token": c.token}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.post(
                "/metrics/get-data",
                json=body(start="2026-01-01", end="2026-01-11"),
                headers=headers,
            )
            assert response.status_code == 422
            assert "end" in response.json()["errors"]
            response = await client.post(
                "/metrics/get-data",
                json=body(start="2026-01-01", end="2026-01-10"),
                headers=headers,
            )
            assert response.status_code == 404  # valid body; the integration does not exist


async def test_extra_widget_keys_and_datetimes_are_accepted(
    client: httpx.AsyncClient, tenant: Tenant, integration_of: Callable[..., Any]
) -> None:
    uuid = await integration_of(tenant)
    payload = body(
        customer_integration=uuid,
        start="2026-01-01T10:00:00Z",
        end="2026-01-02 23:00:00",
        metrics=[
            widget(
                added_date="2024-05-27",
                formatting_function="x",
                calculated=True,
                chart_type="bar",
                custom={"custom_period": "30ED"},
                type="total",
                dimensions=["stories"],
                sort=["-reach"],
            ),
            widget("w2", reference_key="fb:page_fans", metrics=["page_fans"], dimensions=[]),
        ],
    )
    response = await client.post(
        "/metrics/get-data", json=payload, headers=tenant.headers, params={"explain": "true"}
    )
    assert response.status_code == 200, response.text
    explain = response.json()["explain"]
    assert explain["widgets"]["w1"]["metrics"][0]["source"]["dataset"] == "stories"
    assert explain["widgets"]["w2"]["error"]["code"] == "unknown_reference_key"


async def test_needs_both_tokens(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post("/metrics/get-data", json=body(), headers=tenant.merchant_headers)
    assert response.status_code == 401
