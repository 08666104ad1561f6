"""Schemathesis against the service's own OpenAPI schema, with valid tokens, over a real
loopback server: no 5xx for any generated request, and every documented response
conforms to the schema (body and content type)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from bench.widgets import predefined_widgets
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import update

from metrics_connect.accounts.models import Merchant
from metrics_connect.api.app import create_app
from metrics_connect.catalog.loader import get_catalog
from metrics_connect.db.migrate import upgrade
from metrics_connect.demo.seed import seed_demo
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import build_sandbox
from metrics_connect.settings import Settings
from tests.reliability.conftest import LONG, SLUG, create_tenant, scaled
from tests.reliability.gate import free_port

KEY = Fernet.generate_key().decode()


def service_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        credentials_key=KEY,
        sync_enabled=False,
        log_level="WARNING",
        public_base_url="http://127.0.0.1",
    )


# The schema as the service publishes it (building the app opens no connection).
schema = schemathesis.openapi.from_dict(
    create_app(settings=service_settings("sqlite:///:memory:")).openapi()
)
if not LONG:
    # The coverage phase (every boundary of every field) is the long version's job.
    schema.config.phases.update(phases=["examples", "fuzzing"])


@dataclass
class LiveService:
    base_url: str
    headers: dict[str, str]
    # The demo tenant's Instagram integration on an emulator (for generated widgets).
    demo_headers: dict[str, str]
    integration: str


def serve_in_thread(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "server did not start"
    return server, thread, port


@pytest.fixture(scope="module")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    path: Path = tmp_path_factory.mktemp("conformance") / "service.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    sandbox = build_sandbox(SLUG)
    sandbox_server, sandbox_thread, sandbox_port = serve_in_thread(sandbox.app)
    settings = service_settings(url).model_copy(
        update={"instagram_api_base_url": f"http://127.0.0.1:{sandbox_port}"}
    )
    seeding = Runtime.from_settings(settings)

    async def seed() -> tuple[dict[str, str], dict[str, str], str]:
        tenant = await create_tenant(seeding)
        demo = await seed_demo(seeding, KEY, {SLUG: sandbox.demo_account})
        async with seeding.db.session() as session:
            await session.execute(
                update(Merchant)
                .where(Merchant.uuid == demo.merchant_uuid)
                .values(rate_limit_per_second=100_000, rate_limit_per_minute=1_000_000)
            )
            await session.commit()
        await seeding.db.dispose()
        demo_headers = {
            "Authorization": f"Bearer {demo.merchant_token}",
            "x-customer-token": demo.customer_token,
        }
        return tenant.headers, demo_headers, demo.integrations[SLUG]

    headers, demo_headers, integration = asyncio.run(seed())
    server, thread, port = serve_in_thread(create_app(settings=settings))
    yield LiveService(f"http://127.0.0.1:{port}", headers, demo_headers, integration)
    for running, worker in ((server, thread), (sandbox_server, sandbox_thread)):
        running.should_exit = True
        worker.join(timeout=10)


@schema.parametrize()
@settings(
    max_examples=scaled(3, 100),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_and_schema_conformance(
    case: schemathesis.Case, live_service: LiveService
) -> None:
    case.call_and_validate(
        base_url=live_service.base_url,
        headers=live_service.headers,
        timeout=30,
        # status_code_conformance: every status answered is one the operation declares.
        checks=[
            not_a_server_error,
            status_code_conformance,
            response_schema_conformance,
            content_type_conformance,
        ],
    )


@schema.include(path="/metrics/get-data", method="POST").parametrize()
@settings(
    max_examples=scaled(15, 200),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_generated_widgets_on_a_real_integration(
    case: schemathesis.Case, live_service: LiveService
) -> None:
    # Whatever widgets the schema allows, against a connected integration over one
    # fixed week (so the store answers after the first fetch): never a 5xx.
    if isinstance(case.body, dict):
        case.body["customer_integration"] = live_service.integration
        case.body["start"], case.body["end"] = "2026-10-01", "2026-10-07"
        case.body.pop("comparison_start", None)
        case.body.pop("comparison_end", None)
    case.call_and_validate(
        base_url=live_service.base_url,
        headers=live_service.demo_headers,
        timeout=60,
        checks=[
            not_a_server_error,
            status_code_conformance,
            response_schema_conformance,
            content_type_conformance,
        ],
    )


# Widgets close to what clients send: predefined ones, and mixes of the catalog's own
# metrics, dimensions and components (valid names, arbitrary combinations).
CATALOG = get_catalog(SLUG)
assert CATALOG is not None
METRIC_NAMES = sorted(CATALOG.doc.metrics)
DIMENSION_NAMES = sorted(CATALOG.doc.dimensions)
PREDEFINED = predefined_widgets()
WIDGET_CODES = {
    "unknown_reference_key",
    "unknown_metric",
    "unknown_dimension",
    "unsupported_combination",
    "upstream_error",
    "upstream_rate_limited",
    "integration_expired",
    "integration_revoked",
    "data_not_available",
}

mixed_widget = st.fixed_dictionaries(
    {
        "reference_key": st.sampled_from(
            ["ig:custom", "ga4:sessions", *(w["reference_key"] for w in PREDEFINED[:20])]
        ),
        "component": st.sampled_from(list(CATALOG.doc.components)),
        "metrics": st.lists(
            st.sampled_from(METRIC_NAMES + [f"{m}:average" for m in METRIC_NAMES[:10]]),
            min_size=1,
            max_size=3,
        ),
        "dimensions": st.lists(st.sampled_from(DIMENSION_NAMES), max_size=2),
    }
)
any_widget = st.one_of(st.sampled_from(PREDEFINED), mixed_widget)
periods = st.sampled_from(
    [
        ("2026-10-01", "2026-10-07", None, None),
        ("2026-10-01", "2026-10-07", "2026-09-24", "2026-09-30"),
        ("2024-01-01", "2024-01-31", None, None),
        ("2026-11-01", "2026-11-27", "2026-10-01", "2026-10-27"),
    ]
)


@given(widgets=st.lists(any_widget, min_size=1, max_size=5), period=periods)
@settings(
    max_examples=scaled(10, 150),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_catalog_widget_mixes_answer_or_fail_precisely(
    widgets: list[dict[str, Any]],
    period: tuple[str, str, str | None, str | None],
    live_service: LiveService,
) -> None:
    start, end, comparison_start, comparison_end = period
    body: dict[str, Any] = {
        "customer_integration": live_service.integration,
        "start": start,
        "end": end,
        "metrics": [{**w, "id": f"w{i}"} for i, w in enumerate(widgets)],
    }
    if comparison_start:
        body |= {"comparison_start": comparison_start, "comparison_end": comparison_end}
    response = httpx.post(
        f"{live_service.base_url}/metrics/get-data",
        json=body,
        headers=live_service.demo_headers,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {f"w{i}" for i in range(len(widgets))}
    for value in answer.values():
        if "error" in value:
            assert value["error"]["code"] in WIDGET_CODES, value
            assert value["error"]["message"]
