"""Schemathesis against the service's own OpenAPI schema, with valid tokens, over a real
loopback server: no 5xx for any generated request, and every documented response
conforms to the schema (body and content type)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from metrics_connect.api.app import create_app
from metrics_connect.db.migrate import upgrade
from metrics_connect.runtime import Runtime
from metrics_connect.settings import Settings
from tests.reliability.conftest import LONG, create_tenant, scaled
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


@pytest.fixture(scope="module")
def live_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    path: Path = tmp_path_factory.mktemp("conformance") / "service.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    seeding = Runtime.from_settings(service_settings(url))

    async def seed() -> dict[str, str]:
        tenant = await create_tenant(seeding)
        await seeding.db.dispose()
        return tenant.headers

    headers = asyncio.run(seed())
    port = free_port()
    app = create_app(settings=service_settings(url))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "service did not start"
    yield LiveService(f"http://127.0.0.1:{port}", headers)
    server.should_exit = True
    thread.join(timeout=10)


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
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
