"""One sandbox ActiveCampaign account per module and an integration connected to it
(its first sync, the backfill, shared by the module's tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from metrics_connect.engine.records import parse_instant
from metrics_connect.networks.active_campaign.emulator.data import ActiveCampaignData
from metrics_connect.networks.active_campaign.emulator.network import build_sandbox
from metrics_connect.sandbox.registry import SandboxNetwork
from tests.networks.connected import (
    ConnectedNetwork,
    SharedClock,
    connected_network,
    frozen_clock,
    module_settings,
)
from tests.networks.widgets import Periods

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ZONE = ZoneInfo("America/Chicago")
PERIODS = Periods(date(2026, 11, 19))
BASE_URL = "http://activecampaign.test"


@dataclass
class Connected(ConnectedNetwork):
    data: ActiveCampaignData

    def live(self, name: str) -> list[dict[str, Any]]:
        return [f for _, f in self.data.live(name, self.clock.current)]


def in_period(value: Any, start: date = PERIODS.start, end: date = PERIODS.end) -> bool:
    instant = parse_instant(value)
    return instant is not None and start <= instant.astimezone(ZONE).date() <= end


@pytest.fixture(scope="module")
def sandbox_clock() -> Iterator[tuple[SandboxNetwork, SharedClock]]:
    sandbox = build_sandbox()
    with frozen_clock(sandbox, NOW) as shared:
        yield sandbox, shared


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ac(
    sandbox_clock: tuple[SandboxNetwork, SharedClock],
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Connected]:
    sandbox, shared = sandbox_clock
    settings = module_settings(
        tmp_path_factory.mktemp("ac"), sqlite_template, active_campaign_api_base_url=BASE_URL
    )
    async with connected_network(
        Connected, "active_campaign", sandbox, shared, settings, PERIODS
    ) as ac:
        yield ac
