"""One sandbox ActiveCampaign account per module and an integration connected to it
(its first sync, the backfill, shared by the module's tests)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet

from metrics_connect import clock
from metrics_connect.api.app import create_app
from metrics_connect.engine.records import parse_instant
from metrics_connect.networks.active_campaign.emulator.data import ActiveCampaignData
from metrics_connect.networks.active_campaign.emulator.network import build_sandbox
from metrics_connect.runtime import Runtime
from metrics_connect.sandbox.registry import SandboxNetwork
from metrics_connect.settings import Settings
from tests.conftest import connect_account, serving
from tests.networks.widgets import Periods, get_data

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/Chicago")
PERIODS = Periods(date(2026, 11, 19))
BASE_URL = "http://activecampaign.test"


class SharedClock:
    def __init__(self, sandbox: SandboxNetwork) -> None:
        self.sandbox, self.current = sandbox, NOW
        sandbox.controls.clock.set(NOW)

    def __call__(self) -> datetime:
        return self.current

    def set(self, instant: datetime) -> None:
        self.current = instant
        self.sandbox.controls.clock.set(instant)


@dataclass
class Connected:
    client: httpx.AsyncClient
    headers: dict[str, str]
    integration_uuid: str
    data: ActiveCampaignData
    sandbox: SandboxNetwork
    clock: SharedClock
    runtime: Runtime

    async def get_data(self, widgets: list[dict[str, Any]], comparison: bool = True) -> Any:
        return await get_data(
            self.client,
            self.headers,
            self.integration_uuid,
            widgets,
            PERIODS,
            comparison=comparison,
        )

    def live(self, name: str) -> list[dict[str, Any]]:
        return [f for _, f in self.data.live(name, self.clock.current)]


def in_period(value: Any, start: date = PERIODS.start, end: date = PERIODS.end) -> bool:
    instant = parse_instant(value)
    return instant is not None and start <= instant.astimezone(ZONE).date() <= end


@pytest.fixture(scope="module")
def sandbox_clock() -> Iterator[tuple[SandboxNetwork, SharedClock]]:
    sandbox = build_sandbox()
    shared = SharedClock(sandbox)
    clock.set_clock(shared)
    yield sandbox, shared
    clock.set_clock(None)


def ac_settings(folder: Path, template: Path) -> Settings:
    shutil.copyfile(template, folder / "test.db")
    return Settings(
        database_url=f"sqlite:///{folder / 'test.db'}",
        data_dir=folder / "data",
        credentials_key=Fernet.generate_key().decode(),
        log_json=True,
        sync_enabled=False,
        public_base_url="http://testserver",
        active_campaign_api_base_url=BASE_URL,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ac(
    sandbox_clock: tuple[SandboxNetwork, SharedClock],
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Connected]:
    sandbox, shared = sandbox_clock
    settings = ac_settings(tmp_path_factory.mktemp("ac"), sqlite_template)
    runtime = Runtime.from_settings(settings)
    runtime.upstream_transports["active_campaign"] = httpx.ASGITransport(app=sandbox.app)
    async with serving(create_app(runtime=runtime)) as client:
        account = await connect_account(runtime, "active_campaign", sandbox.demo_account)
        yield Connected(
            client,
            account.headers,
            account.integration_uuid,
            sandbox.data,  # type: ignore[attr-defined]
            sandbox,
            shared,
            runtime,
        )
